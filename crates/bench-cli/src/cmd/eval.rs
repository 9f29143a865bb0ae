use std::process::ExitCode;

use anyhow::Context as _;
use bench_core::TestOracle;
use result_store::Store;

use super::run::{driver, run_model, runtime, with_flag};
use super::synth::{derive, load_rules};
use crate::cli::EvalArgs;

/// The main job: scan, extract, synthesise, then each model in turn (unloaded
/// before the next where the backend allows), grade, report. Rerunning the
/// same command resumes each model's run where it stopped.
pub(crate) fn eval(a: &EvalArgs) -> anyhow::Result<ExitCode> {
    let EvalArgs { src, models, db, count, rules, out_dir, run: args, exec } = a;
    let (count, rules) = (*count, rules.as_deref());
    let started = std::time::Instant::now();
    // Refuse a non-local endpoint (or an unacknowledged provider) before anything is written.
    ollama_runner::require_local(&args.endpoint, args.allow_remote).map_err(with_flag)?;
    let mut d = driver(args, &src.egress)?;
    std::fs::create_dir_all(out_dir).with_context(|| format!("{}: cannot create", out_dir.display()))?;
    let bench_eval::Derived { set, env, .. } = derive(src, &load_rules(rules)?, Some(count), exec)?;
    let tasks_path = out_dir.join("tasks.json");
    task_synth::save_task_set(&tasks_path, &set)?;
    eprintln!("task set {} ({} tasks) -> {}", set.taskset_id, set.tasks.len(), tasks_path.display());
    eprint!("{}", bench_eval::text::strata_table(&set));
    let rt = runtime()?;
    let report = rt.block_on(async {
        let store = Store::open(db).await?;
        // Gaming floors first: the report shows every score beside them.
        let oracle = env.as_ref().map(|e| e as &dyn TestOracle);
        let c = bench_eval::calibrate_set(&set, oracle, Some(&store)).await?;
        eprint!("{}", bench_eval::text::calibration(&c));
        for (i, model) in models.iter().enumerate() {
            let run_id = run_model(&mut d, &set, model, &store, (args, &src.egress), true).await?;
            if i + 1 < models.len() {
                // One model resident at a time.
                d.unload(model).await?;
            }
            let grades = bench_eval::grade_run(&store, run_id, oracle).await?;
            eprintln!(
                "{model}: run {run_id} graded: {}/{} passed",
                grades.iter().filter(|g| g.pass).count(),
                grades.len()
            );
        }
        anyhow::Ok(bench_report::build(&store).await?)
    })?;
    for format in bench_report::Format::ALL {
        let path = out_dir.join(format!("report.{}", format.extension()));
        std::fs::write(&path, format.render(&report)?).with_context(|| format!("{}: cannot write", path.display()))?;
    }
    out_nonl!("{}", bench_report::summary(&report));
    out!(
        "reports: {}/report.{{md,html,json}}; store: {}; {:.1} s",
        out_dir.display(),
        db.display(),
        started.elapsed().as_secs_f64()
    );
    Ok(ExitCode::SUCCESS)
}
