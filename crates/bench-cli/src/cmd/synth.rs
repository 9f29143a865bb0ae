use std::path::Path;
use std::process::ExitCode;

use bench_eval::Derived;
use task_synth::Rules;

use crate::cli::{ExecArgs, SourceArgs};

pub(crate) fn load_rules(path: Option<&Path>) -> anyhow::Result<Rules> {
    Ok(match path {
        Some(p) => Rules::load(p)?,
        None => Rules::default(),
    })
}

/// `bench_eval::derive`, telling the user on stderr how ground truth was settled.
pub(crate) fn derive(
    src: &SourceArgs,
    rules: &Rules,
    count: Option<usize>,
    exec: &ExecArgs,
) -> anyhow::Result<Derived> {
    let d = bench_eval::derive(&src.source(), rules, count, super::exec::spec(exec).as_ref())?;
    for note in &d.notes {
        eprintln!("{note}");
    }
    Ok(d)
}

pub(crate) fn synth(
    src: &SourceArgs,
    rules: Option<&Path>,
    count: Option<usize>,
    out: &Path,
    json: bool,
    exec: &ExecArgs,
) -> anyhow::Result<ExitCode> {
    let set = derive(src, &load_rules(rules)?, count, exec)?.set;
    task_synth::save_task_set(out, &set)?;
    if json {
        super::print_json(&serde_json::json!({
            "taskset_id": set.taskset_id, "snapshot_id": set.snapshot_id, "rules_hash": set.rules_hash,
            "tasks": set.tasks.len(), "out": out.display().to_string(),
            "execution_verified": set.execution_verified(),
        }))?;
    } else {
        out!("task set {} ({} tasks) -> {}", set.taskset_id, set.tasks.len(), out.display());
        out_nonl!("{}", bench_eval::text::task_set(&set));
    }
    Ok(ExitCode::SUCCESS)
}

pub(crate) fn verify(
    src: &SourceArgs,
    tasks: &Path,
    rules: Option<&Path>,
    exec: &ExecArgs,
) -> anyhow::Result<ExitCode> {
    let recorded = task_synth::load_task_set(tasks)?;
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
    let rederived = derive(src, &load_rules(rules)?, Some(recorded.requested), &exec)?.set;
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
