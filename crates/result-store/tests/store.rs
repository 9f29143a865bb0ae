//! The store in a real SQLite file: durability, resume, decoding errors.

#![allow(clippy::unwrap_used)] // tests and benches fail loudly

use bench_core::{
    Attempt, Category, Completion, EndpointScope, Expected, FinishReason, Grade, Prompt, ResultSink, RunManifest,
    SamplingOptions, Task, TaskSet, Tier, Timings,
};
use result_store::{Store, StoreError};

fn set() -> TaskSet {
    let tasks = (0..4)
        .map(|i| Task {
            id: format!("t{i}"),
            category: if i < 2 { Category::CodeUnderstanding } else { Category::SecurityAudit },
            tier: Tier::from_index(i),
            tier_rule: "rule".into(),
            file: "m.py".into(),
            symbol: "f".into(),
            span: [1, 9],
            prompt: Prompt { system: "s".into(), user: format!("u{i}") },
            expected: Expected::CodeUnderstanding {
                line: Some(3),
                operator: Some("is_swap".into()),
                original_line: None,
                pair: None,
            },
            evidence: Default::default(),
        })
        .collect();
    TaskSet {
        taskset_id: "set1".into(),
        snapshot_id: "snap1".into(),
        rules_hash: "rules".into(),
        tool_version: "0.1.0".into(),
        requested: 4,
        execution: None,
        novelty: None,
        tasks,
    }
}

fn manifest(model: &str) -> RunManifest {
    RunManifest {
        taskset_id: "set1".into(),
        snapshot_id: "snap1".into(),
        rules_hash: "rules".into(),
        tool_version: "0.1.0".into(),
        driver: "native".into(),
        backend_kind: "ollama".into(),
        backend_version: Some("0.12.6".into()),
        endpoint: "http://127.0.0.1:11434".into(),
        endpoint_scope: EndpointScope::Loopback,
        model: model.into(),
        model_digest: Some("sha256:00".into()),
        quantization: Some("Q4_K_M".into()),
        options: SamplingOptions::default(),
        vram_plan: None,
        residency: None,
        host: "test".into(),
        started_at: "2026-11-30T12:00:00.000Z".into(),
        finished_at: None,
        warnings: Vec::new(),
        egress: None,
        batch: None,
    }
}

fn completion(id: &str, error: Option<&str>) -> Completion {
    Completion {
        task_id: id.into(),
        text: format!("answer {id}"),
        prompt_tokens: Some(10),
        prompt_tokens_from: Some("response".into()),
        completion_tokens: Some(5),
        finish_reason: if error.is_some() { FinishReason::Error } else { FinishReason::Stop },
        timings: Timings { wall_ms: 100.0, ttft_ms: Some(10.0), eval_ms: Some(80.0), ..Default::default() },
        attempts: vec![Attempt { number: 1, wall_ms: 100.0, error: error.map(str::to_string) }],
        error: error.map(str::to_string),
    }
}

#[tokio::test]
async fn results_land_resume_and_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    round_trip(Store::open(&dir.path().join("r.sqlite")).await.unwrap()).await;
}

#[tokio::test]
async fn results_land_resume_and_round_trip_in_postgres() {
    let Some(url) = test_support::tools::fresh_postgres().await else { return };
    let store = Store::open(std::path::Path::new(&url)).await.unwrap();
    assert_eq!(store.backend(), result_store::Backend::Postgres);
    round_trip(store).await;
    // Opening again runs no migration twice and keeps the rows.
    let again = Store::open(std::path::Path::new(&url)).await.unwrap();
    assert_eq!(again.runs().await.unwrap().len(), 2);
}

