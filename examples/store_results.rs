//! Uses `result-store` alone: opens a store (a SQLite file, or a
//! `postgres://` URL), records a run of a task set in two sittings (the
//! second resumes where the first stopped), stores grades and reads the
//! pass rates back with their Wilson intervals.
//!
//! cargo run -p examples --example store_results -- tasks.json results.sqlite

use std::path::Path;

use bench_core::{now_rfc3339, Completion, EndpointScope, Grade, RunManifest, SamplingOptions, TaskSet};
use result_store::Store;

fn manifest(set: &TaskSet) -> RunManifest {
    RunManifest {
        taskset_id: set.taskset_id.clone(),
        snapshot_id: set.snapshot_id.clone(),
        rules_hash: set.rules_hash.clone(),
        tool_version: set.tool_version.clone(),
        driver: "example".into(),
        backend_kind: "recorded".into(),
        backend_version: None,
        endpoint: "none".into(),
        endpoint_scope: EndpointScope::Loopback,
        model: "echo".into(),
        model_digest: None,
        quantization: None,
        options: SamplingOptions::default(),
        vram_plan: None,
        residency: None,
        host: "example".into(),
        started_at: now_rfc3339(),
        finished_at: None,
        warnings: Vec::new(),
        egress: None,
        batch: None,
    }
}

async fn main_() -> Result<(), String> {
    let args: Vec<String> = std::env::args().collect();
    let [_, tasks, db] = args.as_slice() else {
        return Err("usage: store_results TASKS.json STORE".into());
    };
    let text = std::fs::read_to_string(tasks).map_err(|e| format!("{tasks}: {e}"))?;
    let set: TaskSet = serde_json::from_str(&text).map_err(|e| format!("{tasks}: not a task set: {e}"))?;
    let m = manifest(&set);
    let half = set.tasks.len() / 2;

    // The first sitting records half the answers, then "stops".
    let store = Store::open(Path::new(db)).await.map_err(|e| e.to_string())?;
    store.put_task_set(&set).await.map_err(|e| e.to_string())?;
    let begun = store.begin_run(&m, true).await.map_err(|e| e.to_string())?;
    for t in set.tasks.iter().take(half) {
        store
            .record(begun.id, &Completion::answer(&t.id, t.prompt.user.clone()), false)
            .await
            .map_err(|e| e.to_string())?;
    }
    drop(store);

    // The second sitting finds the same run (same identity) and what it has.
    let store = Store::open_existing(Path::new(db)).await.map_err(|e| e.to_string())?;
    let begun = store.begin_run(&m, true).await.map_err(|e| e.to_string())?;
    let done = store.done(begun.id).await.map_err(|e| e.to_string())?;
    println!("run {} resumed: {:?}, {} of {} already recorded", begun.id, begun.resumed, done.len(), set.tasks.len());
    for t in set.tasks.iter().filter(|t| !done.contains(&t.id)) {
        store
            .record(begun.id, &Completion::answer(&t.id, t.prompt.user.clone()), false)
            .await
            .map_err(|e| e.to_string())?;
    }
    store
        .finish_run(begun.id, &RunManifest { finished_at: Some(now_rfc3339()), ..m })
        .await
        .map_err(|e| e.to_string())?;

    // Grades come from the embedder's grader; here every generation task passes.
    let grades: Vec<Grade> = set
        .tasks
        .iter()
        .map(|t| Grade {
            task_id: t.id.clone(),
            pass: matches!(t.category, bench_core::Category::CodeGeneration),
            reason: None,
            components: Vec::new(),
            invented: Vec::new(),
            api: None,
            similarity: None,
        })
        .collect();
    store.put_grades(begun.id, &grades).await.map_err(|e| e.to_string())?;
    for r in store.pass_rates().await.map_err(|e| e.to_string())? {
        println!(
            "{} {:<20} {:<3} {}/{} = {:.2} [{:.2}, {:.2}]",
            r.model, r.category, r.tier, r.passed, r.n, r.rate, r.low, r.high
        );
    }
    Ok(())
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    if let Err(e) = main_().await {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}
