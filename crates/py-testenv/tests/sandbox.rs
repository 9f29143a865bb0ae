#![allow(clippy::unwrap_used)] // tests fail loudly

//! The test environment on the tinyledger fixture (written for this
//! project), and the sandbox against hostile code: each hostile body is
//! spliced into a real function its tests call, as a model's answer would be.

use std::time::Duration;

use bench_core::{TestJob, TestOracle};
use py_testenv::{Limits, Spec, TestEnv};

fn env(limits: Limits) -> Option<TestEnv> {
    let python = test_support::tools::tool("BENCH_TEST_PYTHON")?;
    let files = test_support::tools::fixture_files("tinyledger");
    let refs: Vec<(&str, &str)> = files.iter().map(|(p, t)| (p.as_str(), t.as_str())).collect();
    let spec = Spec { python, test_cmd: None, cache_dir: None, limits, jobs: 2 };
    Some(TestEnv::prepare(&spec, "tinyledger-fixture", &refs, &["tests".into()]).unwrap())
}

const MONEY: &str = "ledger/money.py";

fn money() -> String {
    std::fs::read_to_string(test_support::tools::workspace_root().join("tests/fixtures/tinyledger").join(MONEY))
        .unwrap()
}

/// `ledger/money.py` with `format_amount`'s body replaced by `body` (4-space indented lines).
fn with_format_body(body: &str) -> String {
    let text = money();
    let start = text.find("    sign = \"-\" if cents < 0").unwrap();
    let end = text.find("def split_evenly").unwrap();
    format!("{}{}\n\n\n{}", &text[..start], body.trim_end(), &text[end..])
}

fn format_line() -> u32 {
    money().lines().position(|l| l.starts_with("def format_amount")).unwrap() as u32 + 1
}

#[test]
fn baseline_coverage_and_mutants() {
    let Some(env) = env(Limits::default()) else { return };
    let b = env.baseline();
    assert_eq!((b.tests, b.passed, b.failed), (24, 24, 0), "{b:?}");
    assert!(b.flaky.is_empty());
    let covering = env.covering(MONEY, format_line());
    assert!(covering.contains(&"tests/test_money.py::test_format_amount".to_string()), "{covering:?}");
    assert!(covering.contains(&"tests/test_accounts.py::test_describe".to_string()), "{covering:?}");
    assert!(!covering.iter().any(|t| t.contains("test_rules")), "{covering:?}");

    let original = TestJob::new(MONEY, money(), covering.clone());
    let mutant = TestJob::new(MONEY, money().replacen("if cents < 0", "if cents <= 0", 1), covering.clone());
    let equivalent = TestJob::new(MONEY, money().replacen("abs(cents), 100", "abs(cents), 100 ", 1), covering);
    let out = env.run(&[original, mutant, equivalent]);
    assert!(out[0].passed(), "{:?}", out[0]);
    assert_eq!(out[1].failed, ["tests/test_money.py::test_format_amount"], "{:?}", out[1]);
    assert!(out[2].passed());
}

