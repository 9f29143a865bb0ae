use std::process::ExitCode;

use anyhow::Context as _;
use bench_core::TestOracle;
use result_store::Store;

use super::report::render;
use super::run::{driver, run_model, runtime, with_flag};
use super::synth::{derive, load_rules, write_tasks};
use crate::cli::{EvalArgs, ReportFormat};

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
    write_tasks(&tasks_path, &set)?;
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
            let run_id = run_model(&mut d, &set, model, &store, args, true).await?;
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
    for (format, name) in
        [(ReportFormat::Md, "report.md"), (ReportFormat::Html, "report.html"), (ReportFormat::Json, "report.json")]
    {
        let path = out_dir.join(name);
        std::fs::write(&path, render(&report, format)?).with_context(|| format!("{}: cannot write", path.display()))?;
    }
    for run in &report.runs {
        let o = &run.overall;
        out!(
            "run {} {}: {}/{} scoring units passed ({:.1}%, 95% CI {:.1}–{:.1}%)",
            run.run_id,
            run.model,
            o.passed,
            o.n,
            o.rate * 100.0,
            o.low * 100.0,
            o.high * 100.0
        );
        for f in &run.findings {
            out!("  finding: {f}");
        }
    }
    out!(
        "reports: {}/report.{{md,html,json}}; store: {}; {:.1} s",
        out_dir.display(),
        db.display(),
        started.elapsed().as_secs_f64()
    );
    Ok(ExitCode::SUCCESS)
}
