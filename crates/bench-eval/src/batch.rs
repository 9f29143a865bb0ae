//! A remote batch baseline as a run in the store. The batch is recorded in
//! the run's manifest before it is created and again the moment its id is
//! known, so a run killed at any point resumes by looking the batch up, never
//! by paying for it twice.

use std::time::Duration;

use bench_core::{BatchRecord, Egress, RunManifest, SamplingOptions, TaskSet};
use ollama_runner::batch::BatchClient;
use ollama_runner::{Finished, RunSummary};
use result_store::Store;

use crate::{EvalError, StoredRun};

/// Where a batch run stands, for a progress line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchProgress {
    /// The batch id.
    pub id: String,
    /// The provider's status word.
    pub status: String,
    /// Requests finished.
    pub done: u64,
    /// Requests in the batch.
    pub total: u64,
}

/// Statuses after which a batch's requests will never run: a resumed run
/// submits its pending tasks anew.
const DEAD: [&str; 2] = ["failed", "cancelled"];

/// Runs `set` on `model` as one provider batch into `store`, always resuming
/// the latest run of the same identity: a recorded batch is polled, a batch
/// whose creation answer was lost is found in the provider's list, and
/// tasks with results are not sent again. Egress (host, requests, bytes, the
/// task set and the payload's hash) is kept in the manifest as it grows.
pub async fn run_batch(
    client: &mut BatchClient,
    set: &TaskSet,
    model: &str,
    options: &SamplingOptions,
    poll_every: Duration,
    store: &Store,
    mut progress: impl FnMut(&BatchProgress) + Send,
) -> Result<StoredRun, EvalError> {
    let provider = client.provider();
    let scope = ollama_runner::endpoint_scope(client.endpoint())?;
    let mut manifest = RunManifest::new(set, "batch", provider.backend_kind(), client.endpoint(), scope, model);
    manifest.options = options.clone();
    manifest.egress = Some(Egress {
        provider: provider.name().into(),
        host: ollama_runner::endpoint_host(client.endpoint()),
        taskset_id: set.taskset_id.clone(),
        ..Egress::default()
    });
    store.put_task_set(set).await?;
    let begun = store.begin_run(&manifest, true).await?;
    let run = begun.id;
    if begun.resumed.is_some() {
        manifest = store.run(run).await?.manifest;
    }
    let stopped = |source: EvalError| EvalError::Stopped { run, model: model.into(), source: Box::new(source) };
    let done = store.done(run).await?;
    let pending: Vec<_> = set.tasks.iter().filter(|t| !done.contains(&t.id)).collect();
    let resumed_with = begun.resumed.as_ref().map(|(_, n)| *n);
    if pending.is_empty() {
        return Ok(StoredRun {
            id: run,
            resumed_with,
            finished: Finished {
                manifest,
                summary: RunSummary { skipped_already_done: done.len(), ..Default::default() },
            },
        });
    }
    let label = format!("{}-{run}", &Store::identity(&manifest)[..16]);
    let base = manifest.egress.clone().unwrap_or_default();
    // Egress: what earlier invocations recorded plus this client's traffic,
    // saved before each request goes out (with that request counted), so a
    // kill mid-request overstates egress by at most that request and never
    // understates it.
    let account = |m: &mut RunManifest, client: &BatchClient| {
        let t = client.traffic();
        if let Some(e) = m.egress.as_mut() {
            e.requests = base.requests + t.requests;
            e.bytes_sent = base.bytes_sent + t.bytes_sent;
            e.bytes_received = base.bytes_received + t.bytes_received;
        }
    };
    let ahead = async |m: &mut RunManifest, client: &BatchClient, requests: u64, bytes: u64| {
        account(m, client);
        if let Some(e) = m.egress.as_mut() {
            e.requests += requests;
            e.bytes_sent += bytes;
        }
        store.save_manifest(run, m).await
    };
    let result: Result<(u64, u64), EvalError> = async {
        let recorded = match manifest.batch.clone() {
            Some(BatchRecord { id: Some(id), status, ingested: false, .. }) if !DEAD.contains(&status.as_str()) => {
                ahead(&mut manifest, client, 1, 0).await?;
                Some(client.poll(&id).await?)
            }
            Some(BatchRecord { id: None, submitted_at, .. }) => {
                ahead(&mut manifest, client, 1, 0).await?;
                client.find(&label, &submitted_at, pending.len() as u64).await?
            }
            _ => None,
        };
        let mut state = match recorded {
            Some(state) => state,
            None => {
                let payload = client.payload(model, options, &pending);
                manifest.batch = Some(BatchRecord {
                    submitted_at: bench_core::now_rfc3339(),
                    status: "submitting".into(),
                    ..BatchRecord::default()
                });
                if let Some(e) = manifest.egress.as_mut() {
                    e.payload_blake3 = Some(blake3::hash(&payload).to_hex().to_string());
                }
                let uploads = u64::from(file_upload(client));
                ahead(&mut manifest, client, uploads, uploads * payload.len() as u64).await?;
                let file = client.upload(&payload).await?;
                if let Some(b) = manifest.batch.as_mut() {
                    b.input_file_id = file.clone();
                }
                let inline = if file.is_none() { payload.len() as u64 } else { 0 };
                ahead(&mut manifest, client, 1, inline).await?;
                client.create(&payload, file.as_deref(), &label).await?
            }
        };
        loop {
            if let Some(b) = manifest.batch.as_mut() {
                b.id = Some(state.id.clone());
                b.status = state.status.clone();
            }
            account(&mut manifest, client);
            progress(&BatchProgress {
                id: state.id.clone(),
                status: state.status.clone(),
                done: state.done,
                total: state.total,
            });
            if state.terminal {
                store.save_manifest(run, &manifest).await?;
                break;
            }
            ahead(&mut manifest, client, 1, 0).await?;
            tokio::time::sleep(poll_every).await;
            state = client.poll(&state.id).await?;
        }
        if DEAD.contains(&state.status.as_str()) && state.results.is_empty() {
            let why = if state.errors.is_empty() { state.status.clone() } else { state.errors.join("; ") };
            return Err(EvalError::Batch { batch: state.id.clone(), reason: why });
        }
        ahead(&mut manifest, client, state.results.len() as u64, 0).await?;
        let (mut completions, provider_model) = client.results(&state).await?;
        // A pending task the results do not mention failed too, so a rerun resubmits it.
        for t in &pending {
            if completions.iter().all(|c| c.task_id != t.id) {
                let mut c = bench_core::Completion::answer(&t.id, String::new());
                c.finish_reason = bench_core::FinishReason::Error;
                c.error = Some(format!("batch {}: no result for this request", state.id));
                completions.push(c);
            }
        }
        let (mut ok, mut failed) = (0, 0);
        for c in completions.iter().filter(|c| pending.iter().any(|t| t.id == c.task_id)) {
            store.record(run, c, false).await?;
            if c.error.is_some() {
                failed += 1;
            } else {
                ok += 1;
            }
        }
        if let Some(b) = manifest.batch.as_mut() {
            b.provider_model = provider_model.or(b.provider_model.take());
            b.ingested = true;
        }
        Ok((ok, failed))
    }
    .await;
    account(&mut manifest, client);
    let (completed, failed) = match result {
        Ok(counts) => counts,
        Err(e) => {
            // Keep what was learnt (the batch id, the egress) for the resume.
            let _ = store.save_manifest(run, &manifest).await;
            return Err(stopped(e));
        }
    };
    if failed > 0 {
        manifest.warnings.push(format!("{failed} requests of the batch failed; rerunning resubmits only those"));
    }
    manifest.finished_at = Some(bench_core::now_rfc3339());
    store.finish_run(run, &manifest).await.map_err(|e| stopped(e.into()))?;
    let summary = RunSummary {
        skipped_already_done: done.len(),
        completed: completed as usize,
        failed: failed as usize,
        ..Default::default()
    };
    Ok(StoredRun { id: run, resumed_with, finished: Finished { manifest, summary } })
}

/// Whether the provider takes the payload as an uploaded file first.
fn file_upload(client: &BatchClient) -> bool {
    client.provider() == ollama_runner::batch::Provider::OpenAi
}