async fn round_trip(store: Store) {
    store.put_task_set(&set()).await.unwrap();
    store.put_task_set(&set()).await.unwrap();
    assert_eq!(store.task_set("set1").await.unwrap(), set());
    let run = store.create_run(&manifest("a")).await.unwrap();
    let mut sink = store.sink(run);
    sink.record(&completion("__warmup__", None), true).await.unwrap();
    sink.record(&completion("t0", None), false).await.unwrap();
    sink.record(&completion("t1", Some("timed out")), false).await.unwrap();
    // Errored tasks are recorded but count as not done, so a resume retries them.
    assert_eq!(sink.already_done().await.unwrap().into_iter().collect::<Vec<_>>(), ["t0"]);
    sink.record(&completion("t1", None), false).await.unwrap();
    assert_eq!(store.done(run).await.unwrap().len(), 2);
    let cs = store.completions(run).await.unwrap();
    assert_eq!(cs.iter().map(|c| c.task_id.as_str()).collect::<Vec<_>>(), ["t0", "t1"], "warm-up excluded");
    assert_eq!(cs[0], completion("t0", None));
    // Same manifest, new run: distinct; a resume finds the latest.
    let run2 = store.create_run(&manifest("a")).await.unwrap();
    assert_ne!(run, run2);
    assert_eq!(store.find_run(&manifest("a")).await.unwrap(), Some(run2));
    assert_eq!(store.find_run(&manifest("b")).await.unwrap(), None);
    assert_eq!(store.integrity_check().await.unwrap(), "ok");
}

#[tokio::test]
async fn grades_rates_and_discrimination() {
    let dir = tempfile::tempdir().unwrap();
    grades_and_rates(Store::open(&dir.path().join("r.sqlite")).await.unwrap()).await;
}

#[tokio::test]
async fn grades_rates_and_discrimination_in_postgres() {
    let Some(url) = test_support::tools::fresh_postgres().await else { return };
    grades_and_rates(Store::open(std::path::Path::new(&url)).await.unwrap()).await;
}

async fn grades_and_rates(store: Store) {
    store.put_task_set(&set()).await.unwrap();
    let (a, b) = (store.create_run(&manifest("a")).await.unwrap(), store.create_run(&manifest("b")).await.unwrap());
    let grade = |id: &str, pass| Grade {
        task_id: id.into(),
        pass,
        reason: None,
        components: ["parses", "verdict", "a_last"]
            .map(|n| bench_core::Component { name: n.into(), pass, detail: format!("{n} of {id}") })
            .to_vec(),
        invented: vec![],
        api: None,
        similarity: None,
    };
    for (run, passes) in [(a, [true, true, true, false]), (b, [false, true, false, false])] {
        for (i, _) in passes.iter().enumerate() {
            store.record(run, &completion(&format!("t{i}"), None), false).await.unwrap();
        }
        let gs: Vec<Grade> = passes.iter().enumerate().map(|(i, p)| grade(&format!("t{i}"), *p)).collect();
        store.put_grades(run, &gs).await.unwrap();
        store.put_grades(run, &gs).await.unwrap();
    }
    let back = store.grades(a).await.unwrap();
    assert_eq!(back[0], grade("t0", true), "components come back in the order they were graded");
    let rates = store.pass_rates().await.unwrap();
    let cu_a = rates.iter().find(|p| p.run_id == a && p.category == "code_understanding" && p.tier == "all").unwrap();
    assert_eq!((cu_a.passed, cu_a.n), (2, 2));
    assert!(cu_a.low > 0.3 && cu_a.high == 1.0);
    let items = store.item_stats("set1", &[]).await.unwrap();
    assert_eq!(items.len(), 4);
    let t0 = items.iter().find(|i| i.task_id == "t0").unwrap();
    assert_eq!((t0.runs, t0.difficulty), (2, 0.5));
    assert!(t0.discrimination.unwrap() > 0.99, "passing t0 goes with the better run");
    assert_eq!(items.iter().find(|i| i.task_id == "t1").unwrap().discrimination, None, "no variance");
    // An invalid run is left out of the item statistics.
    let items = store.item_stats("set1", &[a]).await.unwrap();
    assert_eq!(items.iter().find(|i| i.task_id == "t0").unwrap().runs, 1);
}

