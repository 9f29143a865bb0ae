//! The main job as a library, for a team that wants it inside its own tool:
//! a [`Source`] into a task set whose ground truth its own tests settle
//! ([`derive`]), each model run into the store under the runner's plan check
//! ([`run_model`]), graded ([`grade_run`]) and set beside the gaming floors
//! ([`calibrate_set`]). `bench-cli` is argument parsing around these; the
//! report is `bench-report`.

pub mod args;
mod batch;
mod derive;
mod driver;
mod error;
mod github;
pub mod matrix;
mod probe;
mod store;
pub mod text;

pub use batch::{run_batch, BatchProgress};
pub use derive::{derive, derive_novel, extraction, files, grading_env, rederive, test_env, Derived, Source};
pub use driver::{evaluate, Driver, Event, Step};
pub use error::EvalError;
pub use github::{fetch as fetch_github, Fetched, GithubRef, GithubSpec};
pub use probe::{probe_recall, prompt as probe_prompt};
pub use store::{calibrate_set, grade_run, grade_runs, ingest_promptfoo, run_model, StoredRun};
