//! A run killed midway loses nothing: the store passes SQLite's integrity
//! check with every committed result, and a resumed run completes the set with
//! no task lost or duplicated.

#![allow(clippy::unwrap_used)] // tests and benches fail loudly

mod common;

use std::sync::atomic::Ordering;

use common::{block_on, fixture_dir, fixture_tasks, kill_after, read_json, run, run_tasks, s};
use test_support::ollama_server::FakeOllama;

#[test]
fn killing_a_run_and_resuming_it_completes_the_set_exactly_once() {
    let server = FakeOllama::start();
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("results.sqlite");
    let (tasks, n) = fixture_tasks(dir.path(), "20");
    let set = task_synth::read_task_set(&std::fs::read_to_string(&tasks).unwrap(), "tasks.json").unwrap();
    let url = server.url();
    let args = [
        "run",
        "--tasks",
        s(&tasks),
        "--backend",
        "ollama",
        "--endpoint",
        &url,
        "--model",
        "slow",
        "--db",
        s(&db),
        "--resume",
    ];

    // The writer: killed (SIGKILL) after its fourth result.
    assert_eq!(kill_after(&args, "slow ", 4), 4);
    // The server may still be reading or answering the dead client's last
    // request; give it time to take it up and notice the closed socket, then
    // count concurrency afresh for the resumed run.
    std::thread::sleep(std::time::Duration::from_millis(500));
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while server.state.in_flight.load(Ordering::SeqCst) > 0 && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    server.state.max_in_flight.store(0, Ordering::SeqCst);

    let (ok, committed) = block_on(async {
        let store = result_store::Store::open_existing(&db).await.unwrap();
        let run = store.runs().await.unwrap()[0].id;
        (store.integrity_check().await.unwrap(), store.done(run).await.unwrap())
    });
    assert_eq!(ok, "ok");
    // Every result reported before the kill was committed before it was reported.
    assert!(committed.len() >= 4 && committed.len() < n, "{} of {n}", committed.len());

    let (code, _, err) = run(&args);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("resumed run 1"), "{err}");
    let (runs, results) = block_on(async {
        let store = result_store::Store::open_existing(&db).await.unwrap();
        (store.runs().await.unwrap(), store.completions(1).await.unwrap())
    });
    assert_eq!(runs.len(), 1, "the resumed run continues its own");
    assert_eq!(results.len(), n, "every task exactly once");
    let mut ids: Vec<&str> = results.iter().map(|c| c.task_id.as_str()).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), n);
    assert!(results.iter().all(|c| c.error.is_none()));
    // Requests: the tasks, a warm-up per process, and at most the one in flight at the kill.
    let requests = server.state.chat_requests.load(Ordering::SeqCst);
    assert!(requests >= n + 2 && requests <= n + 3, "{requests} requests for {n} tasks");
    assert_eq!(server.state.max_in_flight.load(Ordering::SeqCst), 1);

    // Rerunning a finished run does no work.
    let before = server.state.chat_requests.load(Ordering::SeqCst);
    let (code, _, _) = run(&args);
    assert_eq!(code, 0);
    assert_eq!(server.state.chat_requests.load(Ordering::SeqCst), before);

    // Grading is idempotent and the report names every task.
    let (code, out, _) = run(&["grade", "--db", s(&db), "--json"]);
    assert_eq!(code, 0);
    let (code, out2, _) = run(&["grade", "--db", s(&db), "--json"]);
    assert_eq!((code, &out), (0, &out2));
    let (code, md, _) = run(&["report", "--db", s(&db)]);
    assert_eq!(code, 0);
    assert!(set.tasks.iter().all(|t| md.contains(&t.id)));
}

#[test]
fn a_partly_offloaded_model_stops_the_run_with_exit_2() {
    let server = FakeOllama::start();
    let dir = tempfile::tempdir().unwrap();
    let tasks = dir.path().join("tasks.json");
    let db = dir.path().join("r.sqlite");
    run(&["synth", s(&fixture_dir()), "--count", "3", "--out", s(&tasks)]);
    let url = server.url();
    let (code, _, err) = run_tasks(&tasks, "ollama", &url, "partial", &db, &[]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("partly in VRAM") && err.contains("--allow-partial-offload"), "{err}");
    let (code, _, err) = run_tasks(&tasks, "ollama", &url, "qwen-test", &db, &["--vram", "8GiB"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("does not fit"), "{err}");
}

#[test]
fn eval_runs_several_models_in_turn_and_compares_only_like_with_like() {
    let server = FakeOllama::start();
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("r.sqlite");
    let out = dir.path().join("out");
    let url = server.url();
    let fx = fixture_dir();
    let eval = |models: &[&str], extra: &[&str]| {
        let mut args = vec!["eval", s(&fx), "--backend", "ollama", "--endpoint", &url, "--db", s(&db)];
        args.extend(["--count", "6", "--out-dir", s(&out)]);
        for m in models {
            args.extend(["--model", m]);
        }
        args.extend_from_slice(extra);
        run(&args)
    };
    let (code, stdout, err) = eval(&["qwen-test", "slow"], &["--vram", "32GiB", "--kv-cache", "q8_0"]);
    assert_eq!(code, 0, "{err}");
    assert!(stdout.contains("run 1 qwen-test:") && stdout.contains("run 2 slow:"), "{stdout}");
    assert_eq!(server.state.unloads.load(Ordering::SeqCst), 1, "the first model is unloaded before the second");
    let report = read_json(&out.join("report.json"));
    assert_eq!(report["runs"].as_array().unwrap().len(), 2);
    assert_eq!(report["comparison"][0]["comparable"], true, "{}", report["comparison"]);
    let plan = &report["runs"][0]["manifest"]["vram_plan"];
    assert_eq!(plan["kv_bytes_per_token"], 10_880);
    assert_eq!(report["runs"][0]["manifest"]["model_digest"].as_str().unwrap().len(), 71);
    // Item analysis is over scoring units (a pair is one item).
    let set =
        task_synth::read_task_set(&std::fs::read_to_string(out.join("tasks.json")).unwrap(), "tasks.json").unwrap();
    let items = report["items"].as_array().unwrap();
    assert!(!items.is_empty() && items.len() <= task_synth::units(&set).len(), "{}", report["items"]);
    assert!(items.iter().all(|i| (0.0..=1.0).contains(&i["difficulty"].as_f64().unwrap())), "{items:?}");

    // A model that is not installed: a clear error, and no row for it.
    let (code, _, err) = eval(&["missing"], &[]);
    assert_eq!(code, 2);
    assert!(err.contains("missing") && err.contains(&url), "{err}");
    let (_, md, _) = run(&["report", "--db", s(&db)]);
    assert!(!md.contains("Run 3"), "a model that did not run has no row");

    // Different options: reported, not silently compared.
    let (code, _, err) = eval(&["length"], &["--num-predict", "64"]);
    assert_eq!(code, 0, "{err}");
    let report = read_json(&out.join("report.json"));
    assert_eq!(report["comparison"][0]["comparable"], false);
    let diffs: Vec<&str> =
        report["comparison"][0]["differences"].as_array().unwrap().iter().map(|d| d.as_str().unwrap()).collect();
    assert!(diffs.iter().any(|d| d.contains("num_predict")), "{diffs:?}");
    // Planned under q8_0 before, unplanned now: the conditions differ too.
    assert!(diffs.iter().any(|d| d.contains("no recorded plan") && d.contains("KV cache Q8_0")), "{diffs:?}");
}