/// Each hostile body is contained: graded as a failure with its reason,
/// nothing outside the scratch directory changes, nothing outlives the run,
/// and the next run goes on.
#[test]
fn hostile_answers_are_contained() {
    let limits = Limits { wall: Duration::from_secs(20), memory_bytes: 1 << 30, ..Limits::default() };
    let Some(env) = env(limits) else { return };
    let canary = tempfile::tempdir().unwrap();
    std::fs::set_permissions(canary.path(), std::os::unix::fs::PermissionsExt::from_mode(0o777)).unwrap();
    let outside = canary.path().join("escaped");
    // A listener on the host's loopback: a sandboxed connection must never reach it.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let port = listener.local_addr().unwrap().port();
    let marker = format!("bench-orphan-{}", std::process::id());
    let hostile: Vec<(&str, String)> = vec![
        ("socket", format!(
            "    import socket\n    for host in ('127.0.0.1', '1.1.1.1'):\n        socket.create_connection((host, {port}), timeout=3)\n    return '0.00'"
        )),
        ("write outside", format!(
            "    open({:?}, 'w').write('x')\n    open('/tmp/repo/ledger/money.py', 'w').write('')\n    return '0.00'",
            outside.display().to_string()
        )),
        ("fork bomb", "    import os\n    while True:\n        os.fork()".into()),
        ("allocate", "    hoard = []\n    while True:\n        hoard.append(bytearray(64 << 20))".into()),
        ("never return", "    while True:\n        pass".into()),
        ("orphan", format!(
            "    import os, time\n    if os.fork() == 0:\n        os.setsid()\n        os.execvp('sleep', ['sleep', '300', {marker:?}])\n    return '0.00'"
        )),
    ];
    let tests = vec!["tests/test_money.py::test_format_amount".to_string()];
    let jobs: Vec<TestJob> = hostile
        .iter()
        .map(|(_, body)| TestJob::new(MONEY, with_format_body(body), tests.clone()))
        .chain([TestJob::new(MONEY, money(), tests.clone())])
        .collect();
    let outcomes = env.run(&jobs);
    for ((name, _), o) in hostile.iter().zip(&outcomes) {
        assert!(!o.passed(), "{name} passed: {o:?}");
        assert_eq!(o.failed, tests, "{name}: {o:?}");
        eprintln!("{name}: {o:?}");
    }
    // The budget from the test's baseline duration, not the 20 s limit.
    assert_eq!(outcomes[4].aborted.as_deref(), Some("timed out after 8 s (wall clock)"), "{:?}", outcomes[4]);
    // The run goes on: the original passes after all of them.
    assert!(outcomes.last().unwrap().passed(), "{:?}", outcomes.last());
    assert!(listener.accept().is_err(), "a sandboxed connection reached the host");
    assert!(!outside.exists(), "a write escaped the scratch directory");
    assert_eq!(std::fs::read_dir(canary.path()).unwrap().count(), 0);
    let survivors = std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter_map(|e| std::fs::read(e.path().join("cmdline")).ok())
        .filter(|c| String::from_utf8_lossy(c).contains(&marker))
        .count();
    assert_eq!(survivors, 0, "a process outlived its sandbox");
    // The pristine snapshot is still intact: the original still passes.
    let again = env.run(&[TestJob::new(MONEY, money(), tests)]);
    assert!(again[0].passed());
}

/// `/root` and `/home` are hidden: a file there (the user's keys, say)
/// cannot be read by the answer. The answer below returns the right result
/// only when the read fails, so a passing test proves the file is hidden.
#[test]
fn the_home_directories_are_hidden() {
    let Some(home) = std::env::var_os("HOME").map(std::path::PathBuf::from) else { return };
    if !(home.starts_with("/root") || home.starts_with("/home")) {
        return;
    }
    let Some(env) = env(Limits::default()) else { return };
    let secret = home.join(format!(".bench-secret-{}", std::process::id()));
    std::fs::write(&secret, "key").unwrap();
    std::fs::set_permissions(&secret, std::os::unix::fs::PermissionsExt::from_mode(0o644)).unwrap();
    let text = money();
    let start = text.find("    sign = \"-\" if cents < 0").unwrap();
    let end = text.find("def split_evenly").unwrap();
    let original_body = &text[start..end];
    let body = format!(
        "    try:\n        open({:?}).read()\n        return 'LEAKED'\n    except OSError:\n        pass\n{original_body}",
        secret.display().to_string()
    );
    let tests = vec!["tests/test_money.py::test_format_amount".to_string()];
    let outcome = env.run(&[TestJob::new(MONEY, with_format_body(&body), tests)]);
    std::fs::remove_file(&secret).unwrap();
    assert!(outcome[0].passed(), "the file under {} was readable: {:?}", home.display(), outcome[0]);
}

/// `format_amount`'s original body, to follow a hostile preamble.
fn original_body() -> String {
    let text = money();
    let start = text.find("    sign = \"-\" if cents < 0").unwrap();
    let end = text.find("def split_evenly").unwrap();
    text[start..end].trim_end().to_string()
}

