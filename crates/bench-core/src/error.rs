/// An error from a [`crate::ResultSink`]: the sink's own error kept whole as
/// the cause, so the seam does not tie the runner to any one store's error
/// type and loses nothing of it.
#[derive(Debug, thiserror::Error)]
#[error("result sink")]
pub struct SinkError(#[source] pub Box<dyn std::error::Error + Send + Sync + 'static>);

impl SinkError {
    /// Wraps any error, or a message.
    pub fn new(cause: impl Into<Box<dyn std::error::Error + Send + Sync + 'static>>) -> Self {
        Self(cause.into())
    }
}
