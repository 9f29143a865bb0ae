//! One model's run from start to finish: the air-gap check, the model's
//! description completed from its GGUF file, the VRAM plan and its check, the
//! manifest, the run itself through any [`ResultSink`], and what the run
//! observed (warnings, residency, end) written back into the manifest.

use std::path::PathBuf;
use std::time::Duration;

use bench_core::{now_rfc3339, ResultSink, RunManifest, SamplingOptions, TaskSet};

use crate::plan::{KvType, ModelShape, Plan, PlanRequest, Policy, Runtime};
use crate::{gguf, run, Backend, EndpointError, ModelInfo, Progress, RunConfig, RunError, RunSummary};

/// What one run of one model needs besides the tasks and the backend.
#[derive(Debug, Clone)]
pub struct RunSpec {
    /// The model name as the server knows it.
    pub model: String,
    /// Sent unchanged with every request.
    pub options: SamplingOptions,
    /// Per-request limit.
    pub timeout: Duration,
    /// Attempts per task for retryable errors.
    pub attempts: u32,
    /// The model's GGUF file: its hash, quantisation and shape for the plan,
    /// for servers that cannot describe the model themselves.
    pub gguf: Option<PathBuf>,
    /// The VRAM budget; without one there is no plan.
    pub vram_bytes: Option<u64>,
    /// The KV cache type the server uses.
    pub kv_type: KvType,
    /// The runtime whose allocation policy the plan follows; `None`: from
    /// the backend (Ollama; llama-cpp-python when an OpenAI-compatible server
    /// answers as uvicorn; llama.cpp otherwise).
    pub runtime: Option<Runtime>,
    /// Where the server departs from the runtime's memory defaults.
    pub policy: Policy,
    /// The slots the server holds memory for; `None`: the runtime's default.
    pub parallel: Option<u64>,
    /// Run even when the plan does not fit.
    pub allow_overcommit: bool,
    /// Run even when the model is only partly in VRAM.
    pub allow_partial_offload: bool,
    /// Permit an endpoint outside loopback and private addresses.
    pub allow_remote: bool,
    /// Hosts (or providers) the user acknowledged sending the task set to;
    /// a remote endpoint's host must be among them.
    pub egress: Vec<String>,
}

impl RunSpec {
    /// The runner's defaults (DESIGN.md §6): no plan, nothing allowed that
    /// would corrupt the numbers.
    pub fn new(model: &str, options: SamplingOptions) -> Self {
        Self {
            model: model.into(),
            options,
            timeout: Duration::from_secs(300),
            attempts: 3,
            gguf: None,
            vram_bytes: None,
            kv_type: KvType::F16,
            runtime: None,
            policy: Policy::default(),
            parallel: None,
            allow_overcommit: false,
            allow_partial_offload: false,
            allow_remote: false,
            egress: Vec::new(),
        }
    }
}

pub use vram_plan::PLAN_OVERHEAD;

/// The runtime a backend most likely is, from what it says about itself.
pub fn infer_runtime(backend_kind: &str, backend_version: Option<&str>) -> Runtime {
    match (backend_kind, backend_version) {
        ("ollama", _) => Runtime::Ollama,
        (_, Some(v)) if v.to_ascii_lowercase().contains("uvicorn") => Runtime::LlamaCppPython,
        _ => Runtime::LlamaCpp,
    }
}

/// The model's description, completed from its GGUF file when one is
/// given, and the bytes of its weights when known.
pub async fn describe_model<B: Backend + Sync>(
    backend: &B,
    model: &str,
    gguf_path: Option<&std::path::Path>,
) -> Result<(ModelInfo, Option<u64>), RunError> {
    let mut info = backend.describe(model).await?;
    let mut weights = info.size_bytes;
    if let Some(path) = gguf_path {
        let header = gguf::read_header(path)?;
        info.digest = Some(format!("blake3:{}", gguf::file_hash(path)?));
        let meta_str = |k: &str| header.metadata.get(k).and_then(|v| v.as_str()).map(str::to_string);
        info.quantization = info.quantization.or_else(|| {
            header
                .metadata
                .get("general.file_type")
                .and_then(|v| v.as_u64())
                .and_then(gguf::file_type_name)
                .map(Into::into)
        });
        info.parameter_size = info.parameter_size.or_else(|| meta_str("general.size_label"));
        weights = Some(header.weight_bytes());
        info.tensors = Some(header.split());
        for (k, v) in header.metadata {
            // The vocabulary's length (kept by the reader) sizes the logits.
            if !k.starts_with("tokenizer.") || k == "tokenizer.ggml.tokens" {
                info.metadata.entry(k).or_insert(v);
            }
        }
    }
    Ok((info, weights))
}

/// A run ready to start: the model described, the plan checked, the
/// manifest written out in full but for what only the run can observe.
#[derive(Debug, Clone)]
pub struct Prepared<'a> {
    set: &'a TaskSet,
    config: RunConfig,
    /// The plan, when there was a budget and metadata to plan from.
    pub plan: Option<Plan>,
    /// The manifest to record before the first request.
    pub manifest: RunManifest,
}

