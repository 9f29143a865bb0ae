//! The Ollama backend and the run loop against a protocol-faithful local server.

#![allow(clippy::unwrap_used)] // tests and benches fail loudly

use std::collections::BTreeSet;
use std::sync::atomic::Ordering;
use std::time::Duration;

use bench_core::{Completion, FinishReason, ResultSink, SamplingOptions, SinkError};
use ollama_runner::plan::{KvType, ModelShape, PlanRequest};
use ollama_runner::{Backend, BackendError, OllamaBackend, Request, RunConfig, RunError};
use test_support::ollama_server::FakeOllama;

fn req(model: &str) -> Request {
    Request::new(
        model,
        "sys",
        "Find the bug.",
        &SamplingOptions { num_ctx: 8192, num_predict: 256, seed: 7, ..Default::default() },
    )
}

const T: Duration = Duration::from_secs(10);

#[tokio::test]
async fn a_completion_carries_text_tokens_reason_and_timings() {
    let server = FakeOllama::start();
    let b = OllamaBackend::new(&server.url()).unwrap();
    let r = b.complete(&req("qwen-test"), T).await.unwrap();
    assert!(r.text.starts_with("{\"line\": null"), "{}", r.text);
    assert_eq!(r.finish_reason, FinishReason::Stop);
    assert!(r.completion_tokens.unwrap() > 3);
    // Omitted zero metrics stay absent rather than becoming zeros.
    assert_eq!(r.prompt_tokens, None);
    assert_eq!(r.timings.load_ms, None);
    assert_eq!(r.timings.prompt_eval_ms, None);
    assert_eq!(r.timings.eval_ms, Some(400.0));
    assert_eq!(r.timings.total_ms, Some(812.0));
    assert!(r.timings.ttft_ms.is_some() && r.timings.wall_ms >= r.timings.ttft_ms.unwrap());
    let opts = server.state.options.lock().unwrap()[0].clone();
    assert_eq!(opts["temperature"], 0.0);
    assert_eq!(opts["seed"], 7);
    assert_eq!(opts["num_ctx"], 8192);
    assert_eq!(opts["num_predict"], 256);

    let r = b.complete(&req("length"), T).await.unwrap();
    assert_eq!(r.finish_reason, FinishReason::Length);
    assert!(r.prompt_tokens.is_some() && r.timings.load_ms == Some(2.0));
    assert_eq!(b.complete(&req("load"), T).await.unwrap().finish_reason, FinishReason::Load);
}

#[tokio::test]
async fn errors_name_the_model_and_endpoint() {
    let server = FakeOllama::start();
    let b = OllamaBackend::new(&server.url()).unwrap();
    let e = b.complete(&req("missing"), T).await.unwrap_err();
    assert!(matches!(e, BackendError::ModelNotFound { .. }), "{e:?}");
    let text = e.to_string();
    assert!(text.contains("missing") && text.contains(&server.url()) && text.contains("try pulling"), "{text}");
    assert!(!e.retryable());
    assert!(matches!(b.describe("missing").await.unwrap_err(), BackendError::ModelNotFound { .. }));

    let e = b.complete(&req("cut"), T).await.unwrap_err();
    assert!(matches!(e, BackendError::StreamCut { .. }), "{e:?}");
    assert!(e.retryable());

    let e = b.complete(&req("midstream-error"), T).await.unwrap_err();
    assert!(matches!(&e, BackendError::ServerError { message, .. } if message.contains("unexpected EOF")), "{e:?}");

    // A server that is down.
    let dead = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", dead.local_addr().unwrap());
    drop(dead);
    let e = OllamaBackend::new(&url).unwrap().complete(&req("qwen-test"), T).await.unwrap_err();
    assert!(matches!(e, BackendError::Request { .. }) && e.to_string().contains(&url), "{e}");
    assert!(e.retryable());
}

#[tokio::test]
async fn describe_reads_digest_quantisation_and_gguf_metadata() {
    let server = FakeOllama::start();
    let b = OllamaBackend::new(&server.url()).unwrap();
    let info = b.describe("qwen-test").await.unwrap();
    assert_eq!(info.quantization.as_deref(), Some("Q4_K_M"));
    assert_eq!(info.parameter_size.as_deref(), Some("35B"));
    assert_eq!(info.backend_version.as_deref(), Some("0.12.6"));
    assert!(info.digest.unwrap().starts_with("sha256:"));
    let shape = ModelShape::from_metadata(&info.metadata, info.size_bytes.unwrap()).unwrap();
    let plan = shape.plan(&PlanRequest {
        vram_bytes: 32 << 30,
        ctx: 8192,
        parallel: 1,
        kv_type: KvType::Q8_0,
        overhead_bytes: 512 << 20,
        runtime: ollama_runner::plan::Runtime::Ollama,
        policy: Default::default(),
    });
    assert_eq!(plan.kv_bytes_per_token, 10_880);
    let r = b.residency("partial").await.unwrap().unwrap();
    assert!(!r.fully_resident());
    assert!(b.residency("qwen-test").await.unwrap().unwrap().fully_resident());
    b.unload("qwen-test").await.unwrap();
    assert_eq!(server.state.unloads.load(Ordering::SeqCst), 1);
}

