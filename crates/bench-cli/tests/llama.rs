//! End to end against a real llama.cpp server with the real Gemma 3 270M
//! model (a base model: its answers are poor, and that is fine; they are
//! real). Each test starts its own server, so its cache history is its own.

#![allow(clippy::unwrap_used)] // tests and benches fail loudly

mod common;

use std::path::Path;
use std::process::Command;

use common::{block_on, read_json, run, run_tasks, s};
use test_support::tools::{tool, LlamaServer};

fn completions(db: &Path, run_id: i64) -> Vec<bench_core::Completion> {
    block_on(async { result_store::Store::open_existing(db).await.unwrap().completions(run_id).await.unwrap() })
}

fn small_cerberus_set(dir: &Path, count: &str) -> Option<std::path::PathBuf> {
    let sdist = tool("BENCH_CERBERUS_SDIST")?;
    let tasks = dir.join("tasks.json");
    let (code, _, err) = run(&["synth", s(&sdist), "--count", count, "--out", s(&tasks)]);
    assert_eq!(code, 0, "{err}");
    Some(tasks)
}

#[test]
fn native_runs_are_complete_and_repeatable_at_temperature_zero() {
    let dir = tempfile::tempdir().unwrap();
    let Some(tasks) = small_cerberus_set(dir.path(), "6") else { return };
    let Some(gguf) = tool("BENCH_GGUF") else { return };
    let mut texts = Vec::new();
    for i in 0..2 {
        // A fresh server per run: the same request history, so the same cache state.
        let Some(server) = LlamaServer::start() else { return };
        let db = dir.path().join(format!("run{i}.sqlite"));
        let url = server.url();
        let (code, _, err) = run_tasks(
            &tasks,
            "openai",
            &url,
            "gemma3",
            &db,
            &["--num-predict", "48", "--gguf", s(&gguf), "--vram", "4GiB"],
        );
        assert_eq!(code, 0, "{err}");
        let cs = completions(&db, 1);
        assert_eq!(cs.len(), 6);
        for c in &cs {
            assert!(c.error.is_none(), "{c:?}");
            assert!(c.completion_tokens.is_some_and(|n| n > 0), "{c:?}");
            // The server's stream carries no usage; the count comes from the
            // server itself, and says so.
            assert!(c.prompt_tokens.is_some_and(|n| n > 50), "{c:?}");
            assert_eq!(c.prompt_tokens_from.as_deref(), Some("count request"), "{c:?}");
            assert!(
                matches!(c.finish_reason, bench_core::FinishReason::Stop | bench_core::FinishReason::Length),
                "{c:?}"
            );
            assert!(c.timings.wall_ms > 0.0 && c.timings.ttft_ms.is_some_and(|t| t > 0.0), "{c:?}");
        }
        texts.push(cs.into_iter().map(|c| (c.task_id, c.text)).collect::<Vec<_>>());
        let (code, out, _) = run(&["grade", "--db", s(&db)]);
        assert_eq!(code, 0, "{out}");
        // One planning path: the run's recorded plan (runtime told by the
        // server, which answers as uvicorn) is what `plan` prints.
        let manifest =
            block_on(async { result_store::Store::open_existing(&db).await.unwrap().run(1).await.unwrap().manifest });
        let (code, planned, err) = run(&[
            "plan",
            "--gguf",
            s(&gguf),
            "--vram",
            "4GiB",
            "--ctx",
            "4096",
            "--runtime",
            "llama-cpp-python",
            "--json",
        ]);
        assert_eq!(code, 0, "{err}");
        let planned: serde_json::Value = serde_json::from_str(&planned).unwrap();
        assert_eq!(manifest.vram_plan.as_ref(), Some(&planned));
        assert_eq!(planned["request"]["runtime"], "llama-cpp-python");
    }
    assert_eq!(texts[0], texts[1], "two runs at temperature 0 differ");
}

