/// Errors of emitting and ingesting promptfoo files.
#[derive(Debug, thiserror::Error)]
#[allow(missing_docs)] // each variant is documented by its #[error] message
pub enum EmitError {
    #[error("model spec {spec:?}: {reason} (expected ollama:MODEL[@URL] or openai:MODEL[@URL])")]
    Spec { spec: String, reason: String },
    #[error("{path}: not a promptfoo results file: {reason}")]
    Malformed { path: String, reason: String },
    #[error("{path}: not a promptfoo results file")]
    Json {
        path: String,
        #[source]
        source: serde_json::Error,
    },
    #[error("{path}: result {index} names task {task_id}, which is not in task set {taskset_id}")]
    UnknownTask { path: String, index: usize, task_id: String, taskset_id: String },
    #[error("{path}: cannot read or write")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: results are for task set {found}, not {expected}")]
    OtherTaskSet { path: String, found: String, expected: String },
}
