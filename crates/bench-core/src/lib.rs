//! The shared vocabulary of the evaluation workspace.
//!
//! Every crate of the workspace passes these plain serde values across its
//! boundary: a [`TaskSet`] of [`Task`]s goes to the runner, which returns
//! [`Completion`]s, which the graders turn into [`Grade`]s, all recorded under a
//! [`RunManifest`]. [`ResultSink`] is the seam between the runner and the store,
//! so neither depends on the other.
//!
//! ```
//! use bench_core::{content_id, Category, Tier};
//! assert_eq!(Category::CodeGeneration.as_str(), "code_generation");
//! assert_eq!(Tier::T3.to_string(), "T3");
//! assert_eq!(content_id(b"abc").len(), 64);
//! ```

mod error;
mod exec;
mod hash;
mod result;
mod surface;
mod task;

pub use error::{error_chain, SinkError};
pub use exec::{
    BaselineSummary, Evidence, ExecutionRecord, ExecutionStats, ExploitJob, ExploitOutcome, ExploitTry, Novelty,
    RunBudget, TestEnvironment, TestJob, TestOracle, TestOutcome,
};
pub use hash::{canonical_json, content_id, sorted_value, Hasher};
pub use result::{
    host_description, now_rfc3339, Attempt, BatchRecord, Completion, Component, Egress, EndpointScope, FinishReason,
    Grade, ResultSink, RunManifest, SamplingOptions, Timings,
};
pub use surface::{
    ApiCheck, ApiSurface, Invention, InventionKind, Member, MemberKind, ModuleSurface, Params, Resolved,
};
pub use task::{Category, Expected, Prompt, Task, TaskSet, Tier};

/// The version of the tool, recorded in every task set and run.
pub const TOOL_VERSION: &str = env!("CARGO_PKG_VERSION");
