//! Runs a Python repository's own test suite against a content-addressed
//! snapshot, so that the repository's tests, not a template, decide ground
//! truth (DESIGN.md §5b).
//!
//! [`TestEnv::prepare`] materialises the snapshot into a fresh temporary
//! directory (the user's working tree is never touched), describes the
//! interpreter, and runs the suite twice for a baseline: per-test outcomes,
//! flaky tests dropped, and which functions each passing test executes. It
//! implements [`bench_core::TestOracle`]: run chosen tests with one file
//! replaced, each run in its own view of the snapshot, in parallel.
//!
//! Every run goes through the [`Sandbox`]: no network, a read-only machine
//! except one scratch directory, CPU, memory, process and file-size limits,
//! a scrubbed environment, and a wall-clock timeout that kills the process
//! group. Baselines and outcomes are cached under the environment's
//! fingerprint (interpreter, installed packages, test command, harness,
//! limits), so re-deriving a task set does not run what already ran.
//!
//! ```no_run
//! use bench_core::{TestJob, TestOracle};
//! use py_testenv::{Limits, Spec, TestEnv};
//! let spec = Spec { python: "/usr/bin/python3".into(), test_cmd: None, cache_dir: None, limits: Limits::default(), jobs: 0 };
//! let files = [("pkg/__init__.py", ""), ("pkg/m.py", "def f():\n    return 1\n"),
//!              ("tests/test_m.py", "from pkg.m import f\n\ndef test_f():\n    assert f() == 1\n")];
//! let env = TestEnv::prepare(&spec, "snapshot-id", &files, &["tests".into()]).unwrap();
//! assert_eq!(env.covering("pkg/m.py", 1), ["tests/test_m.py::test_f"]);
//! let job = TestJob::new("pkg/m.py", "def f():\n    return 2\n", env.covering("pkg/m.py", 1));
//! assert!(!env.run(&[job])[0].passed());
//! ```

mod env;
mod error;
mod sandbox;

pub use env::{Spec, TestEnv};
pub use error::TestEnvError;
pub use sandbox::{Execution, Exit, Limits, Mount, Sandbox, SCRATCH};
