#![allow(clippy::unwrap_used)] // tests and benches fail loudly
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_bench-cli"))
}

pub fn fixture_dir() -> PathBuf {
    test_support::tools::workspace_root().join("tests/fixtures/tinyvalidator")
}

/// Runs bench-cli; returns (exit code, stdout, stderr).
pub fn run(args: &[&str]) -> (i32, String, String) {
    let out: Output = bin().args(args).output().expect("bench-cli runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

pub fn s(p: &Path) -> &str {
    p.to_str().expect("a UTF-8 path")
}

/// `bench-cli run` over a task set, with `extra` arguments after the usual ones.
pub fn run_tasks(
    tasks: &Path,
    backend: &str,
    url: &str,
    model: &str,
    db: &Path,
    extra: &[&str],
) -> (i32, String, String) {
    let mut args =
        vec!["run", "--tasks", s(tasks), "--backend", backend, "--endpoint", url, "--model", model, "--db", s(db)];
    args.extend_from_slice(extra);
    run(&args)
}

/// Runs a future to completion on a fresh single-threaded runtime.
pub fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime").block_on(f)
}

/// A JSON file, parsed.
pub fn read_json(path: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The fixture's task set, `count` tasks, written to `dir/tasks.json`; with its size.
pub fn fixture_tasks(dir: &Path, count: &str) -> (PathBuf, usize) {
    let tasks = dir.join("tasks.json");
    let (code, _, err) = run(&["synth", s(&fixture_dir()), "--count", count, "--out", s(&tasks)]);
    assert_eq!(code, 0, "{err}");
    let n = task_synth::read_task_set(&std::fs::read_to_string(&tasks).unwrap(), "tasks.json").unwrap().tasks.len();
    (tasks, n)
}

/// Runs bench-cli with `args` and kills it (SIGKILL) once `n` stderr lines
/// starting with `prefix` have been reported; returns how many were.
pub fn kill_after(args: &[&str], prefix: &str, n: usize) -> usize {
    use std::io::{BufRead, BufReader};
    let mut child =
        bin().args(args).stderr(std::process::Stdio::piped()).stdout(std::process::Stdio::null()).spawn().unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let mut reported = 0;
    while let Some(Ok(line)) = lines.next() {
        if line.starts_with(prefix) {
            reported += 1;
            if reported == n {
                child.kill().unwrap();
                break;
            }
        }
    }
    child.wait().unwrap();
    reported
}
