use std::collections::BTreeMap;
use std::future::Future;
use std::time::Duration;

use bench_core::{FinishReason, SamplingOptions, Timings};
use serde::{Deserialize, Serialize};

use crate::RunnerError;

/// One chat request.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Request {
    pub model: String,
    pub system: String,
    pub user: String,
    pub options: SamplingOptions,
}

impl Request {
    pub fn new(model: &str, system: &str, user: &str, options: &SamplingOptions) -> Self {
        Self { model: model.into(), system: system.into(), user: user.into(), options: options.clone() }
    }
}

/// A backend's answer to one request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Reply {
    pub text: String,
    pub prompt_tokens: Option<u64>,
    pub completion_tokens: Option<u64>,
    pub finish_reason: FinishReason,
    pub timings: Timings,
}

/// What a backend says about a model.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ModelInfo {
    pub name: String,
    pub digest: Option<String>,
    pub quantization: Option<String>,
    pub parameter_size: Option<String>,
    pub size_bytes: Option<u64>,
    pub backend_version: Option<String>,
    /// GGUF metadata (`general.architecture`, `<arch>.block_count`, ...).
    pub metadata: BTreeMap<String, serde_json::Value>,
}

/// How much of a loaded model sits in VRAM.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Residency {
    pub size: u64,
    pub size_vram: u64,
}

impl Residency {
    pub fn fully_resident(&self) -> bool {
        self.size_vram >= self.size
    }
}

/// A model server. Implemented for Ollama's native API and for
/// OpenAI-compatible servers.
pub trait Backend {
    /// `ollama` or `openai`.
    fn kind(&self) -> &'static str;
    fn endpoint(&self) -> &str;
    fn describe(&self, model: &str) -> impl Future<Output = Result<ModelInfo, RunnerError>> + Send;
    fn complete(&self, request: &Request, timeout: Duration)
        -> impl Future<Output = Result<Reply, RunnerError>> + Send;
    /// `None` when the server cannot say.
    fn residency(&self, model: &str) -> impl Future<Output = Result<Option<Residency>, RunnerError>> + Send;
    /// Unloads the model where the server allows it; a no-op otherwise.
    fn unload(&self, model: &str) -> impl Future<Output = Result<(), RunnerError>> + Send;
}

pub(crate) fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
