use std::collections::BTreeMap;

use bench_core::{Grade, TaskSet, TestOracle};
use ollama_runner::{Backend, Finished, Progress, RunSpec};
use py_testenv::TestEnv;
use result_store::{PassRate, Store};
use task_synth::Calibration;

use crate::EvalError;

/// A model's run as recorded in the store.
#[derive(Debug, Clone)]
pub struct StoredRun {
    /// The run's id in the store.
    pub id: i64,
    /// For a resumed run: the results it already had.
    pub resumed_with: Option<i64>,
    /// The finished run: its manifest and counts.
    pub finished: Finished,
}

/// Runs one model over `set` into `store` through the runner's whole run
/// (plan check, manifest, warnings, finish). With `resume`, the latest run of
/// the same identity continues where it stopped. A failure after the run's
/// row exists is [`EvalError::Stopped`], naming the run to resume.
pub async fn run_model<B: Backend + Sync>(
    backend: &B,
    set: &TaskSet,
    spec: &RunSpec,
    store: &Store,
    resume: bool,
    progress: impl FnMut(&Progress) + Send,
) -> Result<StoredRun, EvalError> {
    let mut prepared = ollama_runner::prepare(backend, set, spec).await?;
    store.put_task_set(set).await?;
    let begun = store.begin_run(&prepared.manifest, resume).await?;
    if let Some((started_at, _)) = &begun.resumed {
        prepared = prepared.resuming(started_at);
    }
    let stopped =
        |source: EvalError| EvalError::Stopped { run: begun.id, model: spec.model.clone(), source: Box::new(source) };
    let mut finished =
        prepared.execute(backend, &mut store.sink(begun.id), progress).await.map_err(|e| stopped(e.into()))?;
    // Egress adds up over the invocations of one run.
    if begun.resumed.is_some() {
        if let (Some(now), Some(before)) =
            (finished.manifest.egress.as_mut(), store.run(begun.id).await?.manifest.egress)
        {
            now.requests += before.requests;
            now.bytes_sent += before.bytes_sent;
        }
    }
    // A resumed run with nothing left to do keeps its recorded manifest and end.
    if finished.did_work() || !begun.finished {
        store.finish_run(begun.id, &finished.manifest).await.map_err(|e| stopped(e.into()))?;
    }
    Ok(StoredRun { id: begun.id, resumed_with: begun.resumed.map(|(_, n)| n), finished })
}

/// Grades one stored run against its task set's ground truth and stores the
/// grades; `env` runs the tests of an execution-verified set.
pub async fn grade_run(store: &Store, run: i64, env: Option<&dyn TestOracle>) -> Result<Vec<Grade>, EvalError> {
    let row = store.run(run).await?;
    let set = store.task_set(&row.task_set_id).await?;
    if set.execution_verified() && env.is_none() {
        return Err(EvalError::NeedsTests { taskset: set.taskset_id });
    }
    let completions = store.completions(run).await?;
    // Blocks while sandboxed tests run; the caller's runtime waits on it.
    let grades = task_synth::grade_completions(&set, &completions, env);
    store.put_grades(run, &grades).await?;
    Ok(grades)
}

/// Grades `run`, or every run in the store, each task set's test
/// environment made once by `env_for`; returns the graded runs' pass rates.
pub async fn grade_runs(
    store: &Store,
    run: Option<i64>,
    mut env_for: impl FnMut(&TaskSet) -> Result<Option<TestEnv>, EvalError>,
) -> Result<Vec<PassRate>, EvalError> {
    // The rows already name their task sets (`Store::run` reads every row).
    let runs = match run {
        Some(r) => vec![store.run(r).await?],
        None => store.runs().await?,
    };
    let mut envs: BTreeMap<&str, Option<TestEnv>> = BTreeMap::new();
    for r in &runs {
        let set_id = r.task_set_id.as_str();
        if !envs.contains_key(set_id) {
            let env = env_for(&store.task_set(set_id).await?)?;
            envs.insert(set_id, env);
        }
        let env = envs.get(set_id).and_then(Option::as_ref).map(|e| e as &dyn TestOracle);
        grade_run(store, r.id, env).await?;
    }
    Ok(store.pass_rates().await?.into_iter().filter(|p| runs.iter().any(|r| r.id == p.run_id)).collect())
}

/// Calibrates `set` and, with a store, records the floors for the report.
pub async fn calibrate_set(
    set: &TaskSet,
    env: Option<&dyn TestOracle>,
    store: Option<&Store>,
) -> Result<Calibration, EvalError> {
    let c = task_synth::calibrate(set, env);
    if let Some(store) = store {
        store.put_task_set(set).await?;
        let value =
            serde_json::to_value(&c).map_err(|source| EvalError::Encode { taskset: set.taskset_id.clone(), source })?;
        store.put_calibration(&set.taskset_id, &value).await?;
    }
    Ok(c)
}

/// A promptfoo results file's answers recorded as a finished run of `set`
/// (its manifest from what the file says: provider, model, endpoint,
/// promptfoo's version) and graded; returns the run id and its grades.
pub async fn ingest_promptfoo(
    store: &Store,
    set: &TaskSet,
    ingested: &promptfoo_emit::Ingested,
    env: Option<&dyn TestOracle>,
) -> Result<(i64, Vec<Grade>), EvalError> {
    let endpoint = ingested.endpoint.as_deref().unwrap_or("unknown");
    let scope = ollama_runner::endpoint_scope(endpoint).unwrap_or(bench_core::EndpointScope::Remote);
    let driver = format!("promptfoo {}", ingested.promptfoo_version.as_deref().unwrap_or("unknown"));
    let kind = ingested.provider.split(':').next().unwrap_or("unknown");
    let mut manifest = bench_core::RunManifest::new(set, &driver, kind, endpoint, scope, &ingested.model);
    manifest.finished_at = Some(manifest.started_at.clone());
    store.put_task_set(set).await?;
    let run = store.create_run(&manifest).await?;
    for c in &ingested.completions {
        store.record(run, c, false).await?;
    }
    Ok((run, grade_run(store, run, env).await?))
}
