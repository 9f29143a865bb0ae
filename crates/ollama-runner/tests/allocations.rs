//! The VRAM plan against what the real runtime allocates: llama-cpp-python's
//! server with the Gemma 3 270M GGUF at several contexts and cache types,
//! its allocation lines parsed from its log. Each component of the plan is
//! within 10% of the allocation, the total within 5%.

#![allow(clippy::unwrap_used)] // tests fail loudly

use ollama_runner::gguf;
use ollama_runner::plan::{KvType, ModelShape, PlanRequest, Runtime};
use test_support::tools::{tool, LlamaServer};

const MIB: f64 = 1024.0 * 1024.0;

/// Bytes of every `<what> buffer size = X MiB` line (`model` lines split
/// into mapped weights and repacked copies).
#[derive(Debug, Default)]
struct Allocated {
    weights: f64,
    repacked: f64,
    kv: f64,
    compute: f64,
    output: f64,
}

impl Allocated {
    fn parse(log: &str) -> Self {
        let mut a = Allocated::default();
        for line in log.lines() {
            let Some((head, tail)) = line.split_once(" buffer size =") else { continue };
            let Some(mib) = tail.trim().strip_suffix("MiB").and_then(|n| n.trim().parse::<f64>().ok()) else {
                continue;
            };
            let bytes = mib * MIB;
            match () {
                _ if head.contains("REPACK model") => a.repacked += bytes,
                _ if head.contains("model") => a.weights += bytes,
                _ if head.contains(" KV") => a.kv += bytes,
                _ if head.contains("compute") => a.compute += bytes,
                _ if head.contains("output") => a.output += bytes,
                _ => {}
            }
        }
        a
    }

    fn total(&self) -> f64 {
        self.weights + self.repacked + self.kv + self.compute + self.output
    }
}

fn within(what: &str, planned: u64, allocated: f64, share: f64) {
    let off = (planned as f64 - allocated).abs() / allocated;
    assert!(
        off <= share,
        "{what}: planned {:.2} MiB, allocated {:.2} MiB ({:.1}% off, at most {:.0}%)",
        planned as f64 / MIB,
        allocated / MIB,
        off * 100.0,
        share * 100.0
    );
    eprintln!(
        "{what}: planned {:.2} MiB, allocated {:.2} MiB ({:+.1}%)",
        planned as f64 / MIB,
        allocated / MIB,
        (planned as f64 - allocated) / allocated * 100.0
    );
}

#[test]
fn the_plan_matches_llama_cpp_python_allocations() {
    let Some(path) = tool("BENCH_GGUF") else { return };
    let header = gguf::read_header(&path).unwrap();
    let shape = ModelShape::from_metadata(&header.metadata, header.weight_bytes()).unwrap();
    // (context, cache type, extra server arguments); a quantised V cache
    // needs flash attention in llama.cpp. ggml type 8 is q8_0.
    let settings: [(u64, KvType, &[&str]); 4] = [
        (2048, KvType::F16, &[]),
        (4096, KvType::F16, &[]),
        (8192, KvType::F16, &[]),
        (4096, KvType::Q8_0, &["--type_k", "8", "--type_v", "8", "--flash_attn", "true"]),
    ];
    for (ctx, kv_type, extra) in settings {
        let ctx_arg = ctx.to_string();
        let mut args = vec!["--n_ctx", ctx_arg.as_str()];
        args.extend_from_slice(extra);
        let Some(server) = LlamaServer::start_with(&args) else { return };
        let a = Allocated::parse(&std::fs::read_to_string(&server.log).unwrap());
        drop(server);
        assert!(a.kv > 0.0 && a.compute > 0.0 && a.weights > 0.0, "ctx {ctx} {kv_type:?}: no allocation lines: {a:?}");
        let plan = shape.plan(&PlanRequest {
            vram_bytes: 1 << 30,
            ctx,
            parallel: 1,
            kv_type,
            overhead_bytes: ollama_runner::PLAN_OVERHEAD,
            runtime: Runtime::LlamaCppPython,
        });
        eprintln!("ctx {ctx}, {kv_type:?}:");
        within("weights", plan.weights, a.weights, 0.10);
        within("KV cache", plan.kv_cache, a.kv, 0.10);
        within("compute buffer", plan.compute_buffer, a.compute, 0.10);
        within("output buffer", plan.output_buffer, a.output, 0.10);
        within("total", plan.total, a.total(), 0.05);
        assert!(plan.fits, "1 GiB holds it, as the real server shows");
    }
}
