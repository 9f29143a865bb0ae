//! The evaluation matrix on a real scheduler: three cells (the fixture
//! repository, Cerberus and click, each against the local Gemma model on the
//! real llama.cpp server) submitted as a Slurm job array to the single-node
//! Slurm that `scripts/test.sh` starts, every cell writing into one
//! PostgreSQL store. Every cell completes, nothing is duplicated, and the
//! report compares only runs of the same task set.

#![allow(clippy::unwrap_used)] // tests fail loudly

mod common;

use std::time::{Duration, Instant};

use common::{block_on, fixture_dir, run, s};
use test_support::tools::{required, tool, LlamaServer};

fn slurm_conf() -> Option<String> {
    match std::env::var("SLURM_CONF").ok().filter(|c| std::path::Path::new(c).exists()) {
        Some(c) => Some(c),
        None if required() => panic!("SLURM_CONF is not set; scripts/test.sh starts Slurm (BENCH_REQUIRE_TOOLS=1)"),
        None => {
            eprintln!("skipped: no Slurm (scripts/test.sh starts one)");
            None
        }
    }
}

#[test]
fn a_three_cell_matrix_runs_as_a_slurm_job_array_into_postgres() {
    let Some(_conf) = slurm_conf() else { return };
    let Some(db) = block_on(test_support::tools::fresh_postgres()) else { return };
    let (Some(cerberus), Some(click), Some(gguf)) =
        (tool("BENCH_CERBERUS_DIR"), tool("BENCH_EXTRA_PROJECT_2"), tool("BENCH_GGUF"))
    else {
        return;
    };
    let Some(server) = LlamaServer::start() else { return };
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let file = dir.path().join("matrix.yaml");
    std::fs::write(
        &file,
        format!(
            "store: {db}\nout_dir: {}\ncount: 2\neval_args: [--num-predict, '24', --num-ctx, '2048']\n\
             sources:\n  - source: {}\n  - source: {}\n  - source: {}\n\
             models:\n  - name: gemma3\n    backend: openai\n    endpoint: '{}'\n    vram: 2GiB\n    gguf: {}\n",
            s(&out),
            s(&fixture_dir()),
            s(&cerberus),
            s(&click),
            server.url(),
            s(&gguf)
        ),
    )
    .unwrap();

    let (code, plan, err) = run(&["matrix", "plan", s(&file)]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(plan.matches("cell ").count(), 3, "{plan}");
    assert!(plan.contains(": fits") && plan.contains("bench-cli eval"), "{plan}");

    let (code, submitted, err) = run(&["matrix", "submit", s(&file), "--engine", "slurm"]);
    assert_eq!(code, 0, "{err}");
    assert!(submitted.contains("submitted job array"), "{submitted}");
    let script = std::fs::read_to_string(out.join("matrix.sbatch")).unwrap();
    assert!(script.contains("#SBATCH --array=0-2") && script.contains("#SBATCH --gres=gpu:1"), "{script}");

    // Wait for the array: every cell finished in the store.
    let deadline = Instant::now() + Duration::from_secs(600);
    let status = loop {
        let (code, status, err) = run(&["matrix", "status", s(&file), "--json"]);
        assert_eq!(code, 0, "{err}");
        let v: serde_json::Value = serde_json::from_str(&status).unwrap();
        if v.as_array().unwrap().iter().all(|c| c["state"] == "finished") {
            break v;
        }
        assert!(Instant::now() < deadline, "the array did not finish: {status}\n{}", logs(&out));
        std::thread::sleep(Duration::from_secs(2));
    };
    for cell in status.as_array().unwrap() {
        assert_eq!(cell["results"], cell["tasks"], "{cell}");
    }
    let runs = block_on(async {
        let store = result_store::Store::open_existing(std::path::Path::new(&db)).await.unwrap();
        let runs = store.runs().await.unwrap();
        for r in &runs {
            let cs = store.completions(r.id).await.unwrap();
            let mut ids: Vec<&str> = cs.iter().map(|c| c.task_id.as_str()).collect();
            ids.dedup();
            assert_eq!(ids.len(), cs.len(), "run {}: no task twice", r.id);
        }
        runs
    });
    assert_eq!(runs.len(), 3, "one run per cell");

    let (code, _, err) = run(&["report", "--db", &db, "--format", "json", "--out", s(&dir.path().join("r.json"))]);
    assert_eq!(code, 0, "{err}");
    let report = common::read_json(&dir.path().join("r.json"));
    assert_eq!(report["runs"].as_array().unwrap().len(), 3);
    assert!(report["comparison"].as_array().unwrap().is_empty(), "three task sets: nothing to compare");

    // The same matrix for Kubernetes: an Indexed Job, written, not submitted.
    let (code, _, err) = run(&["matrix", "submit", s(&file), "--engine", "kubernetes", "--image", "bench:test"]);
    assert_eq!(code, 0, "{err}");
    let job: serde_json::Value =
        serde_yaml_ng::from_str(&std::fs::read_to_string(out.join("matrix-job.yaml")).unwrap()).unwrap();
    assert_eq!((job["kind"].as_str(), job["spec"]["completionMode"].as_str()), (Some("Job"), Some("Indexed")));
    assert_eq!(job["spec"]["completions"], 3);
}

fn logs(out: &std::path::Path) -> String {
    (0..3).map(|i| std::fs::read_to_string(out.join(format!("cell-{i}.log"))).unwrap_or_default()).collect()
}
