/// A cause of any type.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Errors of the main job, each naming the source, task set or run at fault;
/// the crate errors underneath are kept as sources.
#[derive(Debug, thiserror::Error)]
pub enum EvalError {
    /// The source could not be read into a snapshot.
    #[error(transparent)]
    Scan(#[from] repo_scan::ScanError),
    /// Rules, task set or synthesis failed.
    #[error(transparent)]
    Synth(#[from] task_synth::SynthError),
    /// The test environment could not be prepared.
    #[error(transparent)]
    TestEnv(#[from] py_testenv::TestEnvError),
    /// An endpoint was refused or could not be opened.
    #[error(transparent)]
    Endpoint(#[from] ollama_runner::EndpointError),
    /// A request to a model server or a provider failed.
    #[error(transparent)]
    Backend(#[from] ollama_runner::BackendError),
    /// A run was refused or stopped.
    #[error(transparent)]
    Run(#[from] ollama_runner::RunError),
    /// A VRAM plan could not be made.
    #[error(transparent)]
    Plan(#[from] ollama_runner::PlanError),
    /// The store refused or failed.
    #[error(transparent)]
    Store(#[from] result_store::StoreError),
    /// A `github:` source could not be fetched.
    #[error("{repo}: {what}")]
    Github {
        /// `github:OWNER/REPO`.
        repo: String,
        /// The step that failed, or the status, in one line.
        what: String,
        /// The library's error, where one caused it.
        #[source]
        source: Option<BoxError>,
    },
    /// A matrix file that cannot be used.
    #[error("{file}: {what}")]
    Matrix {
        /// The file.
        file: String,
        /// What is wrong, in one line.
        what: String,
        /// The reader's or parser's error, where one caused it.
        #[source]
        source: Option<BoxError>,
    },
    /// A provider batch ended without running.
    #[error("batch {batch}: {reason}")]
    Batch {
        /// The provider's batch id.
        batch: String,
        /// Its status or errors.
        reason: String,
    },
    /// A run stopped after its row was written; rerunning resumes it.
    #[error("run {run} of {model} stopped; rerun to resume")]
    Stopped {
        /// The run's id in the store.
        run: i64,
        /// The model.
        model: String,
        /// Why it stopped.
        #[source]
        source: Box<EvalError>,
    },
    /// An execution-verified task set cannot be graded without its tests.
    #[error("task set {taskset}: it is execution-verified; its tests need its source and an interpreter")]
    NeedsTests {
        /// The task set's id.
        taskset: String,
    },
    /// A scheduler refused a job.
    #[error("{job}: {what}")]
    Submit {
        /// The job file.
        job: String,
        /// What failed, or what the scheduler said, in one line.
        what: String,
        /// The I/O error, where one caused it.
        #[source]
        source: Option<std::io::Error>,
    },
    /// The source given for grading is not the one the task set came from.
    #[error("{source_path}: snapshot {found} is not the task set's snapshot {expected}")]
    WrongSource {
        /// The source as given.
        source_path: String,
        /// Its snapshot id.
        found: String,
        /// The task set's snapshot id.
        expected: String,
    },
    /// A recorded test command cannot be written back as one command line.
    #[error("task set {taskset}: its recorded test command cannot be quoted")]
    TestCommand {
        /// The task set's id.
        taskset: String,
        /// Why.
        #[source]
        source: shlex::QuoteError,
    },
    /// Calibration could not be encoded for the store.
    #[error("task set {taskset}: cannot encode its calibration")]
    Encode {
        /// The task set's id.
        taskset: String,
        /// The encoder's error.
        #[source]
        source: serde_json::Error,
    },
    /// The recall probe could not probe a task.
    #[error("recall probe of task {task}: {reason}")]
    Probe {
        /// The task.
        task: String,
        /// Why.
        reason: String,
    },
    /// A transform of the repository was asked for without a test environment.
    #[error(
        "{source_path}: the rename transform needs a test environment: execution decides which names may be renamed"
    )]
    NoveltyNeedsTests {
        /// The source.
        source_path: String,
    },
}