/// Describes the model, plans its memory and refuses a plan that does not
/// fit (unless allowed), and builds the run's manifest. Nothing is sent to
/// the model yet.
pub async fn prepare<'a, B: Backend + Sync>(
    backend: &B,
    set: &'a TaskSet,
    spec: &RunSpec,
) -> Result<Prepared<'a>, RunError> {
    let scope = crate::require_local(backend.endpoint(), spec.allow_remote)?;
    if scope == bench_core::EndpointScope::Remote {
        let host = crate::endpoint_host(backend.endpoint());
        if !crate::acknowledged(&spec.egress, &host) {
            return Err(EndpointError::Unacknowledged { endpoint: backend.endpoint().into(), provider: host }.into());
        }
    }
    let (info, weights) = describe_model(backend, &spec.model, spec.gguf.as_deref()).await?;
    let runtime = spec.runtime.unwrap_or_else(|| infer_runtime(backend.kind(), info.backend_version.as_deref()));
    let plan = spec.vram_bytes.and_then(|vram_bytes| {
        let shape =
            ModelShape { tensors: info.tensors, ..ModelShape::from_metadata(&info.metadata, weights.unwrap_or(0))? };
        let ctx = u64::from(spec.options.num_ctx);
        Some(shape.plan(
            &PlanRequest::new(vram_bytes, ctx, spec.kv_type, runtime).with(spec.policy, spec.parallel.or(info.slots)),
        ))
    });
    if let Some(p) = plan.as_ref().filter(|p| !p.fits && !spec.allow_overcommit) {
        return Err(RunError::PlanDoesNotFit {
            model: spec.model.clone(),
            needed: p.total,
            budget: p.request.vram_bytes,
        });
    }
    let mut manifest = RunManifest::new(set, "native", backend.kind(), backend.endpoint(), scope, &spec.model);
    manifest.backend_version = info.backend_version;
    manifest.model_digest = info.digest;
    manifest.quantization = info.quantization;
    manifest.options = spec.options.clone();
    manifest.vram_plan = plan.as_ref().map(to_value("VRAM plan")).transpose()?;
    let mut config = RunConfig::new(&spec.model, spec.options.clone());
    config.timeout = spec.timeout;
    config.attempts = spec.attempts;
    config.allow_partial_offload = spec.allow_partial_offload;
    Ok(Prepared { set, config, plan, manifest })
}

fn to_value<T: serde::Serialize>(what: &'static str) -> impl Fn(&T) -> Result<serde_json::Value, RunError> {
    move |v| serde_json::to_value(v).map_err(|source| RunError::Encode { what, source })
}

/// A run that has ended: the manifest with what the run observed, and the
/// counts.
#[derive(Debug, Clone)]
pub struct Finished {
    /// The manifest with warnings, residency and the end time filled in.
    pub manifest: RunManifest,
    /// What the run did.
    pub summary: RunSummary,
}

impl Finished {
    /// Whether this invocation sent any request (a resumed run with nothing
    /// left to do sent none, and keeps its recorded end).
    pub fn did_work(&self) -> bool {
        self.summary.completed + self.summary.failed > 0
    }
}

impl Prepared<'_> {
    /// Continues an earlier run: its first start stays the run's start.
    pub fn resuming(mut self, started_at: &str) -> Self {
        self.manifest.started_at = started_at.into();
        self
    }

    /// Runs the tasks through `sink` (which knows what is already done), then
    /// records in the manifest the collapse warnings, the residency and the end.
    pub async fn execute<B: Backend + Sync, S: ResultSink + Send>(
        self,
        backend: &B,
        sink: &mut S,
        progress: impl FnMut(&Progress) + Send,
    ) -> Result<Finished, RunError> {
        let summary = run(backend, &self.set.tasks, sink, &self.config, progress).await?;
        let mut manifest = self.manifest;
        if !summary.collapsed.is_empty() {
            manifest.warnings.push(format!(
                "throughput fell below half the best at a comparable prompt length on {} task(s) ({}); the model may be spilling out of VRAM",
                summary.collapsed.len(),
                summary.collapsed.join(", ")
            ));
        }
        manifest.residency = summary.residency.as_ref().map(to_value("residency")).transpose()?;
        if manifest.endpoint_scope == bench_core::EndpointScope::Remote {
            // Every request of this client, the description and plan included.
            let (requests, bytes_sent) = backend.sent();
            let host = crate::endpoint_host(&manifest.endpoint);
            manifest.egress = Some(bench_core::Egress {
                provider: host.clone(),
                host,
                requests,
                bytes_sent,
                bytes_received: 0,
                taskset_id: manifest.taskset_id.clone(),
                payload_blake3: None,
            });
        }
        manifest.finished_at = Some(now_rfc3339());
        Ok(Finished { manifest, summary })
    }
}
