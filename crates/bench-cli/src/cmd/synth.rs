use std::path::Path;
use std::process::ExitCode;

use anyhow::Context as _;
use bench_core::{Category, TaskSet, Tier};
use task_synth::Rules;

use super::source::{extraction, files, snapshot};
use crate::cli::SourceArgs;

pub(crate) fn load_rules(path: Option<&Path>) -> anyhow::Result<Rules> {
    Ok(match path {
        Some(p) => Rules::load(p)?,
        None => Rules::default(),
    })
}

/// Scan, extract and synthesise.
pub(crate) fn derive(src: &SourceArgs, rules: &Rules, count: Option<usize>) -> anyhow::Result<TaskSet> {
    let snap = snapshot(src)?;
    let ex = extraction(&snap, &rules.extract);
    Ok(task_synth::synthesize(&files(&snap), &ex, rules, count))
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
) -> anyhow::Result<ExitCode> {
    let rules = load_rules(rules)?;
    let set = derive(src, &rules, count)?;
    if let Some(parent) = out.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).with_context(|| format!("{}: cannot create", parent.display()))?;
    }
    std::fs::write(out, task_synth::write_task_set(&set))
        .with_context(|| format!("{}: cannot write", out.display()))?;
    if json {
        super::print_json(&serde_json::json!({
            "taskset_id": set.taskset_id, "snapshot_id": set.snapshot_id, "rules_hash": set.rules_hash,
            "tasks": set.tasks.len(), "out": out.display().to_string(),
        }))?;
    } else {
        out!("task set {} ({} tasks) -> {}", set.taskset_id, set.tasks.len(), out.display());
        out!("snapshot {}  rules {}", set.snapshot_id, set.rules_hash);
        out_nonl!("{}", table(&set));
    }
    Ok(ExitCode::SUCCESS)
}

pub(crate) fn verify(src: &SourceArgs, tasks: &Path, rules: Option<&Path>) -> anyhow::Result<ExitCode> {
    let recorded = read_tasks(tasks)?;
    let rules = load_rules(rules)?;
    let rederived = derive(src, &rules, Some(recorded.requested))?;
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