/// An in-memory sink.
#[derive(Default)]
struct Memory {
    done: BTreeSet<String>,
    records: Vec<(Completion, bool)>,
}

impl ResultSink for Memory {
    async fn already_done(&mut self) -> Result<BTreeSet<String>, SinkError> {
        Ok(self.done.clone())
    }
    async fn record(&mut self, c: &Completion, warmup: bool) -> Result<(), SinkError> {
        self.records.push((c.clone(), warmup));
        Ok(())
    }
}

#[tokio::test]
async fn the_run_loop_is_sequential_resumable_and_records_the_warmup() {
    let server = FakeOllama::start();
    let b = OllamaBackend::new(&server.url()).unwrap();
    let set = test_support::tasks(5);
    let mut sink = Memory { done: BTreeSet::from(["task1".to_string(), "task3".to_string()]), ..Default::default() };
    let cfg = RunConfig::new("slow", SamplingOptions::default());
    let mut seen = Vec::new();
    let summary = ollama_runner::run(&b, &set, &mut sink, &cfg, |p| seen.push(p.task_id.clone())).await.unwrap();
    assert_eq!(summary.skipped_already_done, 2);
    assert_eq!(summary.completed, 3);
    assert_eq!(seen, ["task0", "task2", "task4"]);
    assert!(sink.records[0].1, "the warm-up comes first and is flagged");
    assert_eq!(sink.records[0].0.task_id, ollama_runner::WARMUP_TASK_ID);
    assert!(sink.records[1..].iter().all(|(c, w)| !w && c.error.is_none()));
    assert_eq!(server.state.max_in_flight.load(Ordering::SeqCst), 1, "one request at a time");
    assert_eq!(server.state.chat_requests.load(Ordering::SeqCst), 4);
    assert_eq!(summary.residency.map(|r| r.fully_resident()), Some(true));
}

#[tokio::test]
async fn partial_offload_stops_the_run_unless_allowed() {
    let server = FakeOllama::start();
    let b = OllamaBackend::new(&server.url()).unwrap();
    let mut sink = Memory::default();
    let cfg = RunConfig::new("partial", SamplingOptions::default());
    let e = ollama_runner::run(&b, &test_support::tasks(2), &mut sink, &cfg, |_| {}).await.unwrap_err();
    assert!(matches!(e, RunError::PartialOffload { size_vram: 12_000_000_000, .. }), "{e:?}");
    assert_eq!(sink.records.len(), 1, "only the warm-up ran");
    let mut cfg = cfg;
    cfg.allow_partial_offload = true;
    let summary = ollama_runner::run(&b, &test_support::tasks(2), &mut Memory::default(), &cfg, |_| {}).await.unwrap();
    assert_eq!(summary.completed, 2);
}

#[tokio::test]
async fn transport_errors_are_retried_recorded_and_bounded() {
    let server = FakeOllama::start();
    let b = OllamaBackend::new(&server.url()).unwrap();
    let mut sink = Memory::default();
    let mut cfg = RunConfig::new("cut", SamplingOptions::default());
    cfg.attempts = 2;
    // Every attempt is cut: the warm-up fails after its two attempts.
    let e = ollama_runner::run(&b, &test_support::tasks(3), &mut sink, &cfg, |_| {}).await.unwrap_err();
    assert!(e.to_string().contains("warm-up failed"), "{e}");
    let (warm, _) = &sink.records[0];
    assert_eq!(warm.attempts.len(), 2);
    assert!(warm.attempts.iter().all(|a| a.error.is_some()));
    assert_eq!(warm.finish_reason, FinishReason::Error);
}

#[test]
fn a_remote_endpoint_is_refused_without_the_flag() {
    let e = ollama_runner::require_local("http://203.0.113.9:11434", false).unwrap_err().to_string();
    assert!(e.contains("203.0.113.9") && e.contains("allowed explicitly") && !e.contains("--"), "{e}");
}

/// A server that accepts the connection and never answers: control requests
/// end with a timeout error naming the endpoint, on both backends.
#[tokio::test]
async fn a_server_that_never_answers_times_out() {
    // The kernel completes the handshake from the backlog; nothing reads or replies.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    let limit = Duration::from_millis(400);
    let started = std::time::Instant::now();
    let ollama = OllamaBackend::new(&endpoint).unwrap().with_control_timeout(limit);
    let e = ollama.describe("m").await.unwrap_err();
    assert!(matches!(e, BackendError::Timeout { .. }) && e.to_string().contains(&endpoint), "{e}");
    let openai = ollama_runner::OpenAiBackend::new(&endpoint).unwrap().with_control_timeout(limit);
    let e = openai.describe("m").await.unwrap_err();
    assert!(matches!(e, BackendError::Timeout { .. }) && e.to_string().contains(&endpoint), "{e}");
    assert!(started.elapsed() < Duration::from_secs(10), "{:?}", started.elapsed());
    drop(listener);
}
