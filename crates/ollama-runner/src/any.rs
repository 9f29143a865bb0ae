use std::time::Duration;

use crate::{Backend, BackendError, EndpointError, ModelInfo, OllamaBackend, OpenAiBackend, Reply, Request, Residency};

/// The server protocols the runner speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BackendKind {
    /// Ollama's native API.
    Ollama,
    /// Any OpenAI-compatible chat server.
    OpenAi,
}

/// Either backend, chosen at run time. [`Backend`] returns `impl Future`, so
/// it cannot be a trait object; this enum is the dynamic choice instead.
#[derive(Debug, Clone)]
pub enum AnyBackend {
    /// Ollama's native API.
    Ollama(OllamaBackend),
    /// An OpenAI-compatible server.
    OpenAi(OpenAiBackend),
}

impl AnyBackend {
    /// A client of `kind` for `endpoint` (no request is made).
    pub fn new(kind: BackendKind, endpoint: &str) -> Result<Self, EndpointError> {
        Ok(match kind {
            BackendKind::Ollama => Self::Ollama(OllamaBackend::new(endpoint)?),
            BackendKind::OpenAi => Self::OpenAi(OpenAiBackend::new(endpoint)?),
        })
    }
}

impl Backend for AnyBackend {
    fn kind(&self) -> &'static str {
        match self {
            Self::Ollama(b) => b.kind(),
            Self::OpenAi(b) => b.kind(),
        }
    }

    fn endpoint(&self) -> &str {
        match self {
            Self::Ollama(b) => b.endpoint(),
            Self::OpenAi(b) => b.endpoint(),
        }
    }

    fn sent(&self) -> (u64, u64) {
        match self {
            Self::Ollama(b) => b.sent(),
            Self::OpenAi(b) => b.sent(),
        }
    }

    async fn describe(&self, model: &str) -> Result<ModelInfo, BackendError> {
        match self {
            Self::Ollama(b) => b.describe(model).await,
            Self::OpenAi(b) => b.describe(model).await,
        }
    }

    async fn complete(&self, request: &Request, timeout: Duration) -> Result<Reply, BackendError> {
        match self {
            Self::Ollama(b) => b.complete(request, timeout).await,
            Self::OpenAi(b) => b.complete(request, timeout).await,
        }
    }

    async fn residency(&self, model: &str) -> Result<Option<Residency>, BackendError> {
        match self {
            Self::Ollama(b) => b.residency(model).await,
            Self::OpenAi(b) => b.residency(model).await,
        }
    }

    async fn unload(&self, model: &str) -> Result<(), BackendError> {
        match self {
            Self::Ollama(b) => b.unload(model).await,
            Self::OpenAi(b) => b.unload(model).await,
        }
    }
}
