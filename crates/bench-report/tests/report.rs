#![allow(clippy::unwrap_used)] // tests fail loudly

//! The report over a fixture store: the fixture package's task set (written
//! for this project), Gemma 3 270M's recorded answers to it, graded and
//! calibrated, in a real SQLite file. Everything the clock decides is fixed
//! or left out, so the renderings are snapshots a reviewer can read.

use bench_core::{Attempt, Completion, EndpointScope, FinishReason, ResultSink, RunManifest, SamplingOptions, Timings};
use result_store::Store;

async fn fixture_store(path: &std::path::Path) -> Store {
    let root = test_support::tools::workspace_root();
    let snap =
        repo_scan::scan(&root.join("tests/fixtures/tinyvalidator"), None, &repo_scan::Limits::default()).unwrap();
    let files: Vec<py_ast_meta::SourceFile> =
        snap.files.iter().map(|f| py_ast_meta::SourceFile { path: f.path.clone(), text: f.text.clone() }).collect();
    let rules = task_synth::Rules::default();
    let ex = py_ast_meta::extract(&snap.snapshot_id, &files, &rules.extract);
    let set = task_synth::synthesize(&files, &ex, &rules, None);
    let recorded: Vec<(String, String)> = serde_json::from_str(
        &std::fs::read_to_string(root.join("tests/fixtures/gemma3-tinyvalidator-completions.json")).unwrap(),
    )
    .unwrap();
    let store = Store::open(path).await.unwrap();
    store.put_task_set(&set).await.unwrap();
    let calibration = task_synth::calibrate(&set, None);
    store.put_calibration(&set.taskset_id, &serde_json::to_value(&calibration).unwrap()).await.unwrap();
    let plan = serde_json::json!({
        "request": {"vram_bytes": 4294967296u64, "ctx": 4096, "parallel": 1, "kv_type": "f16", "overhead_bytes": 536870912},
        "architecture": "gemma3", "weights": 246632448, "kv_bytes_per_token_per_full_layer": 1024,
        "kv_bytes_per_token": 3072, "full_layers": 3, "sliding_layers": 15, "recurrent_layers": 0,
        "kv_cache": 20447232, "recurrent_state": 0, "compute_buffer": 5242880, "overhead": 536870912,
        "total": 809193472, "fits": true, "headroom": 3485773824i64, "max_ctx": 32768, "max_parallel": 381
    });
    let manifest = RunManifest {
        taskset_id: set.taskset_id.clone(),
        snapshot_id: set.snapshot_id.clone(),
        rules_hash: set.rules_hash.clone(),
        tool_version: bench_core::TOOL_VERSION.into(),
        driver: "native".into(),
        backend_kind: "openai".into(),
        backend_version: Some("uvicorn".into()),
        endpoint: "http://127.0.0.1:8080".into(),
        endpoint_scope: EndpointScope::Loopback,
        model: "gemma3".into(),
        model_digest: Some("blake3:00".into()),
        quantization: Some("Q4_K_M".into()),
        options: SamplingOptions::default(),
        vram_plan: Some(plan),
        residency: None,
        host: "fixture host".into(),
        started_at: "2026-12-01T10:00:00.000Z".into(),
        finished_at: Some("2026-12-01T10:05:00.000Z".into()),
        warnings: Vec::new(),
        egress: None,
        batch: None,
    };
    let run = store.create_run(&manifest).await.unwrap();
    let mut sink = store.sink(run);
    let mut completions = Vec::new();
    for (i, (task_id, text)) in recorded.iter().enumerate() {
        let wall_ms = 1000.0 + 250.0 * (i % 7) as f64;
        let c = Completion {
            task_id: task_id.clone(),
            text: text.clone(),
            prompt_tokens: Some(300 + i as u64),
            prompt_tokens_from: Some("response".into()),
            completion_tokens: Some(256),
            finish_reason: FinishReason::Length,
            timings: Timings { wall_ms, ttft_ms: Some(100.0), eval_ms: Some(wall_ms - 150.0), ..Default::default() },
            attempts: vec![Attempt { number: 1, wall_ms, error: None }],
            error: None,
        };
        sink.record(&c, false).await.unwrap();
        completions.push(c);
    }
    store.finish_run(run, &manifest).await.unwrap();
    let grades: Vec<_> = completions
        .iter()
        .map(|c| task_synth::grade_completion(set.task(&c.task_id).unwrap(), c, task_synth::stdlib_surface()))
        .collect();
    store.put_grades(run, &grades).await.unwrap();

    // A second run, written by hand: each generation task answered with the
    // right signature and APIs that do not exist, for the invented-API section.
    let manifest = RunManifest { model: "fixture-inventor".into(), ..manifest };
    let run = store.create_run(&manifest).await.unwrap();
    let mut sink = store.sink(run);
    let mut grades = Vec::new();
    for (i, t) in set.tasks.iter().enumerate() {
        let bench_core::Expected::CodeGeneration { signature, .. } = &t.expected else { continue };
        let extra =
            if i % 2 == 0 { "    return json.dumps(p, pretty=True)\n" } else { "    return re.fuzzymatch('x', p)\n" };
        let text = format!(
            "```python\nimport json\nimport os\nimport re\nimport yaml.fancy\n\n{signature}\n    p = os.path.joinpath('a', 'b')\n{extra}```"
        );
        let c = Completion::answer(&t.id, text);
        sink.record(&c, false).await.unwrap();
        grades.push(task_synth::grade_completion(t, &c, task_synth::stdlib_surface()));
    }
    store.finish_run(run, &manifest).await.unwrap();
    store.put_grades(run, &grades).await.unwrap();

    // A third: a remote batch baseline, with its egress, answering five tasks.
    let manifest = RunManifest {
        model: "frontier-1".into(),
        driver: "batch".into(),
        backend_kind: "openai-batch".into(),
        backend_version: None,
        endpoint: "https://api.example.invalid".into(),
        endpoint_scope: EndpointScope::Remote,
        model_digest: None,
        quantization: None,
        vram_plan: None,
        egress: Some(bench_core::Egress {
            provider: "openai".into(),
            host: "api.example.invalid".into(),
            requests: 9,
            bytes_sent: 48_213,
            bytes_received: 12_870,
            taskset_id: set.taskset_id.clone(),
            payload_blake3: Some("ab".repeat(32)),
        }),
        batch: Some(bench_core::BatchRecord {
            submitted_at: "2026-12-01T11:00:00.000Z".into(),
            id: Some("batch_0001".into()),
            input_file_id: Some("file-0001".into()),
            status: "completed".into(),
            provider_model: Some("frontier-1-2026-01-01".into()),
            ingested: true,
        }),
        ..manifest
    };
    let run = store.create_run(&manifest).await.unwrap();
    let mut sink = store.sink(run);
    let mut grades = Vec::new();
    for (task_id, text) in recorded.iter().take(5) {
        let c = Completion::answer(task_id, text.clone());
        sink.record(&c, false).await.unwrap();
        grades.push(task_synth::grade_completion(set.task(task_id).unwrap(), &c, task_synth::stdlib_surface()));
    }
    store.finish_run(run, &manifest).await.unwrap();
    store.put_grades(run, &grades).await.unwrap();
    store
}

