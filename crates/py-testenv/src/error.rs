use std::path::PathBuf;

/// A cause of any type.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Why a test environment could not be prepared. Failures of the tests
/// themselves are outcomes, not errors.
#[derive(Debug, thiserror::Error)]
#[allow(missing_docs)] // each variant is documented by its #[error] message
pub enum TestEnvError {
    #[error("{path}: {what}")]
    Io {
        path: PathBuf,
        what: &'static str,
        #[source]
        source: std::io::Error,
    },
    #[error("sandbox: `{tool}` not found on PATH ({hint})")]
    MissingTool { tool: &'static str, hint: &'static str },
    #[error("{python}: not a usable Python interpreter: {what}")]
    Interpreter {
        python: PathBuf,
        what: String,
        #[source]
        source: Option<BoxError>,
    },
    #[error(
        "{python}: the project under test is installed in the test environment (`{name}` from {distribution}); \
         an answer could import the original from it: install the project's dependencies, not the project"
    )]
    ProjectInstalled { python: PathBuf, name: String, distribution: String },
    #[error("test command {cmd:?}: {reason}")]
    TestCommand { cmd: String, reason: String },
    #[error("baseline of {snapshot}: {what}")]
    Baseline {
        snapshot: String,
        what: String,
        #[source]
        source: Option<Box<TestEnvError>>,
    },
    #[error("{python}: cannot describe the environment's API surface: {what}")]
    Surface {
        python: PathBuf,
        what: String,
        #[source]
        source: Option<serde_json::Error>,
    },
    #[error("the exploit harness reported nothing: {what}")]
    Harness { what: String },
    #[error("{path}: unreadable cache entry")]
    Cache {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
}

impl TestEnvError {
    pub(crate) fn io(path: impl Into<PathBuf>, what: &'static str) -> impl FnOnce(std::io::Error) -> Self {
        let path = path.into();
        move |source| TestEnvError::Io { path, what, source }
    }
}
