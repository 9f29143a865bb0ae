use serde::{Deserialize, Serialize};

/// A file that does not parse, with where and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("{path}:{line}: {error}")]
pub struct ParseFailure {
    /// The file, or `<snippet>`/`<answer>`.
    pub path: String,
    /// The 1-based line, 0 when none applies.
    pub line: u32,
    /// The parser's message.
    pub error: String,
}

impl ParseFailure {
    pub(crate) fn from_parser(path: &str, text: &str, e: &rustpython_parser::ParseError) -> Self {
        let line = crate::lines::Lines::new(text).line(e.offset.to_usize());
        Self { path: path.to_string(), line, error: e.error.to_string() }
    }
}
