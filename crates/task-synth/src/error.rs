/// Errors of synthesis and verification.
#[derive(Debug, thiserror::Error)]
#[allow(missing_docs)] // each variant is documented by its #[error] message
pub enum SynthError {
    #[error("{origin}: invalid rules: {reason}")]
    Rules { origin: String, reason: String },
    #[error("{path}: not a task set: {reason}")]
    TaskSet { path: String, reason: String },
    #[error("{path}: cannot {action}")]
    Io {
        path: String,
        action: &'static str,
        #[source]
        source: std::io::Error,
    },
}
