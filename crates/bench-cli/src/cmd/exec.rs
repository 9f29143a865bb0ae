use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context as _;
use bench_core::{TaskSet, TestOracle};
use py_testenv::{Limits, Spec, TestEnv};
use repo_scan::Snapshot;
use task_synth::Rules;

use crate::cli::{ExecArgs, SourceArgs};

fn cache_dir(exec: &ExecArgs) -> Option<PathBuf> {
    exec.cache_dir.clone().or_else(|| {
        let base = std::env::var_os("XDG_CACHE_HOME")
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))?;
        Some(base.join("bench-cli"))
    })
}

/// The snapshot's test environment when `--python` is given: materialised,
/// baseline run (or loaded from the cache). Says on stderr which it is.
pub(crate) fn test_env(snap: &Snapshot, rules: &Rules, exec: &ExecArgs) -> anyhow::Result<Option<TestEnv>> {
    let Some(python) = &exec.python else {
        eprintln!(
            "ground truth: structural only (no --python): generation is graded on structure, and mutants are not \
             checked against the repository's tests"
        );
        return Ok(None);
    };
    let spec = Spec {
        python: python.clone(),
        test_cmd: exec.test_cmd.clone(),
        cache_dir: cache_dir(exec),
        limits: Limits { wall: Duration::from_secs(exec.test_timeout), ..Limits::default() },
        jobs: exec.test_jobs,
    };
    let files: Vec<(&str, &str)> = snap.files.iter().map(|f| (f.path.as_str(), f.text.as_str())).collect();
    let paths = rules.test_paths(snap.files.iter().map(|f| f.path.as_str()));
    let env = TestEnv::prepare(&spec, &snap.snapshot_id, &files, &paths)?;
    let b = env.baseline();
    eprintln!(
        "ground truth: execution ({}; {} tests, {} pass in both baseline runs, {} failed, {} skipped, {} flaky dropped)",
        env.environment().test_cmd.join(" "),
        b.tests,
        b.passed,
        b.failed,
        b.skipped,
        b.flaky.len()
    );
    Ok(Some(env))
}

/// The test environment grading needs: none for a structural set; for an
/// execution-verified one, the source and `--python`, checked against the set.
pub(crate) fn grading_env(set: &TaskSet, src: Option<&SourceArgs>, exec: &ExecArgs) -> anyhow::Result<Option<TestEnv>> {
    let Some(record) = &set.execution else { return Ok(None) };
    let Some(src) = src.filter(|_| exec.python.is_some()) else {
        anyhow::bail!(
            "task set {} is execution-verified: give its source (--source) and --python to grade it",
            set.taskset_id
        );
    };
    let snap = super::source::snapshot(src)?;
    if snap.snapshot_id != set.snapshot_id {
        anyhow::bail!(
            "{}: snapshot {} is not the task set's snapshot {}",
            src.source.display(),
            snap.snapshot_id,
            set.snapshot_id
        );
    }
    // The command the set was verified with, unless another is asked for.
    let mut exec = exec.clone();
    if exec.test_cmd.is_none() {
        exec.test_cmd = Some(shlex::try_join(record.environment.test_cmd.iter().map(String::as_str))?);
    }
    let env = test_env(&snap, &Rules::default(), &exec)?.context("--python is given")?;
    if env.environment().fingerprint != record.environment.fingerprint {
        eprintln!(
            "warning: the test environment differs from the one the task set was verified in ({} vs {}); grading goes on",
            env.environment().fingerprint,
            record.environment.fingerprint
        );
    }
    Ok(Some(env))
}
