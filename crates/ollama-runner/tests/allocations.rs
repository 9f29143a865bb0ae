//! The VRAM plan against what the real runtime allocates: llama-cpp-python's
//! server with the Gemma 3 270M GGUF at several contexts and cache types,
//! its allocation lines parsed from its log. Each component of the plan is
//! within 10% of the allocation, the total within 5%. The servers here run
//! on the CPU, so the plans are for a CPU device: the mapped file plus the
//! repacked copies.

#![allow(clippy::unwrap_used)] // tests fail loudly

use ollama_runner::gguf;
use ollama_runner::plan::{Device, KvType, PlanRequest, Policy, Runtime};
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

/// Each component within 10% of what was allocated, the total within 5%.
fn holds(plan: &ollama_runner::plan::Plan, a: &Allocated) {
    within("weights", plan.weights, a.weights, 0.10);
    // A CPU without the interleaved kernels (no AVX2 or NEON) repacks nothing.
    if a.repacked > 0.0 {
        within("repacked", plan.repacked, a.repacked, 0.10);
    }
    within("KV cache", plan.kv_cache, a.kv, 0.10);
    within("compute buffer", plan.compute_buffer, a.compute, 0.10);
    within("output buffer", plan.output_buffer, a.output, 0.10);
    within("total", plan.total, a.total(), 0.05);
}

#[test]
fn the_plan_matches_llama_cpp_python_allocations() {
    let Some(path) = tool("BENCH_GGUF") else { return };
    let shape = gguf::shape(&path).unwrap();
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
            policy: Policy { device: Some(Device::Cpu), ..Policy::default() },
        });
        eprintln!("ctx {ctx}, {kv_type:?}:");
        holds(&plan, &a);
        assert!(plan.fits, "1 GiB holds it, as the real server shows");
    }
}

/// llama.cpp's own log for one context, loaded through llama-cpp-python's
/// `Llama` class, which (unlike its server) lets the test choose the
/// sliding-window policy, flash attention and the micro-batch.
fn library_log(python: &std::path::Path, gguf: &std::path::Path, ctx: u64, policy: Policy) -> String {
    const SCRIPT: &str = "import sys\nfrom llama_cpp import Llama\n\
        a = sys.argv\n\
        Llama(model_path=a[1], n_ctx=int(a[2]), swa_full=a[3] == '1', flash_attn=a[4] == '1',\n\
              n_ubatch=int(a[5]), n_batch=int(a[5]), n_gpu_layers=0, verbose=True)\n";
    let flag = |b: Option<bool>| if b.unwrap_or(false) { "1" } else { "0" };
    let out = std::process::Command::new(python)
        .args(["-c", SCRIPT])
        .arg(gguf)
        .arg(ctx.to_string())
        .args([flag(policy.swa_full), flag(policy.flash_attn)])
        .arg(policy.ubatch.unwrap_or(Runtime::UBATCH).to_string())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// The policies llama-cpp-python's server does not expose: a windowed
/// sliding-window cache (llama.cpp's default), a smaller micro-batch, and
/// flash attention off at a long context, where the attention scores (not
/// the logits) set the compute buffer, and on.
#[test]
fn the_plan_follows_the_windowed_cache_the_micro_batch_and_flash_attention() {
    let (Some(python), Some(path)) = (tool("BENCH_PYTHON"), tool("BENCH_GGUF")) else { return };
    let shape = gguf::shape(&path).unwrap();
    let policy = |ubatch: u64, flash_attn: bool| Policy {
        ubatch: Some(ubatch),
        flash_attn: Some(flash_attn),
        swa_full: Some(false),
        device: Some(Device::Cpu),
        kv_unified: None,
    };
    for (ctx, policy) in [
        (4096, policy(512, false)),
        (8192, policy(256, false)),
        (65536, policy(512, false)),
        (65536, policy(512, true)),
    ] {
        let a = Allocated::parse(&library_log(&python, &path, ctx, policy));
        // The `Llama` class holds one sequence.
        let plan = shape.plan(&PlanRequest::new(4 << 30, ctx, KvType::F16, Runtime::LlamaCpp).with(policy, Some(1)));
        eprintln!("ctx {ctx}, {policy:?}:");
        holds(&plan, &a);
    }
}

/// The second architecture: SmolLM2 135M Instruct (llama, Q4_1, tied
/// embeddings, grouped-query attention with 3 KV heads), at the main job's
/// settings (4096 tokens, f16 cache) and at twice and half that.
#[test]
fn the_plan_matches_llama_cpp_python_allocations_for_smollm2() {
    let Some(path) = tool("BENCH_GGUF_SMOLLM2") else { return };
    let shape = gguf::shape(&path).unwrap();
    for ctx in [2048u64, 4096, 8192] {
        let ctx_arg = ctx.to_string();
        let Some(server) = LlamaServer::start_model("BENCH_GGUF_SMOLLM2", "smollm2", None, &["--n_ctx", &ctx_arg])
        else {
            return;
        };
        let a = Allocated::parse(&std::fs::read_to_string(&server.log).unwrap());
        drop(server);
        assert!(a.kv > 0.0 && a.compute > 0.0 && a.weights > 0.0, "ctx {ctx}: no allocation lines: {a:?}");
        let plan = shape.plan(&PlanRequest {
            vram_bytes: 1 << 30,
            ctx,
            parallel: 1,
            kv_type: KvType::F16,
            overhead_bytes: ollama_runner::PLAN_OVERHEAD,
            runtime: Runtime::LlamaCppPython,
            policy: Policy { device: Some(Device::Cpu), ..Policy::default() },
        });
        assert_eq!(plan.architecture, "llama");
        eprintln!("SmolLM2, ctx {ctx}:");
        holds(&plan, &a);
    }
}
