//! Two air-gapped nodes evaluate a model each into their own store; `merge`
//! brings both into one, idempotently, and the report compares them.

#![allow(clippy::unwrap_used)] // tests fail loudly

mod common;

use common::{fixture_dir, read_json, run, s};
use test_support::ollama_server::FakeOllama;

#[test]
fn stores_from_two_nodes_merge_into_one_report() {
    let server = FakeOllama::start();
    let dir = tempfile::tempdir().unwrap();
    let url = server.url();
    let fx = fixture_dir();
    let node = |n: &str, model: &str| {
        let db = dir.path().join(format!("{n}.sqlite"));
        let out = dir.path().join(n);
        let args = ["eval", s(&fx), "--backend", "ollama", "--endpoint", &url, "--model", model, "--count", "6"];
        let (code, _, err) = run(&[&args[..], &["--db", s(&db), "--out-dir", s(&out)]].concat());
        assert_eq!(code, 0, "{err}");
        db
    };
    let (a, b) = (node("a", "qwen-test"), node("b", "slow"));
    let c = dir.path().join("c.sqlite");
    let (code, out, err) = run(&["merge", s(&a), s(&b), "--into", s(&c)]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("1 runs added, 0 matched; 7 results added"), "{out}");
    // Again (the warm-up is a result too): nothing is added.
    let (code, again, _) = run(&["merge", s(&b), s(&a), "--into", s(&c)]);
    assert_eq!(code, 0);
    assert_eq!(again.matches("0 runs added, 1 matched; 0 results added, 7 already here").count(), 2, "{again}");

    let (code, _, err) = run(&["report", "--db", s(&c), "--format", "json", "--out", s(&dir.path().join("r.json"))]);
    assert_eq!(code, 0, "{err}");
    let report = read_json(&dir.path().join("r.json"));
    assert_eq!(report["runs"].as_array().unwrap().len(), 2);
    assert_eq!(report["comparison"][0]["comparable"], true, "{}", report["comparison"]);

    let (code, _, err) = run(&["merge", s(&dir.path().join("nope.sqlite")), "--into", s(&c)]);
    assert_eq!(code, 2);
    assert!(err.contains("nope.sqlite: no such store"), "{err}");
}
