//! `run`, `eval` and `plan`: models run into the store under the plan check.

use std::path::Path;
use std::process::ExitCode;

use anyhow::Context as _;
use bench_core::{TaskSet, TestOracle};
use bench_eval::args::{EvalArgs, PlanArgs, RunArgs};
use bench_eval::Event;
use result_store::Store;

use super::shared::{hint, runtime};
use crate::progress::Reporter;

pub(crate) fn run(
    tasks: &Path,
    model: &str,
    db: &Path,
    args: &RunArgs,
    resume: bool,
    egress: &[String],
) -> anyhow::Result<ExitCode> {
    let set = task_synth::load_task_set(tasks)?;
    let mut d = args.driver(egress).map_err(hint)?;
    runtime()?.block_on(async {
        let store = Store::open(db).await?;
        let mut reporter = Reporter::new(set.tasks.len(), model);
        let run = d.run_model(&set, &args.spec(model, egress), &store, resume, |s| reporter.step(s)).await;
        reporter.finish();
        let run = run.map_err(hint)?;
        eprint!("{}", bench_eval::text::run_summary(&run, set.tasks.len()));
        out!("run {} recorded in {}", run.id, db.display());
        Ok(ExitCode::SUCCESS)
    })
}

/// The main job: scan, extract, synthesise, then each model in turn, grade,
/// report. Rerunning the same command resumes each model's run where it stopped.
pub(crate) fn eval(a: &EvalArgs) -> anyhow::Result<ExitCode> {
    let EvalArgs { derive, models, db, count, out_dir, probe_recall, run: args } = a;
    let egress = &derive.src.egress;
    let started = std::time::Instant::now();
    // Refuse a non-local endpoint (or an unacknowledged provider) before anything is written.
    ollama_runner::require_local(&args.endpoint, args.allow_remote).map_err(hint)?;
    let mut d = args.driver(egress).map_err(hint)?;
    std::fs::create_dir_all(out_dir).with_context(|| format!("{}: cannot create", out_dir.display()))?;
    let bench_eval::Derived { set, env, files, .. } = super::synth::noted(derive.derive(Some(*count))?);
    let tasks_path = out_dir.join("tasks.json");
    task_synth::save_task_set(&tasks_path, &set)?;
    eprintln!("task set {} ({} tasks) -> {}", set.taskset_id, set.tasks.len(), tasks_path.display());
    eprint!("{}", bench_eval::text::strata_table(&set));
    let specs: Vec<_> = models.iter().map(|m| args.spec(m, egress)).collect();
    let report = runtime()?.block_on(async {
        let store = Store::open(db).await?;
        let oracle = env.as_ref().map(|e| e as &dyn TestOracle);
        let mut reporter = None;
        let probe = probe_recall.then_some(&files);
        let done =
            bench_eval::evaluate(&mut d, &set, &specs, &store, oracle, probe, |e| show(e, &set, &mut reporter)).await;
        if let Some(r) = reporter {
            r.finish();
        }
        done.map_err(hint)?;
        anyhow::Ok(bench_report::build(&store).await?)
    })?;
    bench_report::Format::write_all(&report, out_dir)?;
    out_nonl!("{}", bench_report::summary(&report));
    let secs = started.elapsed().as_secs_f64();
    out!("reports: {}/report.{{md,html,json}}; store: {}; {secs:.1} s", out_dir.display(), db.display());
    Ok(ExitCode::SUCCESS)
}

/// The main job's progress on stderr.
fn show(e: Event<'_>, set: &TaskSet, reporter: &mut Option<Reporter>) {
    match e {
        Event::Calibrated(c) => eprint!("{}", bench_eval::text::calibration(c)),
        Event::Started(model) => *reporter = Some(Reporter::new(set.tasks.len(), model)),
        Event::Step(s) => {
            if let Some(r) = reporter {
                r.step(s);
            }
        }
        Event::Ran(run) => {
            if let Some(r) = reporter.take() {
                r.finish();
            }
            eprint!("{}", bench_eval::text::run_summary(run, set.tasks.len()));
        }
        Event::Probed(model, probes) => {
            let near = probes.iter().filter(|p| p.similarity.is_some_and(|s| s >= bench_report::NEAR_VERBATIM)).count();
            eprintln!(
                "{model}: recall probe: {near} of {} targets reproduced near-verbatim from the lines before them",
                probes.len()
            );
        }
        Event::Graded(model, run, grades) => {
            let passed = grades.iter().filter(|g| g.pass).count();
            eprintln!("{model}: run {run} graded: {passed}/{} passed", grades.len());
        }
    }
}

pub(crate) fn plan(args: &PlanArgs, explain: bool, json: bool) -> anyhow::Result<ExitCode> {
    let (name, shape) = runtime()?.block_on(args.shape())?;
    let request = args.request();
    let plan = shape.plan(&request);
    if explain {
        out!("{name}: {} architecture, {} layers", plan.architecture, shape.layers.len());
        for line in shape.explain(&request) {
            out!("  {line}");
        }
    } else {
        super::shared::show(json, &plan, |p| format!("{name}: {p}"))?;
    }
    Ok(if plan.fits { ExitCode::SUCCESS } else { ExitCode::from(1) })
}
