//! The store's side: `grade`, `calibrate`, `ingest-promptfoo`, `report` and
//! `merge`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context as _;
use bench_core::{TaskSet, TestOracle};
use bench_eval::args::GradingArgs;
use bench_report::Format;
use py_testenv::TestEnv;
use result_store::Store;

use super::shared::{hint, runtime};

/// The test environment grading `set` needs, with its baseline and any
/// warning on stderr.
fn grading_env(set: &TaskSet, grading: &GradingArgs) -> Result<Option<TestEnv>, bench_eval::EvalError> {
    let (env, warning) = grading.env(set)?;
    if let Some(env) = &env {
        eprintln!("{}", bench_eval::text::baseline(env));
    }
    if let Some(w) = warning {
        eprintln!("warning: {w}");
    }
    Ok(env)
}

fn oracle(env: &Option<TestEnv>) -> Option<&dyn TestOracle> {
    env.as_ref().map(|e| e as &dyn TestOracle)
}

pub(crate) fn grade(db: &Path, run: Option<i64>, json: bool, grading: &GradingArgs) -> anyhow::Result<ExitCode> {
    let rates = runtime()?.block_on(async {
        let store = Store::open_existing(db).await?;
        bench_eval::grade_runs(&store, run, |set| grading_env(set, grading)).await.map_err(hint)
    })?;
    super::shared::show(json, &rates, |r| bench_eval::text::pass_rates(r))?;
    Ok(ExitCode::SUCCESS)
}

pub(crate) fn calibrate(
    tasks: &Path,
    grading: &GradingArgs,
    db: Option<&Path>,
    json: bool,
) -> anyhow::Result<ExitCode> {
    let set = task_synth::load_task_set(tasks)?;
    let env = grading_env(&set, grading).map_err(hint)?;
    let c = runtime()?.block_on(async {
        let store = match db {
            Some(db) => Some(Store::open(db).await?),
            None => None,
        };
        anyhow::Ok(bench_eval::calibrate_set(&set, oracle(&env), store.as_ref()).await?)
    })?;
    super::shared::show(json, &c, |c| match c.broken.is_empty() {
        true => bench_eval::text::calibration(c),
        false => {
            format!("{}broken strata (floor above 10%): {}\n", bench_eval::text::calibration(c), c.broken.join(", "))
        }
    })?;
    Ok(if c.broken.is_empty() { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

pub(crate) fn ingest(results: &Path, tasks: &Path, db: &Path, grading: &GradingArgs) -> anyhow::Result<ExitCode> {
    let set = task_synth::load_task_set(tasks)?;
    let env = grading_env(&set, grading).map_err(hint)?;
    let text = std::fs::read_to_string(results).with_context(|| format!("{}: cannot read", results.display()))?;
    let ingested = promptfoo_emit::ingest(&text, &results.display().to_string(), &set)?;
    runtime()?.block_on(async {
        let store = Store::open(db).await?;
        let (run, grades) = bench_eval::ingest_promptfoo(&store, &set, &ingested, oracle(&env)).await?;
        let (n, passed) = (grades.len(), grades.iter().filter(|g| g.pass).count());
        let (results, provider) = (ingested.completions.len(), &ingested.provider);
        out!("run {run}: {results} promptfoo results from {provider} ingested and graded: {passed}/{n} passed");
        Ok(ExitCode::SUCCESS)
    })
}

pub(crate) fn write(db: &Path, format: Format, out: Option<&Path>) -> anyhow::Result<ExitCode> {
    let report = runtime()?.block_on(async {
        let store = Store::open_existing(db).await?;
        anyhow::Ok(bench_report::build(&store).await?)
    })?;
    match out {
        Some(p) => format.write(&report, p)?,
        None => out_nonl!("{}", format.render(&report)?),
    }
    Ok(ExitCode::SUCCESS)
}

pub(crate) fn merge(sources: &[PathBuf], into: &Path) -> anyhow::Result<ExitCode> {
    runtime()?.block_on(async {
        let dest = Store::open(into).await?;
        for src in sources {
            let m = dest.merge_from(&Store::open_existing(src).await?).await?;
            let (runs, matched, results, same) = (m.runs_added, m.runs_matched, m.results_added, m.results_same);
            out!(
                "{}: {runs} runs added, {matched} matched; {results} results added, {same} already here",
                src.display()
            );
        }
        Ok(ExitCode::SUCCESS)
    })
}
