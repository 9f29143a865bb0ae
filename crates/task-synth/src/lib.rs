//! Turns extracted metadata into a stratified, ground-truthed [`TaskSet`] as a
//! pure function of (snapshot, rules, tool version), and grades answers
//! against that ground truth.
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

mod answer;
mod apis;
mod audit;
mod calibrate;
mod codegen;
mod context;
mod error;
mod execute;
mod grade;
mod project;
mod rules;
mod select;
mod sinks;
mod synth;
mod understanding;
mod units;

pub use apis::{check as check_apis, own_surface, stdlib_surface};
pub use calibrate::{calibrate, Answerer, AnswererScore, Calibration, Floor, ANSWERERS, BROKEN_FLOOR};
pub use error::SynthError;
pub use execute::grade_completions;
pub use grade::{grade, grade_completion, grade_in, pair_scores, PairScore};
pub use rules::{AuditRules, CodegenRules, Exclude, Quota, Rules, TestRules, UnderstandingRules};
pub use sinks::{find_sinks, Sink};
pub use synth::{
    first_difference, load_task_set, read_task_set, save_task_set, synthesize, synthesize_verified, write_task_set,
};
pub use units::{headline, units, Headline, Stratum, Unit};
