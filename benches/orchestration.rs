//! What the runner costs around each request: HTTP to a local server that
//! answers at once (the Ollama test server), the NDJSON parse, and a durable
//! SQLite commit per result. Divided by a real request's seconds, this is the
//! orchestration overhead; the report measures the same on real runs.
//!
//! cargo bench -p benches --bench orchestration

#![allow(clippy::unwrap_used)] // tests and benches fail loudly

use bench_core::SamplingOptions;
use divan::counter::ItemsCount;
use ollama_runner::{OllamaBackend, RunConfig};

fn main() {
    divan::main();
}

const TASKS: usize = 50;

#[divan::bench(sample_count = 5)]
fn run_loop_into_sqlite(bencher: divan::Bencher<'_, '_>) {
    let server = test_support::ollama_server::FakeOllama::start();
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let set = bench_core::TaskSet {
        taskset_id: "s".into(),
        snapshot_id: "n".into(),
        rules_hash: "r".into(),
        tool_version: "0".into(),
        requested: TASKS,
        execution: None,
        novelty: None,
        tasks: test_support::tasks(TASKS),
    };
    let backend = OllamaBackend::new(&server.url()).unwrap();
    let cfg = RunConfig::new("qwen-test", SamplingOptions::default());
    bencher.counter(ItemsCount::new(TASKS)).with_inputs(|| tempfile::tempdir().unwrap()).bench_values(|dir| {
        rt.block_on(async {
            let store = result_store::Store::open(&dir.path().join("r.sqlite")).await.unwrap();
            store.put_task_set(&set).await.unwrap();
            let manifest = bench_core::RunManifest {
                taskset_id: "s".into(),
                snapshot_id: "n".into(),
                rules_hash: "r".into(),
                tool_version: "0".into(),
                driver: "native".into(),
                backend_kind: "ollama".into(),
                backend_version: None,
                endpoint: server.url(),
                endpoint_scope: bench_core::EndpointScope::Loopback,
                model: "qwen-test".into(),
                model_digest: None,
                quantization: None,
                options: SamplingOptions::default(),
                vram_plan: None,
                residency: None,
                host: "bench".into(),
                started_at: "2026-01-01T00:00:00.000Z".into(),
                finished_at: None,
                warnings: Vec::new(),
                egress: None,
                batch: None,
            };
            let run = store.create_run(&manifest).await.unwrap();
            ollama_runner::run(&backend, &set.tasks, &mut store.sink(run), &cfg, |_| {}).await.unwrap();
        });
        dir
    });
}
