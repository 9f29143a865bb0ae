//! Every example, built and run as a user runs it, on the fixture written for
//! this project (the real interpreter, model server and GGUF where one is
//! needed); and each example's dependency tree holds only the crate it shows.

#![allow(clippy::unwrap_used)] // tests fail loudly

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use test_support::tools::{tool, workspace_root, LlamaServer};

/// Builds the example (a filtered `cargo test` skips examples) and returns
/// the executable cargo reports.
fn example(name: &str) -> PathBuf {
    let out = Command::new(env!("CARGO"))
        .args(["build", "--quiet", "--message-format=json", "-p", "examples", "--example", name])
        .current_dir(workspace_root())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .find(|m| m["target"]["name"] == name && m["executable"].is_string())
        .map(|m| PathBuf::from(m["executable"].as_str().unwrap()))
        .unwrap_or_else(|| panic!("cargo built no executable for example {name}"))
}

/// Runs an example to completion: (exit code, stdout, stderr).
fn run(name: &str, args: &[&str]) -> (i32, String, String) {
    let o = Command::new(example(name)).args(args).current_dir(workspace_root()).output().unwrap();
    (
        o.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&o.stdout).into(),
        String::from_utf8_lossy(&o.stderr).into(),
    )
}

fn ok(name: &str, args: &[&str]) -> String {
    let (code, out, err) = run(name, args);
    assert_eq!(code, 0, "{name} {args:?}: {err}\n{out}");
    out
}

fn fixture() -> String {
    workspace_root().join("tests/fixtures/tinyvalidator").display().to_string()
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn scan_extract_synth_emit_store_and_report_on_the_fixture() {
    let dir = tempfile::tempdir().unwrap();
    let out = ok("scan_snapshot", &[&fixture()]);
    assert!(out.starts_with("snapshot ") && out.contains("tinyvalidator/rules.py"), "{out}");

    let rules = workspace_root().join("tests/fixtures/tinyvalidator/tinyvalidator/rules.py");
    let out = ok("extract_metadata", &[s(&rules)]);
    assert!(out.contains("def check_type(field, value, expected)"), "{out}");

    let tasks = dir.path().join("tasks.json");
    let out = ok("synth_tasks", &[&fixture(), s(&tasks)]);
    assert!(out.contains("(structural)") && out.contains("identical in two syntheses"), "{out}");
    let set: bench_core::TaskSet = serde_json::from_str(&std::fs::read_to_string(&tasks).unwrap()).unwrap();
    assert!(!set.tasks.is_empty());

    let emitted = dir.path().join("promptfoo");
    let out = ok("emit_promptfoo", &[s(&tasks), s(&emitted), "ollama:qwen3:32b", "openai:gemma3"]);
    let configs = std::fs::read_dir(&emitted)
        .unwrap()
        .filter(|e| e.as_ref().unwrap().path().extension().is_some_and(|x| x == "yaml"))
        .count();
    assert_eq!(configs, 2, "one config per model: {out}");

    let db = dir.path().join("r.sqlite");
    let out = ok("store_results", &[s(&tasks), s(&db)]);
    let half = set.tasks.len() / 2;
    assert!(out.contains(&format!("{half} of {} already recorded", set.tasks.len())), "{out}");
    assert!(out.contains("code_generation"), "{out}");

    let html = dir.path().join("report.html");
    let out = ok("render_report", &[s(&db), s(&html)]);
    assert!(out.contains("wrote") && std::fs::read_to_string(&html).unwrap().contains("<html"), "{out}");

    // Bad input: one line naming the file.
    let (code, _, err) = run("store_results", &["/nonexistent/tasks.json", s(&db)]);
    assert_eq!(code, 1);
    assert!(err.starts_with("error: /nonexistent/tasks.json"), "{err}");
}

#[test]
fn synthesis_and_the_sandbox_with_the_real_interpreter() {
    let Some(python) = tool("BENCH_TEST_PYTHON") else { return };
    let python = python.display().to_string();
    let out = ok("sandbox_tests", &[&python, &fixture(), "tinyvalidator/rules.py"]);
    assert!(out.starts_with("baseline: "), "{out}");
    let line =
        out.lines().find(|l| l.starts_with("with ") && l.contains(" broken: ")).unwrap_or_else(|| panic!("{out}"));
    let (failed, of) = line.split_once(": ").unwrap().1.split_once(" of ").unwrap();
    assert!(failed != "0" && of.split_whitespace().next() == Some(failed), "every covering test fails: {out}");

    let dir = tempfile::tempdir().unwrap();
    let tasks = dir.path().join("tasks.json");
    let out = ok("synth_tasks", &[&fixture(), s(&tasks), &python]);
    assert!(out.contains("(execution-verified)"), "{out}");
}

#[test]
fn plan_and_run_against_the_real_model_server() {
    let Some(gguf) = tool("BENCH_GGUF_SMOLLM2") else { return };
    let out = ok("plan_vram", &[s(&gguf), "2GiB", "4096"]);
    let plan: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(plan["fits"], true, "{out}");

    let Some(server) = LlamaServer::start_model("BENCH_GGUF_SMOLLM2", "smollm2", None, &[]) else { return };
    let dir = tempfile::tempdir().unwrap();
    let tasks = dir.path().join("tasks.json");
    ok("synth_tasks", &[&fixture(), s(&tasks)]);
    let mut set: bench_core::TaskSet = serde_json::from_str(&std::fs::read_to_string(&tasks).unwrap()).unwrap();
    set.tasks.truncate(3);
    std::fs::write(&tasks, serde_json::to_string(&set).unwrap()).unwrap();
    let out_file = dir.path().join("out.jsonl");
    let out = ok("run_tasks", &[s(&tasks), "openai", &server.url(), "smollm2", s(&out_file), "2GiB", s(&gguf)]);
    assert!(out.starts_with("3 completed, 0 failed"), "{out}");
    let answers: Vec<bench_core::Completion> =
        std::fs::read_to_string(&out_file).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert!(answers.iter().filter(|c| !c.text.is_empty()).count() >= 3, "real answers: {answers:?}");
}

#[test]
fn run_tasks_refuses_a_plan_that_does_not_fit_writes_json_lines_and_resumes() {
    let server = test_support::ollama_server::FakeOllama::start();
    let dir = tempfile::tempdir().unwrap();
    let tasks = dir.path().join("tasks.json");
    let set = bench_core::TaskSet {
        taskset_id: "ts".into(),
        snapshot_id: "snap".into(),
        rules_hash: "rules".into(),
        tool_version: bench_core::TOOL_VERSION.into(),
        requested: 3,
        execution: None,
        novelty: None,
        tasks: test_support::tasks(3),
    };
    std::fs::write(&tasks, serde_json::to_string(&set).unwrap()).unwrap();
    let out = dir.path().join("out.jsonl");
    let exe = example("run_tasks");
    let run = |vram: &str| {
        let o = Command::new(&exe)
            .arg(&tasks)
            .args(["ollama", &server.url(), "qwen-test"])
            .arg(&out)
            .arg(vram)
            .output()
            .unwrap();
        (
            o.status.code(),
            String::from_utf8_lossy(&o.stdout).into_owned(),
            String::from_utf8_lossy(&o.stderr).into_owned(),
        )
    };

    let (code, _, err) = run("1GiB");
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("does not fit"), "{err}");
    assert!(!out.exists(), "nothing ran");

    let (code, stdout, err) = run("32GiB");
    assert_eq!(code, Some(0), "{err}");
    assert!(stdout.starts_with("3 completed, 0 failed, 0 already done"), "{stdout}");
    assert!(err.contains("fits"), "the plan is shown: {err}");
    let lines: Vec<bench_core::Completion> =
        std::fs::read_to_string(&out).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 4, "the warm-up and three tasks");
    let manifest: bench_core::RunManifest =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("out.jsonl.manifest.json")).unwrap()).unwrap();
    assert!(manifest.finished_at.is_some() && manifest.vram_plan.is_some());

    let (code, stdout, _) = run("32GiB");
    assert_eq!(code, Some(0));
    assert!(stdout.starts_with("0 completed, 0 failed, 3 already done"), "{stdout}");
}

