//! The binary's contract: exit codes 0 / 1 / 2, JSON outputs, one-line errors
//! naming the file at fault.

#![allow(clippy::unwrap_used)] // tests and benches fail loudly

mod common;

use common::{fixture_dir, run, s};

#[test]
fn scan_extract_synth_verify_on_the_fixture() {
    let dir = tempfile::tempdir().unwrap();
    let fx = fixture_dir();
    let (code, out, _) = run(&["scan", s(&fx), "--json"]);
    assert_eq!(code, 0);
    let scan: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert!(scan["snapshot_id"].as_str().unwrap().len() == 64);
    assert!(scan["files"]
        .as_array()
        .unwrap()
        .iter()
        .all(|f| f["path"].is_string() && f["blake3"].is_string() && f["bytes"].is_u64()));

    let (code, out, _) = run(&["extract", s(&fx), "--json"]);
    assert_eq!(code, 0);
    let ex: serde_json::Value = serde_json::from_str(&out).unwrap();
    for key in ["path", "imports", "functions", "classes", "significant_method"] {
        assert!(ex["modules"][0].get(key).is_some(), "{key}");
    }
    assert_eq!(ex["parse_failures"], serde_json::json!([]));

    let tasks = dir.path().join("tasks.json");
    let (code, out, _) = run(&["synth", s(&fx), "--out", s(&tasks)]);
    assert_eq!(code, 0);
    assert!(out.contains("code_understanding") && out.contains("T5"), "{out}");
    let (code, out, _) = run(&["verify", s(&fx), "--tasks", s(&tasks)]);
    assert_eq!(code, 0, "{out}");

    // A changed repository no longer re-derives the set: exit 1, first difference named.
    let copy = dir.path().join("copy");
    std::fs::create_dir_all(copy.join("tinyvalidator")).unwrap();
    for f in [
        "pyproject.toml",
        "setup.py",
        "tinyvalidator/__init__.py",
        "tinyvalidator/errors.py",
        "tinyvalidator/rules.py",
        "tinyvalidator/schema.py",
    ] {
        std::fs::copy(fx.join(f), copy.join(f)).unwrap();
    }
    std::fs::write(copy.join("tinyvalidator/extra.py"), "def extra(a):\n    return a\n").unwrap();
    let (code, out, _) = run(&["verify", s(&copy), "--tasks", s(&tasks)]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("MISMATCH") && out.contains("snapshot_id"), "{out}");
}

#[test]
fn bad_input_is_exit_2_with_one_line_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("no-such-repo");
    let (code, _, err) = run(&["scan", s(&missing)]);
    assert_eq!(code, 2);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("no-such-repo"), "{err}");

    let tasks = dir.path().join("tasks.json");
    std::fs::write(&tasks, "{\"not\": \"a task set\"}").unwrap();
    let (code, _, err) = run(&["verify", s(&fixture_dir()), "--tasks", s(&tasks)]);
    assert_eq!((code, err.lines().count()), (2, 1), "{err}");
    assert!(err.contains("tasks.json"), "{err}");

    let not_db = dir.path().join("notes.sqlite");
    std::fs::write(&not_db, "plain text, not SQLite").unwrap();
    let (code, _, err) = run(&["grade", "--db", s(&not_db)]);
    assert_eq!((code, err.lines().count()), (2, 1), "{err}");
    assert!(err.contains("notes.sqlite") && err.contains("not a result store"), "{err}");

    let (code, _, err) =
        run(&["emit-promptfoo", "--tasks", s(&tasks), "--model", "gemma3", "--out-dir", s(dir.path())]);
    assert_eq!(code, 2, "{err}");
}

#[test]
fn a_store_from_a_newer_schema_is_refused_and_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("r.sqlite");
    common::block_on(async {
        let store = result_store::Store::open(&db).await.unwrap();
        drop(store);
    });
    let conn = std::process::Command::new("sqlite3")
        .arg(&db)
        .arg("INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) VALUES (999, 'future', 1, x'00', 0);")
        .status();
    if !conn.is_ok_and(|s| s.success()) {
        eprintln!("skipped: no sqlite3 shell");
        return;
    }
    let before = std::fs::read(&db).unwrap();
    let (code, _, err) = run(&["report", "--db", s(&db)]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("newer version") && err.contains("r.sqlite"), "{err}");
    assert_eq!(before, std::fs::read(&db).unwrap(), "nothing written");
}

