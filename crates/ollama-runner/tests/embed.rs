//! The embedder's view: a run prepared and executed through the library
//! alone (plan check, manifest, any sink). The `run_tasks` example is run
//! end to end in `examples/tests/run_examples.rs`.

#![allow(clippy::unwrap_used)] // tests fail loudly

use bench_core::{SamplingOptions, TaskSet};
use ollama_runner::{AnyBackend, BackendKind, RunError, RunSpec};
use test_support::ollama_server::FakeOllama;

fn set(n: usize) -> TaskSet {
    let tasks = test_support::tasks(n);
    TaskSet {
        taskset_id: "ts".into(),
        snapshot_id: "snap".into(),
        rules_hash: "rules".into(),
        tool_version: bench_core::TOOL_VERSION.into(),
        requested: n,
        execution: None,
        novelty: None,
        tasks,
    }
}

#[tokio::test]
async fn an_overcommitted_plan_is_refused_before_any_request() {
    let server = FakeOllama::start();
    let b = AnyBackend::new(BackendKind::Ollama, &server.url()).unwrap();
    let set = set(2);
    let mut spec = RunSpec::new("qwen-test", SamplingOptions { num_ctx: 8192, ..Default::default() });
    spec.vram_bytes = Some(1 << 30);
    let err = ollama_runner::prepare(&b, &set, &spec).await.unwrap_err();
    assert!(matches!(err, RunError::PlanDoesNotFit { .. }), "{err}");
    let msg = err.to_string();
    assert!(msg.contains("qwen-test") && !msg.contains("--"), "names the model, no CLI flag: {msg}");
    assert_eq!(server.state.chat_requests.load(std::sync::atomic::Ordering::SeqCst), 0);

    // Allowed explicitly, the plan is recorded as not fitting.
    spec.allow_overcommit = true;
    let prepared = ollama_runner::prepare(&b, &set, &spec).await.unwrap();
    assert_eq!(prepared.manifest.vram_plan.as_ref().unwrap()["fits"], false);
    assert_eq!(prepared.manifest.model, "qwen-test");
    assert_eq!(prepared.manifest.taskset_id, "ts");
}

/// The plan follows what llama-server reports about itself: its slots from
/// `/props` (here 2, not the automatic 4), the runtime from its build, and
/// the weights' placement from the GGUF tensor table.
#[tokio::test]
async fn the_plan_takes_the_servers_own_slots() {
    let Some(gguf) = test_support::tools::tool("BENCH_GGUF") else { return };
    let server = test_support::props_server::FakeLlamaServer::start("gemma3", 2, "b7000-0123abc");
    let b = AnyBackend::new(BackendKind::OpenAi, &server.url()).unwrap();
    let mut spec = RunSpec::new("gemma3", SamplingOptions { num_ctx: 8192, ..Default::default() });
    (spec.vram_bytes, spec.gguf) = (Some(4 << 30), Some(gguf));
    let one = set(1);
    let prepared = ollama_runner::prepare(&b, &one, &spec).await.unwrap();
    let plan = prepared.plan.clone().unwrap();
    assert_eq!((plan.request.runtime, plan.request.parallel), (ollama_runner::plan::Runtime::LlamaCpp, 2));
    assert!(plan.request.kv_unified());
    // Gemma 3 270M: 3 global layers keep 8192 cells once, 15 sliding layers a
    // 512-token window per slot plus a micro-batch; 1 KiB per cell per layer.
    assert_eq!(plan.kv_cache, 3 * 8192 * 1024 + 15 * 1536 * 1024);
    assert!(plan.host_weights > 0, "the token embedding stays in host memory: {plan:?}");
    assert_eq!(prepared.manifest.backend_version.as_deref(), Some("llama.cpp b7000-0123abc"));
    // Set explicitly, the slots win over the server's.
    spec.parallel = Some(1);
    assert_eq!(ollama_runner::prepare(&b, &one, &spec).await.unwrap().plan.unwrap().request.parallel, 1);
}
