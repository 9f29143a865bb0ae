//! The shared store: `--db postgres://…` on the throw-away PostgreSQL server
//! that `scripts/test.sh` starts. A cell killed (SIGKILL) mid-run and
//! resubmitted loses and duplicates nothing; the report reads the same store.

#![allow(clippy::unwrap_used)] // tests fail loudly

mod common;

use common::{bin, block_on, fixture_tasks, kill_after, run, s};
use test_support::ollama_server::FakeOllama;

#[test]
fn a_cell_killed_and_resubmitted_against_postgres_loses_and_duplicates_nothing() {
    let Some(url) = block_on(test_support::tools::fresh_postgres()) else { return };
    let server = FakeOllama::start();
    let dir = tempfile::tempdir().unwrap();
    let (tasks, n) = fixture_tasks(dir.path(), "12");
    let endpoint = server.url();
    let args = [
        "run",
        "--tasks",
        s(&tasks),
        "--backend",
        "ollama",
        "--endpoint",
        &endpoint,
        "--model",
        "slow",
        "--db",
        &url,
        "--resume",
    ];
    assert_eq!(kill_after(&args, "slow ", 3), 3);

    let out = bin().args(args).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(err.contains("resumed run 1"), "{err}");
    assert!(!err.contains("secret"), "no password is shown");
    let results = block_on(async {
        let store = result_store::Store::open_existing(std::path::Path::new(&url)).await.unwrap();
        assert_eq!(store.runs().await.unwrap().len(), 1);
        store.completions(1).await.unwrap()
    });
    let mut ids: Vec<&str> = results.iter().map(|c| c.task_id.as_str()).collect();
    ids.sort();
    ids.dedup();
    assert_eq!((results.len(), ids.len()), (n, n), "every task exactly once");

    let (code, _, err) = run(&["grade", "--db", &url]);
    assert_eq!(code, 0, "{err}");
    let (code, md, err) = run(&["report", "--db", &url]);
    assert_eq!(code, 0, "{err}");
    assert!(md.contains("## Run 1: slow"), "{md}");
}
