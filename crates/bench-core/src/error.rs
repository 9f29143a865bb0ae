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

/// An error's message with every cause after it, on one line: the one way
/// an error becomes text that a record (a completion, a test outcome, a
/// skipped file) keeps after the error value is gone.
pub fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur: &dyn std::error::Error = e;
    while let Some(next) = cur.source() {
        let text = next.to_string();
        // Some wrappers repeat their cause's text; say it once.
        if !s.ends_with(&text) {
            s.push_str(": ");
            s.push_str(&text);
        }
        cur = next;
    }
    s
}
