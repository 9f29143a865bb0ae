//! The evaluation matrix on a real scheduler: six cells (the fixture
//! repository, Cerberus and click, each against both real local models,
//! Gemma 3 270M and SmolLM2 135M Instruct, behind one real llama.cpp server)
//! submitted as a Slurm job array to the single-node Slurm that
//! `scripts/test.sh` starts, every cell writing into one PostgreSQL store.
//! Every cell completes, nothing is duplicated, and the report compares the
//! two models' runs of each task set, and only those.

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
fn a_six_cell_matrix_of_two_models_runs_as_a_slurm_job_array_into_postgres() {
    let Some(_conf) = slurm_conf() else { return };
    let Some(db) = block_on(test_support::tools::fresh_postgres()) else { return };
    let (Some(cerberus), Some(click), Some(gguf), Some(smol)) =
        (tool("BENCH_CERBERUS_DIR"), tool("BENCH_EXTRA_PROJECT_2"), tool("BENCH_GGUF"), tool("BENCH_GGUF_SMOLLM2"))
    else {
        return;
    };
    let Some(server) = LlamaServer::start_both() else { return };
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let file = dir.path().join("matrix.yaml");
    // Six tasks a cell: an understanding and an audit pair reach the headline
    // (a structural set keeps generation out of it), so the two models'
    // runs of one set share units to compare.
    std::fs::write(
        &file,
        format!(
            "store: {db}\nout_dir: {}\ncount: 6\neval_args: [--num-predict, '24', --num-ctx, '2048']\n\
             sources:\n  - source: {}\n  - source: {}\n  - source: {}\n\
             models:\n  - name: gemma3\n    backend: openai\n    endpoint: '{url}'\n    vram: 2GiB\n    gguf: {}\n\
             \x20 - name: smollm2\n    backend: openai\n    endpoint: '{url}'\n    vram: 2GiB\n    gguf: {}\n",
            s(&out),
            s(&fixture_dir()),
            s(&cerberus),
            s(&click),
            s(&gguf),
            s(&smol),
            url = server.url(),
        ),
    )
    .unwrap();

    let (code, plan, err) = run(&["matrix", "plan", s(&file)]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(plan.matches("cell ").count(), 6, "{plan}");
    assert!(
        plan.contains("llama architecture") || plan.contains("llama"),
        "each model planned from its own GGUF: {plan}"
    );
    assert!(plan.contains(": fits") && plan.contains("bench-cli eval"), "{plan}");

    let (code, submitted, err) = run(&["matrix", "submit", s(&file), "--engine", "slurm"]);
    assert_eq!(code, 0, "{err}");
    assert!(submitted.contains("submitted job array"), "{submitted}");
    let script = std::fs::read_to_string(out.join("matrix.sbatch")).unwrap();
    assert!(script.contains("#SBATCH --array=0-5") && script.contains("#SBATCH --gres=gpu:1"), "{script}");

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
    assert_eq!(runs.len(), 6, "one run per cell");

    let (code, _, err) = run(&["report", "--db", &db, "--format", "json", "--out", s(&dir.path().join("r.json"))]);
    assert_eq!(code, 0, "{err}");
    let report = common::read_json(&dir.path().join("r.json"));
    assert_eq!(report["runs"].as_array().unwrap().len(), 6);
    // Three task sets, each run by both models: one paired comparison each.
    let comparisons = report["comparisons"].as_array().unwrap();
    assert_eq!(comparisons.len(), 3, "{comparisons:?}");
    for c in comparisons {
        let models = [c["model_a"].as_str().unwrap(), c["model_b"].as_str().unwrap()];
        assert!(models.contains(&"gemma3") && models.contains(&"smollm2"), "{c}");
        assert!(c["p_value"].as_f64().unwrap() <= 1.0 && c["detectable_difference"].as_f64().is_some(), "{c}");
    }

    // The same matrix for Kubernetes: an Indexed Job, written, not submitted.
    let (code, _, err) = run(&["matrix", "submit", s(&file), "--engine", "kubernetes", "--image", "bench:test"]);
    assert_eq!(code, 0, "{err}");
    let job: serde_json::Value =
        serde_yaml_ng::from_str(&std::fs::read_to_string(out.join("matrix-job.yaml")).unwrap()).unwrap();
    assert_eq!((job["kind"].as_str(), job["spec"]["completionMode"].as_str()), (Some("Job"), Some("Indexed")));
    assert_eq!(job["spec"]["completions"], 6);
}

fn logs(out: &std::path::Path) -> String {
    (0..6).map(|i| std::fs::read_to_string(out.join(format!("cell-{i}.log"))).unwrap_or_default()).collect()
}