#[test]
fn promptfoo_validates_runs_and_ingests_the_emitted_config() {
    let dir = tempfile::tempdir().unwrap();
    let Some(tasks) = small_cerberus_set(dir.path(), "6") else { return };
    let Some(promptfoo) = tool("BENCH_PROMPTFOO") else { return };
    let Some(server) = LlamaServer::start() else { return };
    let out = dir.path().join("promptfoo");
    let spec = format!("openai:gemma3@{}/v1", server.url());
    let (code, _, err) = run(&[
        "emit-promptfoo",
        "--tasks",
        s(&tasks),
        "--model",
        &spec,
        "--model",
        "ollama:qwen3.6:35b-a3b",
        "--out-dir",
        s(&out),
        "--num-predict",
        "48",
    ]);
    assert_eq!(code, 0, "{err}");
    let env = [
        ("PROMPTFOO_DISABLE_TELEMETRY", "1"),
        ("PROMPTFOO_DISABLE_UPDATE", "1"),
        ("PROMPTFOO_DISABLE_SHARING", "1"),
        ("PROMPTFOO_DISABLE_REMOTE_GENERATION", "1"),
        ("PROMPTFOO_CONFIG_DIR", s(&out)),
    ];
    for config in ["openai-gemma3.promptfooconfig.yaml", "ollama-qwen3.6-35b-a3b.promptfooconfig.yaml"] {
        let o = Command::new(&promptfoo).args(["validate", "-c", config]).current_dir(&out).envs(env).output().unwrap();
        let text = String::from_utf8_lossy(&o.stdout).into_owned() + &String::from_utf8_lossy(&o.stderr);
        assert!(o.status.success() && text.contains("Configuration is valid"), "{config}: {text}");
    }
    let o = Command::new(&promptfoo)
        .args(["eval", "-c", "openai-gemma3.promptfooconfig.yaml", "-j", "1", "--no-cache"])
        .current_dir(&out)
        .envs(env)
        .output()
        .unwrap();
    let results = out.join("results/openai-gemma3.json");
    assert!(results.exists(), "promptfoo wrote no results: {}", String::from_utf8_lossy(&o.stderr));

    let db = dir.path().join("r.sqlite");
    let (code, stdout, err) = run(&["ingest-promptfoo", s(&results), "--tasks", s(&tasks), "--db", s(&db)]);
    assert_eq!(code, 0, "{err}");
    assert!(stdout.contains("6 promptfoo results"), "{stdout}");
    // The native runner on the same tasks, from a fresh server too, so both
    // drivers start from the same cache history.
    drop(server);
    let Some(server) = LlamaServer::start() else { return };
    let url = server.url();
    let (code, _, err) = run_tasks(&tasks, "openai", &url, "gemma3", &db, &["--num-predict", "48"]);
    assert_eq!(code, 0, "{err}");
    let (code, _, _) = run(&["grade", "--db", s(&db)]);
    assert_eq!(code, 0);
    let (pf, native, pf_grades, native_grades) = block_on(async {
        let store = result_store::Store::open_existing(&db).await.unwrap();
        let runs = store.runs().await.unwrap();
        assert!(runs[0].driver.starts_with("promptfoo 0.1"), "{}", runs[0].driver);
        (
            store.completions(1).await.unwrap(),
            store.completions(2).await.unwrap(),
            store.grades(1).await.unwrap(),
            store.grades(2).await.unwrap(),
        )
    });
    let mut same = 0;
    for (a, b) in pf.iter().zip(&native) {
        assert_eq!(a.task_id, b.task_id);
        assert_eq!(a.completion_tokens, b.completion_tokens, "{}", a.task_id);
        if a.text == b.text {
            same += 1;
            let ga = pf_grades.iter().find(|g| g.task_id == a.task_id).unwrap();
            let gb = native_grades.iter().find(|g| g.task_id == a.task_id).unwrap();
            assert_eq!(ga, gb, "the same completion graded differently");
        }
    }
    eprintln!("promptfoo and native completions identical on {same} of {} tasks", pf.len());
    assert!(same * 2 >= pf.len(), "only {same} of {} completions matched", pf.len());
}

