//! One error type per operation (gitoxide's style): opening an endpoint,
//! one request to a server, a whole run. A caller matches only the faults
//! its operation can have.

use bench_core::error_chain;

/// A cause of any type; a plain message converts into one where the fault
/// is the runner's own finding rather than a library's error.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Opening an endpoint: its URL, the air-gap check, the credentials.
#[derive(Debug, thiserror::Error)]
#[allow(missing_docs)] // each variant is documented by its #[error] message
pub enum EndpointError {
    #[error("{endpoint}: invalid endpoint URL")]
    BadEndpoint {
        endpoint: String,
        #[source]
        source: BoxError,
    },
    #[error("{endpoint}: refusing a non-local endpoint ({host} is not loopback or private); remote endpoints must be allowed explicitly")]
    Remote { endpoint: String, host: String },
    #[error("{endpoint}: egress to {provider} was not acknowledged; sending the task set to a provider must be acknowledged by name")]
    Unacknowledged { endpoint: String, provider: String },
    #[error("{provider}: no API key in {var}")]
    MissingKey { provider: &'static str, var: &'static str },
}

/// One request to a model server or a provider's batch API.
#[derive(Debug, thiserror::Error)]
#[allow(missing_docs)]
pub enum BackendError {
    #[error("{endpoint}: request failed")]
    Request {
        endpoint: String,
        #[source]
        source: reqwest::Error,
    },
    #[error("{endpoint}: model {model:?} timed out after {secs}s")]
    Timeout { endpoint: String, model: String, secs: u64 },
    #[error("{endpoint}: model {model:?} not found: {message}")]
    ModelNotFound { endpoint: String, model: String, message: String },
    #[error("{endpoint}: model {model:?}: HTTP {status}: {message}")]
    Http { endpoint: String, model: String, status: u16, message: String },
    #[error("{endpoint}: model {model:?}: stream ended early")]
    StreamCut {
        endpoint: String,
        model: String,
        #[source]
        source: BoxError,
    },
    #[error("{endpoint}: model {model:?}: server error mid-stream: {message}")]
    ServerError { endpoint: String, model: String, message: String },
    #[error("{endpoint}: unexpected response: {what}")]
    Protocol {
        endpoint: String,
        what: String,
        #[source]
        source: Option<BoxError>,
    },
}

impl BackendError {
    /// Whether another attempt may succeed: transport failures, timeouts,
    /// cut streams and server-side 5xx.
    pub fn retryable(&self) -> bool {
        match self {
            BackendError::Request { .. }
            | BackendError::Timeout { .. }
            | BackendError::StreamCut { .. }
            | BackendError::ServerError { .. } => true,
            BackendError::Http { status, .. } => *status >= 500 || *status == 429,
            BackendError::ModelNotFound { .. } | BackendError::Protocol { .. } => false,
        }
    }

    /// The message with every cause after it, for a stored record (a
    /// completion's error) that outlives the error value.
    pub fn chain(&self) -> String {
        error_chain(self)
    }

    pub(crate) fn from_reqwest(endpoint: &str, model: &str, e: reqwest::Error, secs: u64) -> Self {
        if e.is_timeout() {
            BackendError::Timeout { endpoint: endpoint.into(), model: model.into(), secs }
        } else if e.is_body() || e.is_decode() {
            BackendError::StreamCut { endpoint: endpoint.into(), model: model.into(), source: e.into() }
        } else {
            BackendError::Request { endpoint: endpoint.into(), source: e }
        }
    }
}

/// A run: preparing it (air gap, description, plan), the warm-up, the task
/// loop and the manifest.
#[derive(Debug, thiserror::Error)]
#[allow(missing_docs)]
pub enum RunError {
    #[error(transparent)]
    Endpoint(#[from] EndpointError),
    #[error(transparent)]
    Backend(#[from] BackendError),
    /// `recorded` is the warm-up completion's stored error: the error value
    /// itself went into that record.
    #[error("{endpoint}: warm-up failed: {recorded}")]
    WarmUp { endpoint: String, recorded: String },
    #[error(transparent)]
    Plan(#[from] vram_plan::PlanError),
    #[error("model {model:?}: VRAM plan does not fit: needs {needed} bytes, budget {budget} bytes; an overcommitted plan must be allowed explicitly")]
    PlanDoesNotFit { model: String, needed: u64, budget: u64 },
    #[error("{endpoint}: model {model:?} is only partly in VRAM ({size_vram} of {size} bytes); numbers would be corrupted unless partial offload is allowed explicitly")]
    PartialOffload { endpoint: String, model: String, size: u64, size_vram: u64 },
    #[error("{endpoint}: {count} tasks in a row failed to reach the server; stopping (last: {last})")]
    ServerDown { endpoint: String, count: u32, last: String },
    #[error("cannot encode the {what} for the manifest")]
    Encode {
        what: &'static str,
        #[source]
        source: serde_json::Error,
    },
    #[error(transparent)]
    Sink(#[from] bench_core::SinkError),
}