/// Nothing of the host but the interpreter is there: not the workspace's
/// source tree, not the tool's own `.tools/` (where the pinned Cerberus
/// sources lie), not a cache, not the fixture's original file. The answer
/// returns the right result only when every read fails, so a passing test
/// proves each path unreadable. No answer lines are named: this is the
/// sandbox alone, without the harness's audit hook.
#[test]
fn only_the_repository_and_the_interpreter_are_visible() {
    let Some(env) = env(Limits::default()) else { return };
    let root = test_support::tools::workspace_root();
    let cache = std::env::var_os("HOME")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(std::env::temp_dir)
        .join(".cache")
        .join(format!("bench-sandbox-test-{}", std::process::id()));
    std::fs::create_dir_all(&cache).unwrap();
    std::fs::write(cache.join("outcome.json"), "{}").unwrap();
    let mut paths = vec![
        root.join("Cargo.toml"),
        root.join("tests/fixtures/tinyledger").join(MONEY),
        root.join(".tools/env.sh"),
        cache.join("outcome.json"),
    ];
    if let Some(cerberus) = std::env::var_os("BENCH_CERBERUS_DIR") {
        paths.push(std::path::PathBuf::from(cerberus).join("cerberus/validator.py"));
    }
    for p in &paths {
        assert!(p.is_file(), "{} should exist on the host for this test", p.display());
    }
    let shown: Vec<String> = paths.iter().map(|p| format!("{:?}", p.display().to_string())).collect();
    let body = format!(
        "    for path in [{}]:\n        try:\n            open(path).read()\n            return 'LEAKED ' + path\n        except OSError:\n            pass\n{}",
        shown.join(", "),
        original_body()
    );
    let tests = vec!["tests/test_money.py::test_format_amount".to_string()];
    let outcome = env.run(&[TestJob::new(MONEY, with_format_body(&body), tests)]);
    std::fs::remove_dir_all(&cache).unwrap();
    assert!(outcome[0].passed(), "a host file was readable in the sandbox: {:?}", outcome[0]);
}

/// A job whose body is the answer's: the harness attributes what those
/// lines do.
fn answer_job(body: &str, tests: &[String]) -> TestJob {
    let text = with_format_body(body);
    let def = format_line();
    let lines = body.trim_end().lines().count() as u32;
    // The body starts below the def line and its docstring.
    TestJob { file: MONEY.into(), text, tests: tests.to_vec(), answer_lines: vec![[def, def + 1 + lines]], added: None }
}

/// Each way an answer can attack the verdict from inside the test process
/// fails the run and is reported as tampering; the original, run as an
/// answer, passes with nothing reported.
#[test]
fn tampering_with_the_verdict_is_blocked_and_reported() {
    let Some(env) = env(Limits::default()) else { return };
    let tests = vec!["tests/test_money.py::test_format_amount".to_string()];
    let attacks: Vec<(&str, String, &str)> = vec![
        (
            "forge records",
            "    import json, os\n    tag = ''.join(['BEN', 'CH-REC', 'ORD'])\n    body = json.dumps({'type': 'finish', 'exitstatus': 0, 'seq': 0})\n    for fd in range(1, 64):\n        try:\n            os.write(fd, ('\\n' + tag + ' ' + '0' * 64 + ' ' + body + '\\n').encode())\n        except OSError:\n            pass\n    return '0.00'".into(),
            "did not write",
        ),
        ("exit early", "    import os\n    getattr(os, '_' + 'exit')(0)".into(), "early exit"),
        ("peek at the caller", "    import sys\n    return sys._getframe(1).f_locals.get('expected')".into(), "sys._getframe"),
        ("read the harness", "    return open('/tmp/bench-harness/bench_pytest_plugin.py').read()".into(), "reads the harness"),
        (
            "forge the report",
            "    import _pytest.reports as r\n    r.BaseReport.passed = property(lambda self: True)\n    r.BaseReport.failed = property(lambda self: False)\n    return 'wrong'".into(),
            "passed, but it raised",
        ),
    ];
    let mut jobs: Vec<TestJob> = attacks.iter().map(|(_, body, _)| answer_job(body, &tests)).collect();
    jobs.push(answer_job(&original_body(), &tests));
    let outcomes = env.run(&jobs);
    for ((name, _, says), o) in attacks.iter().zip(&outcomes) {
        eprintln!("{name}: {:?}", o.tampering);
        assert!(!o.passed(), "{name} passed: {o:?}");
        assert!(o.tampering.iter().any(|t| t.contains(says)), "{name}: expected tampering naming {says:?}: {o:?}");
    }
    let honest = outcomes.last().unwrap();
    assert!(honest.passed() && honest.tampering.is_empty(), "the original as an answer: {honest:?}");
}
