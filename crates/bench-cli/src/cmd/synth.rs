//! `synth`, `verify` and `emit-promptfoo`: task sets derived, re-derived and
//! written for promptfoo.

use std::path::Path;
use std::process::ExitCode;

use bench_core::SamplingOptions;
use bench_eval::args::DeriveArgs;
use bench_eval::Derived;
use promptfoo_emit::ModelSpec;

/// Prints how ground truth was settled on stderr.
pub(crate) fn noted(d: Derived) -> Derived {
    for note in bench_eval::text::derivation(&d) {
        eprintln!("{note}");
    }
    d
}

pub(crate) fn synth(derive: &DeriveArgs, count: Option<usize>, out: &Path, json: bool) -> anyhow::Result<ExitCode> {
    let set = noted(derive.derive(count)?).set;
    task_synth::save_task_set(out, &set)?;
    let summary = serde_json::json!({
        "taskset_id": set.taskset_id, "snapshot_id": set.snapshot_id, "rules_hash": set.rules_hash,
        "tasks": set.tasks.len(), "out": out.display().to_string(), "execution_verified": set.execution_verified(),
    });
    super::shared::show(json, &summary, |_| {
        let (id, n, text) = (&set.taskset_id, set.tasks.len(), bench_eval::text::task_set(&set));
        format!("task set {id} ({n} tasks) -> {}\n{text}", out.display())
    })?;
    Ok(ExitCode::SUCCESS)
}

pub(crate) fn verify(derive: &DeriveArgs, tasks: &Path) -> anyhow::Result<ExitCode> {
    let recorded = task_synth::load_task_set(tasks)?;
    let rederived = derive.rederive(&recorded).map_err(|e| match e {
        e @ bench_eval::EvalError::NeedsTests { .. } => anyhow::anyhow!("{}: {e} (give --python)", tasks.display()),
        e => e.into(),
    })?;
    match task_synth::first_difference(&recorded, &noted(rederived).set) {
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

pub(crate) fn emit(
    tasks: &Path,
    models: &[String],
    out_dir: &Path,
    options: &SamplingOptions,
) -> anyhow::Result<ExitCode> {
    let set = task_synth::load_task_set(tasks)?;
    let specs: Vec<ModelSpec> = models.iter().map(|m| ModelSpec::parse(m)).collect::<Result<_, _>>()?;
    for path in promptfoo_emit::write_dir(out_dir, &set, &specs, options)? {
        out!("{}", path.display());
    }
    Ok(ExitCode::SUCCESS)
}
