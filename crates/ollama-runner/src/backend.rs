use std::collections::BTreeMap;
use std::future::Future;
use std::time::Duration;

use bench_core::{FinishReason, SamplingOptions, Timings};
use serde::{Deserialize, Serialize};

use crate::BackendError;

/// One chat request.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Request {
    /// The model name as the server knows it.
    pub model: String,
    /// The system prompt.
    pub system: String,
    /// The user prompt.
    pub user: String,
    /// Sent unchanged to the server.
    pub options: SamplingOptions,
}

impl Request {
    /// A request from its parts.
    pub fn new(model: &str, system: &str, user: &str, options: &SamplingOptions) -> Self {
        Self { model: model.into(), system: system.into(), user: user.into(), options: options.clone() }
    }
}

/// A backend's answer to one request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Reply {
    /// The answer's text.
    pub text: String,
    /// Prompt tokens, when the server reports them.
    pub prompt_tokens: Option<u64>,
    /// Where `prompt_tokens` came from (`response` or `count request`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prompt_tokens_from: Option<String>,
    /// Generated tokens, when the server reports them.
    pub completion_tokens: Option<u64>,
    /// Why generation stopped.
    pub finish_reason: FinishReason,
    /// Load, prompt and generation times as the server reports them.
    pub timings: Timings,
}

/// What a backend says about a model.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ModelInfo {
    /// The model name.
    pub name: String,
    /// Ollama's digest, or the GGUF file's blake3.
    pub digest: Option<String>,
    /// The quantisation (`Q4_K_M`).
    pub quantization: Option<String>,
    /// The parameter count as labelled (`270M`).
    pub parameter_size: Option<String>,
    /// The model's size in bytes.
    pub size_bytes: Option<u64>,
    /// The server's version, when it reports one.
    pub backend_version: Option<String>,
    /// GGUF metadata (`general.architecture`, `<arch>.block_count`, ...).
    pub metadata: BTreeMap<String, serde_json::Value>,
    /// The slots the server holds memory for, where it reports them
    /// (llama-server's `/props` `total_slots`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slots: Option<u64>,
    /// How the weights divide between devices, from a GGUF tensor table.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tensors: Option<crate::plan::TensorSplit>,
}

/// How much of a loaded model sits in VRAM.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Residency {
    /// The loaded model's size in bytes.
    pub size: u64,
    /// The bytes of it in VRAM.
    pub size_vram: u64,
}

impl Residency {
    /// Whether all of the model is in VRAM.
    pub fn fully_resident(&self) -> bool {
        self.size_vram >= self.size
    }
}

/// What a client has sent: requests and request-body bytes, for the egress
/// record of a run against a non-local endpoint.
#[derive(Debug, Default)]
pub struct Sent {
    requests: std::sync::atomic::AtomicU64,
    bytes: std::sync::atomic::AtomicU64,
}

impl Sent {
    /// Counts one request with `body` (as reqwest's `.json` sends it).
    pub(crate) fn note(&self, body: Option<&serde_json::Value>) {
        use std::sync::atomic::Ordering::Relaxed;
        self.requests.fetch_add(1, Relaxed);
        let n = body.map_or(0, |b| serde_json::to_vec(b).map_or(0, |v| v.len() as u64));
        self.bytes.fetch_add(n, Relaxed);
    }

    /// (requests, bytes) so far.
    pub fn totals(&self) -> (u64, u64) {
        use std::sync::atomic::Ordering::Relaxed;
        (self.requests.load(Relaxed), self.bytes.load(Relaxed))
    }
}

/// A model server. Implemented for Ollama's native API and for
/// OpenAI-compatible servers.
pub trait Backend {
    /// `ollama` or `openai`.
    fn kind(&self) -> &'static str;
    /// The server root.
    fn endpoint(&self) -> &str;
    /// What the server says about `model`.
    fn describe(&self, model: &str) -> impl Future<Output = Result<ModelInfo, BackendError>> + Send;
    /// One chat request, bounded by `timeout`.
    fn complete(
        &self,
        request: &Request,
        timeout: Duration,
    ) -> impl Future<Output = Result<Reply, BackendError>> + Send;
    /// `None` when the server cannot say.
    fn residency(&self, model: &str) -> impl Future<Output = Result<Option<Residency>, BackendError>> + Send;
    /// Unloads the model where the server allows it; a no-op otherwise.
    fn unload(&self, model: &str) -> impl Future<Output = Result<(), BackendError>> + Send;
    /// Requests and request-body bytes this client has sent (zeros when it
    /// does not count).
    fn sent(&self) -> (u64, u64) {
        (0, 0)
    }
}

pub(crate) fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
