//! The vocabulary of execution-verified ground truth, and the [`TestOracle`]
//! seam: synthesis and grading ask it to run the repository's own tests; a
//! sandboxing crate implements it, so neither depends on the other.

use serde::{Deserialize, Serialize};

/// What decides a task's ground truth.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Evidence {
    /// No test decides it: the ground truth is the injected change itself.
    #[default]
    Structural,
    /// The repository's own tests decide it. For a mutant, the tests that
    /// passed at baseline and fail with it; for a generation task or a no-bug
    /// control, the tests that pass at baseline and execute the function.
    Execution {
        /// The deciding tests, as pytest node ids.
        tests: Vec<String>,
    },
}

impl Evidence {
    /// Whether no test decided it.
    pub fn is_structural(&self) -> bool {
        matches!(self, Evidence::Structural)
    }

    /// The deciding tests; empty for structural evidence.
    pub fn tests(&self) -> &[String] {
        match self {
            Evidence::Structural => &[],
            Evidence::Execution { tests } => tests,
        }
    }
}

/// The environment the repository's tests ran in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TestEnvironment {
    /// blake3 over everything below: the key of every cached execution fact.
    pub fingerprint: String,
    /// `sys.version` of the interpreter.
    pub python: String,
    /// Installed distributions as `name==version`, sorted.
    pub packages: Vec<String>,
    /// The test command as run, without the harness's own options.
    pub test_cmd: Vec<String>,
    /// blake3 of the harness (pytest plugin) that collected the outcomes.
    pub harness: String,
}

/// The suite on the pristine snapshot, run twice.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BaselineSummary {
    /// Tests collected.
    pub tests: usize,
    /// Passed in both runs: only these tests decide anything.
    pub passed: usize,
    /// Tests that failed in a baseline run.
    pub failed: usize,
    /// Tests skipped.
    pub skipped: usize,
    /// Tests whose outcome differed between the two runs; dropped.
    pub flaky: Vec<String>,
}

/// What execution did during synthesis.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExecutionStats {
    /// Candidate mutants run against their covering tests.
    pub mutants_tested: usize,
    /// Killed: at least one baseline-passing test failed. Only these become tasks.
    pub mutants_killed: usize,
    /// Survived every covering test (equivalent or untested behaviour): discarded.
    pub mutants_survived: usize,
    /// No passing test executes the mutated function: discarded untested.
    pub mutants_uncovered: usize,
    /// The run timed out or crashed, so no test can be named: discarded.
    pub mutants_inconclusive: usize,
    /// Generation candidates whose stub (`return None`) was run against their tests.
    pub generation_tested: usize,
    /// Discarded because a stub body passed every covering test.
    pub generation_stub_passed: usize,
    /// Discarded because no passing test executes the function.
    pub generation_uncovered: usize,
}

/// How a task set's ground truth was settled: present when a test
/// environment was given, absent when the set is structural only.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExecutionRecord {
    /// The interpreter, packages and command the tests ran under.
    pub environment: TestEnvironment,
    /// What the baseline runs found.
    pub baseline: BaselineSummary,
    /// What execution did to the candidates.
    pub stats: ExecutionStats,
}

/// One run of chosen tests with one file of the snapshot replaced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestJob {
    /// Snapshot-relative path of the replaced file.
    pub file: String,
    /// Its new text.
    pub text: String,
    /// Node ids of the tests to run.
    pub tests: Vec<String>,
}

/// What a [`TestJob`] showed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TestOutcome {
    /// The chosen tests that did not pass (failed, errored or never reported).
    pub failed: Vec<String>,
    /// Set when the run as a whole was cut short (wall-clock timeout, a
    /// resource limit, no results): then `failed` may not name the cause.
    pub aborted: Option<String>,
}

impl TestOutcome {
    /// Whether every chosen test passed.
    pub fn passed(&self) -> bool {
        self.aborted.is_none() && self.failed.is_empty()
    }
}

/// Runs the repository's own tests, sandboxed, against the pristine snapshot
/// with one file replaced.
pub trait TestOracle: Sync {
    /// The environment and its baseline.
    fn environment(&self) -> &TestEnvironment;
    /// What the baseline runs found.
    fn baseline(&self) -> &BaselineSummary;
    /// The pristine text of a snapshot file.
    fn file(&self, path: &str) -> Option<&str>;
    /// Tests that passed in both baseline runs and executed the function or
    /// method of `file` whose definition (first decorator included) starts at
    /// `line`, sorted.
    fn covering(&self, file: &str, line: u32) -> Vec<String>;
    /// Runs every job, each in its own copy, in parallel up to the machine's
    /// cores; outcomes in job order.
    fn run(&self, jobs: &[TestJob]) -> Vec<TestOutcome>;
    /// The API surface of the environment (standard library and installed
    /// dependencies), when it was described.
    fn api_surface(&self) -> Option<&crate::ApiSurface> {
        None
    }
}
