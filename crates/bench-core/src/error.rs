/// An error from a [`crate::ResultSink`], carried as text so that the seam does not
/// tie the runner to any one store's error type.
#[derive(Debug, thiserror::Error)]
#[error("result sink: {0}")]
pub struct SinkError(pub String);