#[test]
fn plan_reports_and_fails_when_over_budget() {
    let Some(gguf) = test_support::tools::tool("BENCH_GGUF") else { return };
    let (code, out, _) = run(&["plan", "--gguf", s(&gguf), "--vram", "8GiB", "--ctx", "8192", "--json"]);
    assert_eq!(code, 0);
    let plan: serde_json::Value = serde_json::from_str(&out).unwrap();
    // The real Gemma 3 270M file: 18 layers, one global in six, window 512,
    // one KV head of 256 + 256 at f16.
    assert_eq!(plan["full_layers"], 3);
    assert_eq!(plan["sliding_layers"], 15);
    assert_eq!(plan["kv_bytes_per_token_per_full_layer"], 1024);
    // llama.cpp's server holds 4 slots sharing one cache: a window for each
    // plus a micro-batch (4 x 512 + 512) on sliding layers, the context once
    // on global ones, a row of logits per slot; with one slot, 512 + 512.
    // llama-cpp-python keeps the whole context.
    assert_eq!(plan["request"]["parallel"], 4);
    assert_eq!(plan["kv_cache"], 3 * 8192 * 1024 + 15 * 2560 * 1024);
    assert_eq!(plan["output_buffer"], 4 * 262144 * 4);
    let (_, out, _) =
        run(&["plan", "--gguf", s(&gguf), "--vram", "8GiB", "--ctx", "8192", "--parallel", "1", "--json"]);
    let one: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(one["kv_cache"], 3 * 8192 * 1024 + 15 * 1024 * 1024);
    let (_, out, _) = run(&[
        "plan",
        "--gguf",
        s(&gguf),
        "--vram",
        "8GiB",
        "--ctx",
        "8192",
        "--runtime",
        "llama-cpp-python",
        "--json",
    ]);
    let full: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(full["kv_cache"], 18 * 8192 * 1024);
    let (code, explained, _) = run(&["plan", "--gguf", s(&gguf), "--vram", "8GiB", "--explain"]);
    assert_eq!(code, 0);
    for component in ["weights =", "KV cache =", "compute buffer =", "output buffer =", "allowance =", "total ="] {
        assert!(explained.contains(component), "{component}: {explained}");
    }
    assert!(explained.contains("gemma3.attention.sliding_window") && explained.contains("vocabulary 262144"));
    assert_eq!(plan["architecture"], "gemma3");
    let (code, out, _) = run(&["plan", "--gguf", s(&gguf), "--vram", "300MiB", "--ctx", "8192"]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("DOES NOT FIT"));
}

/// With `--python` the repository's tests settle ground truth and `verify`
/// re-derives the set byte for byte; without it the fallback is said aloud.
#[test]
fn execution_verified_synth_and_verify_on_the_ledger_fixture() {
    let Some(python) = test_support::tools::tool("BENCH_TEST_PYTHON") else { return };
    let dir = tempfile::tempdir().unwrap();
    let fx = test_support::tools::workspace_root().join("tests/fixtures/tinyledger");
    let tasks = dir.path().join("tasks.json");
    let cache = dir.path().join("cache");
    let exec = ["--python", s(&python), "--cache-dir", s(&cache)];
    let mut args = vec!["synth", s(&fx), "--count", "12", "--out", s(&tasks)];
    args.extend(exec);
    let (code, out, err) = run(&args);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("ground truth: execution (pytest tests;"), "{err}");
    assert!(out.contains("ground truth: execution-verified"), "{out}");
    let set: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&tasks).unwrap()).unwrap();
    assert_eq!(set["execution"]["environment"]["test_cmd"], serde_json::json!(["pytest", "tests"]));

    let mut args = vec!["verify", s(&fx), "--tasks", s(&tasks)];
    args.extend(exec);
    let (code, out, err) = run(&args);
    assert_eq!(code, 0, "{out}{err}");
    let (code, _, err) = run(&["verify", s(&fx), "--tasks", s(&tasks)]);
    assert_eq!(code, 2);
    assert!(
        err.trim().lines().count() == 1 && err.contains("execution-verified") && err.contains("tasks.json"),
        "{err}"
    );

    let (code, out, err) = run(&["synth", s(&fx), "--count", "12", "--out", s(&dir.path().join("structural.json"))]);
    assert_eq!(code, 0);
    assert!(err.contains("ground truth: structural only") && out.contains("ground truth: structural only"), "{err}");
}

/// `calibrate` prints every stratum's floor and exits 1 when one is broken.
#[test]
fn calibrate_reports_floors_and_flags_broken_strata() {
    let dir = tempfile::tempdir().unwrap();
    let tasks = dir.path().join("tasks.json");
    let (code, _, err) = run(&["synth", s(&fixture_dir()), "--out", s(&tasks)]);
    assert_eq!(code, 0, "{err}");
    let (code, out, _) = run(&["calibrate", "--tasks", s(&tasks), "--json"]);
    let c: serde_json::Value = serde_json::from_str(&out).unwrap();
    let broken = c["broken"].as_array().unwrap();
    assert_eq!(code, if broken.is_empty() { 0 } else { 1 });
    assert_eq!(c["answerers"].as_array().unwrap().len(), task_synth::ANSWERERS.len());
    for f in c["floors"].as_array().unwrap() {
        assert!(f["floor"].as_f64().unwrap() >= 0.0 && f["answerer"].is_string());
        if f["category"] != "code_generation" {
            assert!(f["floor"].as_f64().unwrap() <= 0.10, "{f}");
        }
    }
    let (_, out, _) = run(&["calibrate", "--tasks", s(&tasks)]);
    assert!(out.contains("headline floor:") && out.contains("template-regex"), "{out}");
}
