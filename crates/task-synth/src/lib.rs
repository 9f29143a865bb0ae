//! Turns extracted metadata into a stratified, ground-truthed [`TaskSet`](bench_core::TaskSet) as a
//! pure function of (snapshot, rules, tool version), grades answers against
//! that ground truth, and scores them.
//!
//! By job: [`synth`] (the generators, their stratified selection and the
//! orchestrator that has the repository's tests admit each candidate),
//! [`grade`] (reading answers, execution, invented APIs) and [`score`]
//! (scoring units and the gaming floors of `calibrate`). The rules, the
//! drafts the generators hand the orchestrator and the sink detector are
//! leaves every job reads; no job imports another's internals.
//!
//! Three categories (DESIGN.md §5): `code_generation` from real signatures and
//! docstrings, `code_understanding` from significant methods with one injected
//! bug (or none, for controls), and `security_audit` from real functions with
//! an injected sink, each paired with a clean twin. Every choice among
//! candidates is made by ordering them on a blake3 hash of (snapshot id, rules
//! hash, file, purpose): no randomness, no map order, no clock.
//!
//! ```
//! use py_ast_meta::SourceFile;
//! use task_synth::{synthesize, Rules};
//! let files = vec![SourceFile { path: "pkg/m.py".into(), text: "def f(x):\n    \"\"\"Return twice the value of x.\"\"\"\n    y = x * 2\n    return y\n".into() }];
//! let rules = Rules::default();
//! let ex = py_ast_meta::extract("snap", &files, &rules.extract);
//! let set = synthesize(&files, &ex, &rules, Some(3));
//! assert_eq!(set.tasks.len(), 1);
//! assert_eq!(set, synthesize(&files, &ex, &rules, Some(3)));
//! ```

mod draft;
mod error;
pub mod grade;
mod rules;
pub mod score;
mod sinks;
pub mod synth;
mod taskset;
mod text;

pub use error::SynthError;
// Synthesis takes these; re-exported so an embedder needs no second crate.
pub use py_ast_meta::{extract, Extraction, SourceFile};

/// The task count that asks for every candidate the repository supports
/// (`--count max`): more than any repository yields, small enough that the
/// category quotas cannot overflow.
pub const MAX_TASKS: usize = 100_000;
pub use grade::apis::{check as check_apis, own_surface, stdlib_surface};
pub use grade::execute::grade_completions;
pub use grade::{grade, grade_completion, grade_in, pair_scores, PairScore};
pub use rules::{AuditRules, CodegenRules, Exclude, Quota, Rules, Template, TestRules, UnderstandingRules};
pub use score::calibrate::{calibrate, Answerer, AnswererScore, Calibration, Floor, ANSWERERS, BROKEN_FLOOR};
pub use score::units::{headline, units, Headline, Stratum, Unit};
pub use sinks::{find_sinks, Sink};
pub use synth::{synthesize, synthesize_verified};
pub use taskset::{first_difference, load_task_set, read_task_set, save_task_set, write_task_set};