#[tokio::test]
async fn a_run_for_another_snapshot_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("r.sqlite")).await.unwrap();
    store.put_task_set(&set()).await.unwrap();
    let mut m = manifest("a");
    m.snapshot_id = "other".into();
    assert!(matches!(store.create_run(&m).await, Err(StoreError::Mismatch { .. })));
    m.taskset_id = "nope".into();
    assert!(matches!(store.create_run(&m).await, Err(StoreError::NoTaskSet { .. })));
    assert!(store.runs().await.unwrap().is_empty(), "nothing written");
    let missing = dir.path().join("missing.sqlite");
    assert!(matches!(Store::open_existing(&missing).await, Err(StoreError::Missing { .. })));
    assert!(!missing.exists());
}

/// Corrupt rows are reported with the file and the column, never relabelled
/// as a default category, tier or empty value.
#[tokio::test]
async fn corrupt_rows_are_reported_not_relabelled() {
    use sqlx::ConnectOptions;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("r.sqlite");
    let store = Store::open(&path).await.unwrap();
    let set = set();
    store.put_task_set(&set).await.unwrap();
    let run = store.create_run(&manifest("a")).await.unwrap();
    store.record(run, &completion("t0", None), false).await.unwrap();
    drop(store);
    let mut db = sqlx::sqlite::SqliteConnectOptions::new().filename(&path).connect().await.unwrap();
    sqlx::query("UPDATE tasks SET tier = 'T9' WHERE id = 't1'").execute(&mut db).await.unwrap();
    sqlx::query("UPDATE results SET attempts = 'not json' WHERE task_id = 't0'").execute(&mut db).await.unwrap();
    drop(db);
    let store = Store::open_existing(&path).await.unwrap();
    let e = store.task_set(&set.taskset_id).await.unwrap_err().to_string();
    assert!(e.contains("r.sqlite") && e.contains("t1") && e.contains("tier"), "{e}");
    let e = store.completions(run).await.unwrap_err().to_string();
    assert!(e.contains("r.sqlite") && e.contains("t0") && e.contains("attempts"), "{e}");
}

/// Rows of every table, to show a refused merge changed nothing.
async fn counts(store: &Store) -> Vec<usize> {
    let mut out = vec![store.runs().await.unwrap().len()];
    for r in store.runs().await.unwrap() {
        out.push(store.completions(r.id).await.unwrap().len());
        out.push(store.grades(r.id).await.unwrap().len());
    }
    out
}

