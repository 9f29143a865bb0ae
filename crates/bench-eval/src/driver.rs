//! What answers the tasks, chosen at run time: a local-API server under the
//! runner's plan check, or a provider's batch API.

use std::collections::BTreeMap;
use std::time::Duration;

use bench_core::{Grade, TaskSet, TestOracle};
use ollama_runner::batch::BatchClient;
use ollama_runner::{AnyBackend, Backend, Progress, RunSpec};
use result_store::Store;
use task_synth::Calibration;

use crate::{BatchProgress, EvalError, StoredRun};

/// A local-API server or a provider's batch API.
#[derive(Debug)]
pub enum Driver {
    /// A local-API server (Ollama or OpenAI-compatible).
    Local(AnyBackend),
    /// A provider's batch API, polled every so often.
    Batch(BatchClient, Duration),
}

/// One step of a run, for a progress display.
#[derive(Debug, Clone, Copy)]
pub enum Step<'a> {
    /// A task answered by a local server.
    Task(&'a Progress),
    /// A batch's status, at each poll.
    Batch(&'a BatchProgress),
}

impl Driver {
    /// Runs `spec.model` over `set` into `store`: [`crate::run_model`] for a
    /// local server, [`crate::run_batch`] (which always resumes) for a batch.
    pub async fn run_model(
        &mut self,
        set: &TaskSet,
        spec: &RunSpec,
        store: &Store,
        resume: bool,
        mut progress: impl FnMut(Step<'_>) + Send,
    ) -> Result<StoredRun, EvalError> {
        match self {
            Driver::Local(b) => crate::run_model(b, set, spec, store, resume, |p| progress(Step::Task(p))).await,
            Driver::Batch(client, every) => {
                crate::run_batch(client, set, &spec.model, &spec.options, *every, store, |p| {
                    progress(Step::Batch(p));
                })
                .await
            }
        }
    }

    /// Unloads `model` where the server allows (one model resident at a time).
    pub async fn unload(&self, model: &str) -> Result<(), EvalError> {
        if let Driver::Local(b) = self {
            b.unload(model).await?;
        }
        Ok(())
    }
}

/// What [`evaluate`] reports as it goes, for a display.
#[derive(Debug, Clone, Copy)]
pub enum Event<'a> {
    /// The gaming floors, measured before any model runs.
    Calibrated(&'a Calibration),
    /// A model's run begins (or resumes).
    Started(&'a str),
    /// A step of the current model's run.
    Step(Step<'a>),
    /// The current model's run is recorded.
    Ran(&'a StoredRun),
    /// The current model's recall probe is recorded.
    Probed(&'a str, &'a [result_store::Probe]),
    /// The current model's run is graded.
    Graded(&'a str, i64, &'a [Grade]),
}

/// The main job after synthesis: the gaming floors recorded first (the
/// report shows every score beside them), then each run in turn, resumed
/// where a previous invocation stopped, its recall probed when `probe` holds
/// the snapshot's files (a local server only), its model unloaded before the
/// next where the server allows, and graded.
pub async fn evaluate(
    driver: &mut Driver,
    set: &TaskSet,
    runs: &[RunSpec],
    store: &Store,
    oracle: Option<&dyn TestOracle>,
    probe: Option<&BTreeMap<String, String>>,
    mut on: impl FnMut(Event<'_>) + Send,
) -> Result<(), EvalError> {
    on(Event::Calibrated(&crate::calibrate_set(set, oracle, Some(store)).await?));
    for (i, spec) in runs.iter().enumerate() {
        on(Event::Started(&spec.model));
        let run = driver.run_model(set, spec, store, true, |s| on(Event::Step(s))).await?;
        on(Event::Ran(&run));
        if let (Some(files), Driver::Local(b)) = (probe, &*driver) {
            let probes = crate::probe_recall(b, set, spec, store, run.id, files).await?;
            on(Event::Probed(&spec.model, &probes));
        }
        if i + 1 < runs.len() {
            driver.unload(&spec.model).await?;
        }
        on(Event::Graded(&spec.model, run.id, &crate::grade_run(store, run.id, oracle).await?));
    }
    Ok(())
}
