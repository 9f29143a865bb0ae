use std::path::Path;
use std::process::ExitCode;

use anyhow::Context as _;
use bench_core::{Category, TaskSet, Tier};
use task_synth::Rules;

use py_testenv::TestEnv;

use super::source::{extraction, files, snapshot};
use crate::cli::{ExecArgs, SourceArgs};

pub(crate) fn load_rules(path: Option<&Path>) -> anyhow::Result<Rules> {
    Ok(match path {
        Some(p) => Rules::load(p)?,
        None => Rules::default(),
    })
}

/// Scan, extract and synthesise; with `--python`, ground truth settled by
/// the repository's tests, whose environment is returned for grading.
pub(crate) fn derive(
    src: &SourceArgs,
    rules: &Rules,
    count: Option<usize>,
    exec: &ExecArgs,
) -> anyhow::Result<(TaskSet, Option<TestEnv>)> {
    let snap = snapshot(src)?;
    let ex = extraction(&snap, &rules.extract);
    let env = super::exec::test_env(&snap, rules, exec)?;
    let set = match &env {
        Some(env) => task_synth::synthesize_verified(&files(&snap), &ex, rules, count, env),
        None => task_synth::synthesize(&files(&snap), &ex, rules, count),
    };
    if let Some(x) = &set.execution {
        let s = &x.stats;
        eprintln!(
            "execution: {} candidate mutants run, {} killed, {} survived (discarded as equivalent), {} inconclusive, {} uncovered; \
             {} generation targets run with a stub body, {} discarded because the stub passed, {} uncovered",
            s.mutants_tested,
            s.mutants_killed,
            s.mutants_survived,
            s.mutants_inconclusive,
            s.mutants_uncovered,
            s.generation_tested,
            s.generation_stub_passed,
            s.generation_uncovered
        );
    }
    Ok((set, env))
}

pub(crate) fn read_tasks(path: &Path) -> anyhow::Result<TaskSet> {
    let text = std::fs::read_to_string(path).with_context(|| format!("{}: cannot read", path.display()))?;
    Ok(task_synth::read_task_set(&text, &path.display().to_string())?)
}

pub(crate) fn synth(
    src: &SourceArgs,
    rules: Option<&Path>,
    count: Option<usize>,
    out: &Path,
    json: bool,
    exec: &ExecArgs,
) -> anyhow::Result<ExitCode> {
    let rules = load_rules(rules)?;
    let (set, _) = derive(src, &rules, count, exec)?;
    if let Some(parent) = out.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).with_context(|| format!("{}: cannot create", parent.display()))?;
    }
    std::fs::write(out, task_synth::write_task_set(&set))
        .with_context(|| format!("{}: cannot write", out.display()))?;
    if json {
        super::print_json(&serde_json::json!({
            "taskset_id": set.taskset_id, "snapshot_id": set.snapshot_id, "rules_hash": set.rules_hash,
            "tasks": set.tasks.len(), "out": out.display().to_string(),
            "execution_verified": set.execution_verified(),
        }))?;
    } else {
        out!("task set {} ({} tasks) -> {}", set.taskset_id, set.tasks.len(), out.display());
        out!(
            "ground truth: {}",
            if set.execution_verified() { "execution-verified by the repository's tests" } else { "structural only" }
        );
        out!("snapshot {}  rules {}", set.snapshot_id, set.rules_hash);
        out_nonl!("{}", table(&set));
    }
    Ok(ExitCode::SUCCESS)
}

pub(crate) fn verify(
    src: &SourceArgs,
    tasks: &Path,
    rules: Option<&Path>,
    exec: &ExecArgs,
) -> anyhow::Result<ExitCode> {
    let recorded = read_tasks(tasks)?;
    let rules = load_rules(rules)?;
    let mut exec = exec.clone();
    if let Some(record) = &recorded.execution {
        anyhow::ensure!(
            exec.python.is_some(),
            "{}: the task set is execution-verified; give --python to re-derive it",
            tasks.display()
        );
        if exec.test_cmd.is_none() {
            exec.test_cmd = Some(shlex::try_join(record.environment.test_cmd.iter().map(String::as_str))?);
        }
    }
    let (rederived, _) = derive(src, &rules, Some(recorded.requested), &exec)?;
    match task_synth::first_difference(&recorded, &rederived) {
        None => {
            out!("verified: {} re-derives byte for byte (task set {})", tasks.display(), recorded.taskset_id);
            Ok(ExitCode::SUCCESS)
        }
        Some(diff) => {
            out!("MISMATCH: {}: {diff}", tasks.display());
            Ok(ExitCode::from(1))
        }
    }
}

/// The category x tier count table.
pub(crate) fn table(set: &TaskSet) -> String {
    let mut out = format!("{:<20}{}\n", "", Tier::ALL.map(|t| format!("{:>5}", t.to_string())).join(""));
    for c in Category::ALL {
        let counts = Tier::ALL.map(|t| {
            let n = set.tasks.iter().filter(|x| x.category == c && x.tier == t).count();
            format!("{n:>5}")
        });
        out.push_str(&format!("{:<20}{}\n", c.as_str(), counts.join("")));
    }
    out
}
