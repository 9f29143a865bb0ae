//! Emitted promptfoo configs (insta snapshots) and ingestion of promptfoo's results.

#![allow(clippy::unwrap_used)] // tests and benches fail loudly

use bench_core::{SamplingOptions, TaskSet};
use promptfoo_emit::{config, ingest, readme, EmitError, ModelSpec};

fn fixture_set() -> TaskSet {
    let root = test_support::tools::workspace_root().join("tests/fixtures/tinyvalidator");
    let snap = repo_scan::scan(&root, None, &repo_scan::Limits::default()).unwrap();
    let files: Vec<py_ast_meta::SourceFile> =
        snap.files.iter().map(|f| py_ast_meta::SourceFile { path: f.path.clone(), text: f.text.clone() }).collect();
    let rules = task_synth::Rules::default();
    let ex = py_ast_meta::extract(&snap.snapshot_id, &files, &rules.extract);
    task_synth::synthesize(&files, &ex, &rules, Some(6))
}

#[test]
fn emitted_configs_snapshot() {
    let set = fixture_set();
    let options = SamplingOptions::default();
    let ollama = ModelSpec::parse("ollama:qwen3.6:35b-a3b").unwrap();
    let openai = ModelSpec::parse("openai:gemma3@http://127.0.0.1:8080/v1").unwrap();
    insta::assert_snapshot!("ollama_config", config(&set, &ollama, &options));
    insta::assert_snapshot!("openai_config", config(&set, &openai, &options));
    insta::assert_snapshot!("readme", readme(&set, &[ollama, openai]));
}

#[test]
fn model_specs() {
    let s = ModelSpec::parse("ollama:qwen3:32b@http://10.0.0.2:11434").unwrap();
    assert_eq!((s.model.as_str(), s.base_url.as_str()), ("qwen3:32b", "http://10.0.0.2:11434"));
    assert!(matches!(ModelSpec::parse("gemma3"), Err(EmitError::Spec { .. })));
    assert!(matches!(ModelSpec::parse("vllm:x"), Err(EmitError::Spec { .. })));
}

#[test]
fn ingest_refuses_what_does_not_belong_and_writes_nothing() {
    let set = fixture_set();
    let id = &set.tasks[0].id;
    let ok = format!(
        r#"{{"results": {{"results": [{{"provider": {{"id": "openai:chat:gemma3", "label": "gemma3"}}, "latencyMs": 812,
        "response": {{"output": "{{\"line\": null}}", "tokenUsage": {{"prompt": 300, "completion": 9}}, "finishReason": "stop"}},
        "testCase": {{"metadata": {{"task_id": "{id}", "taskset_id": "[REDACTED]"}}}}}}]}},
        "config": {{"providers": [{{"id": "openai:chat:gemma3", "config": {{"apiBaseUrl": "http://127.0.0.1:8080/v1"}}}}]}},
        "metadata": {{"promptfooVersion": "0.123.1"}}}}"#
    );
    let got = ingest(&ok, "r.json", &set).unwrap();
    assert_eq!(got.promptfoo_version.as_deref(), Some("0.123.1"));
    assert_eq!(got.model, "gemma3");
    assert_eq!(got.endpoint.as_deref(), Some("http://127.0.0.1:8080/v1"));
    let c = &got.completions[0];
    assert_eq!((c.prompt_tokens, c.completion_tokens, c.timings.wall_ms), (Some(300), Some(9), 812.0));
    assert_eq!(c.finish_reason, bench_core::FinishReason::Stop);

    let unknown = ok.replace(id.as_str(), "0000000000000000");
    assert!(matches!(ingest(&unknown, "r.json", &set), Err(EmitError::UnknownTask { .. })));
    let other = ok.replace("[REDACTED]", "ffff");
    assert!(matches!(ingest(&other, "r.json", &set), Err(EmitError::OtherTaskSet { .. })));
    let e = ingest("{not json", "r.json", &set).unwrap_err().to_string();
    assert!(e.starts_with("r.json: not a promptfoo results file"), "{e}");
    assert!(matches!(ingest("{\"results\": {}}", "r.json", &set), Err(EmitError::Malformed { .. })));
}
