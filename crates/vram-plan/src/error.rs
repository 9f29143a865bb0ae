/// Errors of planning: a setting that does not parse, a GGUF file that
/// cannot be read or is not one.
#[derive(Debug, thiserror::Error)]
#[allow(missing_docs)] // each variant is documented by its #[error] message
pub enum PlanError {
    #[error("{given:?}: expected {expected}")]
    Setting { given: String, expected: &'static str },
    #[error("{path}: not a readable GGUF file: {reason}")]
    Gguf { path: String, reason: String },
    #[error("{path}: not a readable GGUF file: truncated {what}")]
    Truncated {
        path: String,
        what: &'static str,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: cannot read the GGUF file")]
    GgufIo {
        path: String,
        #[source]
        source: std::io::Error,
    },
}