/// The packages in `cargo tree` (normal edges) for `args`.
fn tree(args: &[&str]) -> BTreeSet<String> {
    let out = Command::new(env!("CARGO"))
        .args(["tree", "--offline", "-e", "normal", "--prefix", "none", "--format", "{p}"])
        .args(args)
        .current_dir(workspace_root())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .map(str::to_string)
        .collect()
}

/// `cargo tree` of the example's feature alone: every package in it is the
/// embedded crate, or in that crate's own tree.
#[test]
fn each_example_depends_on_its_crate_alone() {
    for (feature, shown) in [
        ("repo-scan", &["repo-scan"][..]),
        ("py-ast-meta", &["py-ast-meta"]),
        ("task-synth", &["task-synth"]),
        ("task-synth,py-testenv", &["task-synth", "py-testenv"]),
        ("promptfoo-emit", &["promptfoo-emit"]),
        ("ollama-runner", &["ollama-runner"]),
        ("result-store", &["result-store"]),
        ("py-testenv", &["py-testenv"]),
        ("bench-report", &["bench-report"]),
    ] {
        let used = tree(&["-p", "examples", "--no-default-features", "--features", feature]);
        let mut allowed: BTreeSet<String> = ["examples".to_string()].into();
        for c in shown {
            allowed.extend(tree(&["-p", c]));
        }
        let extra: Vec<&String> = used.difference(&allowed).collect();
        assert!(extra.is_empty(), "the {feature} example pulls in more than {shown:?}: {extra:?}");
        assert!(used.contains(*shown.first().unwrap()), "{feature}: {used:?}");
    }
}

/// The planner embeds without a network or a database, the report without
/// the runner, and no crate's modules import each other in a cycle (checked
/// by `scripts/module-cycles.py`, which follows every `crate::`, `super::`
/// and `self::` path through the root's re-exports).
#[test]
fn the_house_has_pure_leaves_and_no_module_cycle() {
    let plan = tree(&["-p", "vram-plan"]);
    for heavy in ["reqwest", "hyper", "sqlx", "ollama-rs", "tokio"] {
        assert!(!plan.contains(heavy), "vram-plan depends on {heavy}: {plan:?}");
    }
    let report = tree(&["-p", "bench-report"]);
    assert!(!report.contains("ollama-runner"), "{report:?}");
    assert!(report.contains("vram-plan"), "{report:?}");

    let out = Command::new("python3")
        .arg(workspace_root().join("scripts/module-cycles.py"))
        .arg(workspace_root().join("crates"))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains(" 0 cycles"), "{stdout}");
}
