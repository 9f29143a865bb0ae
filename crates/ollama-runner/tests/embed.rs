//! The embedder's view: a run prepared and executed through the library
//! alone (plan check, manifest, any sink), and the `run_tasks` example run
//! end to end against the protocol-faithful Ollama server.

#![allow(clippy::unwrap_used)] // tests fail loudly

use std::path::PathBuf;
use std::process::Command;

use bench_core::{Completion, RunManifest, SamplingOptions, TaskSet};
use ollama_runner::{AnyBackend, BackendKind, RunSpec, RunnerError};
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
    assert!(matches!(err, RunnerError::PlanDoesNotFit { .. }), "{err}");
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

/// An example of this crate, built now (a filtered `cargo test` skips
/// examples), as the executable cargo reports.
fn example(name: &str) -> PathBuf {
    let out = Command::new(env!("CARGO"))
        .args(["build", "--quiet", "--message-format=json", "-p", "ollama-runner", "--example", name])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .find(|m| m["target"]["name"] == name && m["executable"].is_string())
        .map(|m| PathBuf::from(m["executable"].as_str().unwrap()))
        .unwrap_or_else(|| panic!("cargo built no executable for example {name}"))
}

#[test]
fn the_run_tasks_example_checks_the_plan_writes_json_lines_and_resumes() {
    let server = FakeOllama::start();
    let dir = tempfile::tempdir().unwrap();
    let tasks = dir.path().join("tasks.json");
    std::fs::write(&tasks, serde_json::to_string(&set(3)).unwrap()).unwrap();
    let out = dir.path().join("out.jsonl");
    let exe = example("run_tasks");
    let run = |vram: &str| {
        let o = Command::new(&exe)
            .arg(&tasks)
            .args(["ollama", &server.url(), "qwen-test"])
            .arg(&out)
            .arg(vram)
            .output()
            .unwrap();
        (
            o.status.code(),
            String::from_utf8_lossy(&o.stdout).into_owned(),
            String::from_utf8_lossy(&o.stderr).into_owned(),
        )
    };

    let (code, _, err) = run("1GiB");
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("does not fit"), "{err}");
    assert!(!out.exists(), "nothing ran");

    let (code, stdout, err) = run("32GiB");
    assert_eq!(code, Some(0), "{err}");
    assert!(stdout.starts_with("3 completed, 0 failed, 0 already done"), "{stdout}");
    assert!(err.contains("fits"), "the plan is shown: {err}");
    let lines: Vec<Completion> =
        std::fs::read_to_string(&out).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 4, "the warm-up and three tasks");
    let manifest: RunManifest =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("out.jsonl.manifest.json")).unwrap()).unwrap();
    assert!(manifest.finished_at.is_some() && manifest.vram_plan.is_some());

    let (code, stdout, _) = run("32GiB");
    assert_eq!(code, Some(0));
    assert!(stdout.starts_with("0 completed, 0 failed, 3 already done"), "{stdout}");
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