#[tokio::test]
async fn merging_stores_is_idempotent_completes_runs_and_refuses_conflicts_naming_both_sources() {
    let dir = tempfile::tempdir().unwrap();
    let path = |n: &str| dir.path().join(n);
    let grade = |id: &str, pass: bool| Grade {
        task_id: id.into(),
        pass,
        reason: None,
        components: vec![],
        invented: vec![],
        api: None,
        similarity: None,
    };
    // Node A: run X of m1, one task answered, one failed, graded.
    let a = Store::open(&path("a.sqlite")).await.unwrap();
    a.put_task_set(&set()).await.unwrap();
    let x = a.create_run(&manifest("m1")).await.unwrap();
    a.record(x, &completion("t0", None), false).await.unwrap();
    a.record(x, &completion("t1", Some("timeout")), false).await.unwrap();
    a.put_grades(x, &[grade("t0", true), grade("t1", false)]).await.unwrap();
    // Node B: the same run X resumed to the end (t1 now answered), and run Y of m2.
    let b = Store::open(&path("b.sqlite")).await.unwrap();
    b.put_task_set(&set()).await.unwrap();
    let xb = b.create_run(&manifest("m1")).await.unwrap();
    for t in ["t0", "t1", "t2", "t3"] {
        b.record(xb, &completion(t, None), false).await.unwrap();
    }
    b.put_grades(xb, &[grade("t0", true), grade("t1", true)]).await.unwrap();
    b.finish_run(xb, &RunManifest { finished_at: Some("2026-11-30T13:00:00.000Z".into()), ..manifest("m1") })
        .await
        .unwrap();
    let y = b.create_run(&manifest("m2")).await.unwrap();
    b.record(y, &completion("t0", None), false).await.unwrap();

    let c = Store::open(&path("c.sqlite")).await.unwrap();
    let m = c.merge_from(&a).await.unwrap();
    assert_eq!((m.runs_added, m.results_added), (1, 2));
    let m = c.merge_from(&b).await.unwrap();
    assert_eq!((m.runs_added, m.runs_matched, m.results_added, m.results_same), (1, 1, 4, 1), "{m:?}");
    let runs = c.runs().await.unwrap();
    assert_eq!(runs.len(), 2);
    assert_eq!(runs[0].finished_at.as_deref(), Some("2026-11-30T13:00:00.000Z"), "the finished copy wins");
    assert_eq!(c.done(runs[0].id).await.unwrap().len(), 4, "the failed attempt was replaced, nothing duplicated");
    let g = c.grades(runs[0].id).await.unwrap();
    assert!(g.iter().all(|g| g.pass) && g.len() == 2, "{g:?}");

    // Again, in either order: nothing changes.
    let before = counts(&c).await;
    for src in [&b, &a] {
        let m = c.merge_from(src).await.unwrap();
        assert_eq!((m.runs_added, m.results_added), (0, 0), "{m:?}");
    }
    assert_eq!(counts(&c).await, before);

    // Node D answered t0 of the same run differently: refused, whole, naming both sources.
    let d = Store::open(&path("d.sqlite")).await.unwrap();
    d.put_task_set(&set()).await.unwrap();
    let xd = d.create_run(&manifest("m1")).await.unwrap();
    d.record(xd, &completion("t3", None), false).await.unwrap();
    d.record(xd, &Completion { text: "something else".into(), ..completion("t0", None) }, false).await.unwrap();
    let err = c.merge_from(&d).await.unwrap_err();
    let msg = err.to_string();
    assert!(matches!(err, StoreError::Conflict { .. }), "{msg}");
    assert!(
        msg.contains("d.sqlite") && msg.contains("c.sqlite") && msg.contains("a.sqlite") && msg.contains("t0"),
        "{msg}"
    );
    assert!(!msg.contains('\n'));
    assert_eq!(counts(&c).await, before, "a refused merge changes nothing");
    assert_eq!(c.integrity_check().await.unwrap(), "ok");
}

/// Many writers at once, as the cells of a matrix: each its own connection
/// pool on one PostgreSQL store, each writing its own run; one of them
/// "killed" and resubmitted, writing what it had written again. Nothing is
/// lost or duplicated.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_writers_lose_and_duplicate_nothing_in_postgres() {
    let Some(url) = test_support::tools::fresh_postgres().await else { return };
    let path = std::path::PathBuf::from(&url);
    let cells: Vec<_> = (0..6)
        .map(|cell| {
            let path = path.clone();
            tokio::spawn(async move {
                // Each cell opens the store itself; the first ones race to create the schema.
                let store = Store::open(&path).await.unwrap();
                store.put_task_set(&set()).await.unwrap();
                let m = manifest(&format!("model-{cell}"));
                let begun = store.begin_run(&m, true).await.unwrap();
                for i in 0..4 {
                    store.record(begun.id, &completion(&format!("t{i}"), None), false).await.unwrap();
                }
                begun.id
            })
        })
        .collect();
    let mut ids = Vec::new();
    for c in cells {
        ids.push(c.await.unwrap());
    }
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 6, "one run per cell");
    // Cell 3 is resubmitted after a kill: it resumes its run and writes its tasks again.
    let store = Store::open(&path).await.unwrap();
    let again = store.begin_run(&manifest("model-3"), true).await.unwrap();
    assert_eq!(again.resumed.as_ref().map(|r| r.1), Some(4));
    for i in 0..4 {
        store.record(again.id, &completion(&format!("t{i}"), None), false).await.unwrap();
    }
    let runs = store.runs().await.unwrap();
    assert_eq!(runs.len(), 6);
    assert!(runs.iter().all(|r| r.results == 4), "{:?}", runs.iter().map(|r| r.results).collect::<Vec<_>>());
}