#[test]
fn eval_end_to_end_with_an_html_report_that_renders() {
    let dir = tempfile::tempdir().unwrap();
    let Some(sdist) = tool("BENCH_CERBERUS_SDIST") else { return };
    let Some(gguf) = tool("BENCH_GGUF") else { return };
    let Some(python) = tool("BENCH_TEST_PYTHON") else { return };
    let Some(server) = LlamaServer::start() else { return };
    let out = dir.path().join("out");
    let cache = dir.path().join("cache");
    let db = dir.path().join("results.sqlite");
    let url = server.url();
    let args = [
        "eval",
        s(&sdist),
        "--backend",
        "openai",
        "--endpoint",
        &url,
        "--model",
        "gemma3",
        "--gguf",
        s(&gguf),
        "--db",
        s(&db),
        "--count",
        "10",
        "--num-predict",
        "32",
        "--vram",
        "4GiB",
        "--out-dir",
        s(&out),
        "--python",
        s(&python),
        "--cache-dir",
        s(&cache),
        "--probe-recall",
    ];
    let (code, stdout, err) = run(&args);
    assert_eq!(code, 0, "{err}");
    assert!(stdout.contains("run 1 gemma3:"), "{stdout}");
    // The recall probe ran against the real model: one stored continuation
    // per generation target, each with its similarity to the original.
    let probes = stored_probes(&db);
    let report = read_json(&out.join("report.json"));
    let generation =
        report["runs"][0]["rows"].as_array().unwrap().iter().filter(|r| r["category"] == "code_generation").count();
    assert!(generation > 0 && probes.len() == generation, "{probes:?} for {generation} generation tasks");
    assert!(probes.iter().all(|(_, sim)| sim.is_none_or(|x| (0.0..=1.0).contains(&x))), "{probes:?}");
    let probe = &report["runs"][0]["recall"]["probe"];
    assert_eq!(probe["probes"].as_u64(), Some(generation as u64), "{probe}");
    assert!(err.contains("ground truth: execution (pytest cerberus/tests;"), "{err}");
    let report = read_json(&out.join("report.json"));
    let r = &report["runs"][0];
    assert_eq!(r["graded"], 10);
    // Ground truth by execution: recorded, and each generation task names its deciding tests.
    assert_eq!(r["ground_truth"]["execution_verified"], true);
    assert!(r["ground_truth"]["execution"]["baseline"]["passed"].as_u64().unwrap() >= 240);
    let rows = r["rows"].as_array().unwrap();
    for row in rows.iter().filter(|x| x["category"] != "security_audit") {
        assert!(!row["decided_by"].as_array().unwrap().is_empty(), "{row}");
    }
    assert!(std::fs::read_to_string(out.join("report.md")).unwrap().contains("Ground truth: execution-verified"));
    assert!(r["manifest"]["model_digest"].as_str().unwrap().starts_with("blake3:"));
    assert_eq!(r["manifest"]["quantization"], "Q4_K_M");
    assert_eq!(r["manifest"]["endpoint_scope"], "loopback");
    assert!(r["manifest"]["vram_plan"]["fits"].as_bool().unwrap());
    // Rerunning resumes: nothing is asked of the model again.
    let (code, _, err) = run(&args);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("resumed run 1 (10 of 10"), "{err}");

    let html = out.join("report.html");
    let Some(chromium) =
        ["/usr/bin/chromium", "/usr/bin/chromium-browser"].into_iter().map(Path::new).find(|p| p.exists())
    else {
        assert!(!test_support::tools::required(), "chromium is not installed");
        eprintln!("skipped: no chromium");
        return;
    };
    let profile = tempfile::tempdir().unwrap();
    let flags = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
    ];
    let url = format!("file://{}", html.display());
    let dom = Command::new(chromium)
        .args(flags)
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .args(["--dump-dom", &url])
        .output()
        .unwrap();
    let dom = String::from_utf8_lossy(&dom.stdout);
    for id in ["heatmap-1", "latency-1", "tokens-1"] {
        assert!(dom.contains(&format!("id=\"{id}\"")), "the rendered page lacks #{id}");
    }
    assert!(dom.matches("class=\"cell").count() >= 15, "the heatmap has no cells");
    // Every task's prompt, answer and grade components, one click away.
    assert_eq!(dom.matches("<tr class=\"detail\"><td colspan=\"10\"><details>").count(), 10, "per-task details");
    assert!(
        dom.contains("<h4>Grade components</h4>") && dom.contains("class=\"plan\""),
        "details or plan table missing"
    );
    let shot = dir.path().join("report.png");
    let o = Command::new(chromium)
        .args(flags)
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .args(["--window-size=1200,1600", &format!("--screenshot={}", shot.display()), &url])
        .output()
        .unwrap();
    let png = std::fs::read(&shot).unwrap_or_else(|_| panic!("no screenshot: {}", String::from_utf8_lossy(&o.stderr)));
    assert!(png.starts_with(b"\x89PNG") && png.len() > 10_000);
}

/// The stored recall probes of a store's first run that reached the model:
/// (task, similarity; `None` when no function parsed in the continuation).
fn stored_probes(db: &Path) -> Vec<(String, Option<f64>)> {
    block_on(async {
        let store = result_store::Store::open_existing(db).await.unwrap();
        let run = store.runs().await.unwrap()[0].id;
        let probes = store.probes(run).await.unwrap();
        assert!(probes.iter().all(|p| p.error.is_none() && !p.text.is_empty()), "{probes:?}");
        probes.into_iter().map(|p| (p.task_id, p.similarity)).collect()
    })
}
