/// Errors of synthesis and verification.
#[derive(Debug, thiserror::Error)]
#[allow(missing_docs)] // each variant is documented by its #[error] message
pub enum SynthError {
    #[error("{origin}: invalid rules: {reason}")]
    Rules { origin: String, reason: String },
    #[error("{origin}: invalid rules")]
    RulesYaml {
        origin: String,
        #[source]
        source: serde_yaml_ng::Error,
    },
    #[error("{origin}: cannot read the rules")]
    RulesIo {
        origin: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: not a task set")]
    TaskSetJson {
        path: String,
        #[source]
        source: serde_json::Error,
    },
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