/// Lines that depend on when the store committed each result.
/// The report with what depends on the machine's clock (the task window the
/// store measured while the fixture was written) left out.
fn steady(report: &mut bench_report::Report) {
    for run in &mut report.runs {
        run.throughput.task_window_s = None;
        run.throughput.orchestration_overhead = None;
    }
}

#[tokio::test]
async fn renderings_over_a_fixture_store() {
    let dir = tempfile::tempdir().unwrap();
    let store = fixture_store(&dir.path().join("r.sqlite")).await;
    let mut report = bench_report::build(&store).await.unwrap();
    assert_eq!(report.runs.len(), 3);
    let remote = &report.runs[2];
    assert!(remote.title().contains("remote baseline via openai-batch, answered by frontier-1-2026-01-01"));
    assert!(remote.egress_line().unwrap().contains("9 requests, 48213 bytes sent"));
    let h = &report.runs[1].hallucination;
    assert!(h.checked > 0 && h.any == h.checked, "{h:?}");
    assert_eq!(report.runs[0].hallucination.any, 0, "Gemma's recorded answers invent nothing");
    steady(&mut report);
    insta::assert_snapshot!("markdown", bench_report::markdown(&report));
    let mut json = serde_json::to_value(&report).unwrap();
    let t = &mut json["runs"][0]["throughput"];
    for key in ["task_window_s", "orchestration_overhead"] {
        assert!(t[key].is_number() || t[key].is_null(), "{key}");
        t[key] = serde_json::Value::Null;
    }
    insta::assert_json_snapshot!(
        "json_headline",
        bench_core::sorted_value(&serde_json::json!({
            "overall": json["runs"][0]["overall"], "floors": json["runs"][0]["calibration"]["floors"],
            "findings": json["runs"][0]["findings"], "throughput": json["runs"][0]["throughput"],
            "hallucination": [json["runs"][0]["hallucination"], json["runs"][1]["hallucination"]],
            "remote_baseline": {"egress": json["runs"][2]["manifest"]["egress"], "batch": json["runs"][2]["manifest"]["batch"]},
        }))
    );
    insta::assert_snapshot!("html", bench_report::html(&report));
}

#[test]
fn runs_whose_numbers_cannot_stand_are_invalid() {
    let base = RunManifest::new(
        &bench_core::TaskSet {
            taskset_id: "s".into(),
            snapshot_id: "n".into(),
            rules_hash: "r".into(),
            tool_version: "t".into(),
            requested: 0,
            execution: None,
            novelty: None,
            tasks: vec![],
        },
        "native",
        "ollama",
        "http://127.0.0.1:11434",
        EndpointScope::Loopback,
        "m",
    );
    assert_eq!(bench_report::invalid_reason(&base), None);
    let spilled = RunManifest { residency: Some(serde_json::json!({"size": 100, "size_vram": 60})), ..base.clone() };
    assert!(bench_report::invalid_reason(&spilled).unwrap().contains("60 of 100 bytes"));
    let full = RunManifest { residency: Some(serde_json::json!({"size": 100, "size_vram": 100})), ..base.clone() };
    assert_eq!(bench_report::invalid_reason(&full), None);
    let over = RunManifest { vram_plan: Some(serde_json::json!({"fits": false})), ..base.clone() };
    assert!(bench_report::invalid_reason(&over).unwrap().contains("did not fit"));
    let collapsed = RunManifest {
        warnings: vec![
            "throughput fell below half the best at a comparable prompt length on 2 task(s) (a, b); the model may be spilling out of VRAM"
                .into(),
        ],
        ..base
    };
    assert!(bench_report::invalid_reason(&collapsed).unwrap().starts_with("throughput collapsed"));
}
