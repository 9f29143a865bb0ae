//! Uses `ollama-runner` alone: plans VRAM for a GGUF file.
//!
//! cargo run -p examples --example plan_vram -- model.gguf 32GiB 8192 q8_0 llama-cpp-python

use ollama_runner::gguf::read_header;
use ollama_runner::plan::{parse_bytes, KvType, ModelShape, PlanRequest, Runtime};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 3 {
        eprintln!("usage: plan_vram MODEL.gguf VRAM [CTX] [KV_TYPE] [RUNTIME]");
        std::process::exit(2);
    }
    let header = read_header(std::path::Path::new(&args[1])).unwrap_or_else(|e| {
        eprintln!("error: {e}");
        std::process::exit(2);
    });
    let shape = ModelShape::from_metadata(&header.metadata, header.weight_bytes()).expect("GGUF architecture metadata");
    let request = PlanRequest {
        vram_bytes: parse_bytes(&args[2]).expect("a size such as 32GiB"),
        ctx: args.get(3).and_then(|c| c.parse().ok()).unwrap_or(8192),
        parallel: 1,
        kv_type: args.get(4).and_then(|k| KvType::parse(k)).unwrap_or(KvType::F16),
        overhead_bytes: ollama_runner::PLAN_OVERHEAD,
        runtime: args.get(5).and_then(|r| Runtime::parse(r)).unwrap_or_default(),
        policy: Default::default(),
    };
    let plan = shape.plan(&request);
    println!("{}", serde_json::to_string_pretty(&plan).expect("a plan serialises"));
    std::process::exit(if plan.fits { 0 } else { 1 });
}
