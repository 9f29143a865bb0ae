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
    /// The vulnerable half of an audit pair: a payload reached the sink and
    /// took effect, in the sandbox, with the sink's library instrumented.
    Exploited {
        /// The attacker-controlled value passed to the function.
        payload: String,
        /// What it did there.
        effect: String,
    },
    /// The clean half of an audit pair: none of these payloads (the
    /// vulnerable half's family and the bypasses of its check) took effect.
    Withstood {
        /// The payloads tried.
        payloads: Vec<String>,
    },
}

impl Evidence {
    /// Whether no test decided it.
    pub fn is_structural(&self) -> bool {
        matches!(self, Evidence::Structural)
    }

    /// The deciding tests; empty for structural and exploit evidence.
    pub fn tests(&self) -> &[String] {
        match self {
            Evidence::Execution { tests } => tests,
            _ => &[],
        }
    }

    /// The evidence in words, for a report's drill-down.
    pub fn describe(&self) -> String {
        match self {
            Evidence::Structural => "structural: no test or exploit decided it".into(),
            Evidence::Execution { tests } => format!("decided by {} tests", tests.len()),
            Evidence::Exploited { payload, effect } => format!("exploited with payload {payload:?}: {effect}"),
            Evidence::Withstood { payloads } => {
                format!("withstood {} payloads ({}): none took effect", payloads.len(), payloads.join(", "))
            }
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
    /// How long one run of chosen tests may take.
    #[serde(default)]
    pub budget: RunBudget,
}

/// The wall-clock (and CPU) limit of one run of chosen tests, derived from
/// those tests' own baseline durations, so that an answer that never returns
/// costs seconds rather than the whole limit:
/// `clamp(overhead_factor x startup + test_factor x their durations, floor, ceiling)`,
/// where startup is the baseline run's time outside the tests (interpreter,
/// collection).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunBudget {
    /// The least a run is given, in milliseconds.
    pub floor_ms: u64,
    /// The most a run is given (the environment's wall-clock limit).
    pub ceiling_ms: u64,
    /// Multiplies the baseline's startup time.
    pub overhead_factor: u32,
    /// Multiplies the chosen tests' baseline durations.
    pub test_factor: u32,
}

impl Default for RunBudget {
    fn default() -> Self {
        Self { floor_ms: 8_000, ceiling_ms: 120_000, overhead_factor: 3, test_factor: 20 }
    }
}

impl RunBudget {
    /// The limit for tests that took `tests_ms` at baseline, after a startup of `startup_ms`.
    pub fn limit_ms(&self, startup_ms: u64, tests_ms: u64) -> u64 {
        let want = u64::from(self.overhead_factor)
            .saturating_mul(startup_ms)
            .saturating_add(u64::from(self.test_factor).saturating_mul(tests_ms));
        want.clamp(self.floor_ms, self.ceiling_ms.max(self.floor_ms))
    }
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
    /// Audit pairs whose halves were run with payloads.
    #[serde(default)]
    pub audit_tested: usize,
    /// Pairs whose vulnerable half was exploited and whose clean twin withstood every payload.
    #[serde(default)]
    pub audit_confirmed: usize,
    /// Discarded: no payload took effect in the vulnerable half (a guard before the sink, say).
    #[serde(default)]
    pub audit_not_exploitable: usize,
    /// Discarded: a payload took effect in the clean twin.
    #[serde(default)]
    pub audit_twin_exploitable: usize,
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

/// How a task set's repository was transformed before synthesis, so that a
/// remembered answer is a wrong one (decision 0024).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Novelty {
    /// `rename`: the package's own identifiers renamed consistently in its
    /// source and tests.
    pub transform: String,
    /// Names the package's own modules define.
    pub defined: usize,
    /// Of those, renamed.
    pub renamed: usize,
    /// Left as they are by rule (dunders, module names, names the code
    /// shares with the standard library or a dependency, or reaches
    /// through strings).
    pub kept_by_rule: usize,
    /// Renamed at first, then kept because renaming them changed the
    /// test suite's baseline (found by bisection), sorted.
    pub kept_by_execution: Vec<String>,
    /// Of the package's defined names the prompts' code shows, the share
    /// that appear renamed.
    pub prompt_share: f64,
    /// Every rename made, old name to new: what grading applies to the
    /// snapshot again, and what a reviewer reads to map a task back.
    pub renames: std::collections::BTreeMap<String, String>,
    /// Renames made only where the name is a function's own (a parameter or
    /// a local), old name to new.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub local_renames: std::collections::BTreeMap<String, String>,
    /// Of the local renames, those made where a function assigns the name
    /// but not where one takes it as a parameter.
    #[serde(default, skip_serializing_if = "std::collections::BTreeSet::is_empty")]
    pub local_not_params: std::collections::BTreeSet<String>,
    /// Keyword arguments renamed with the parameter they pass, as (the
    /// callee's last name, old keyword, new keyword).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub keyword_renames: Vec<(String, String, String)>,
}

/// One half of an audit pair, to be called with attacker-controlled values.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExploitJob {
    /// Snapshot-relative path of its module.
    pub file: String,
    /// Its dotted module name, imported to give the function its namespace.
    pub module: String,
    /// The class, for a method (an instance is made without `__init__`).
    pub class: Option<String>,
    /// The function's name.
    pub name: String,
    /// The function as shown, dedented: defined in the module's namespace.
    pub source: String,
    /// The parameter the payloads are passed as.
    pub param: String,
    /// `shell`, `sql_value`, `sql_column`, `path` or `eval`.
    pub kind: String,
    /// The values to try.
    pub payloads: Vec<String>,
    /// SQL: the columns of the table the query reads.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub columns: Vec<String>,
    /// Path: the intended directory, relative to the module's own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub root: Option<String>,
}

/// One payload of an [`ExploitJob`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExploitTry {
    /// The value passed.
    pub payload: String,
    /// Whether the call reached the sink.
    pub reached: bool,
    /// What reached it (the command, the query, the path, the source).
    pub sink: Option<String>,
    /// What the payload did there; `None`: no effect.
    pub effect: Option<String>,
    /// How the call ended otherwise.
    pub error: Option<String>,
}

/// What running an [`ExploitJob`] showed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExploitOutcome {
    /// Set when the function could not be run at all.
    pub error: Option<String>,
    /// Each payload, in order.
    pub tries: Vec<ExploitTry>,
}

impl ExploitOutcome {
    /// The first payload that took effect, with its effect.
    pub fn exploited(&self) -> Option<(&str, &str)> {
        self.tries.iter().find_map(|t| t.effect.as_deref().map(|e| (t.payload.as_str(), e)))
    }
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
    /// Lines of `text` (first, last; 1-based) that came from a model's
    /// answer: the harness blocks and reports tampering made from them.
    /// Empty for a mutant or a stub, which are ours.
    pub answer_lines: Vec<[u32; 2]>,
    /// A test module a model wrote, put at the oracle's
    /// [`TestOracle::answer_module`]; a `tests` entry naming that file runs
    /// every test in it (all of them its answer lines).
    pub added: Option<String>,
}

impl TestJob {
    /// A run of `tests` with `file` replaced by `text`, none of it an answer.
    pub fn new(file: impl Into<String>, text: impl Into<String>, tests: Vec<String>) -> Self {
        Self { file: file.into(), text: text.into(), tests, answer_lines: Vec::new(), added: None }
    }
}

/// What a [`TestJob`] showed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TestOutcome {
    /// The chosen tests that did not pass (failed, errored or never reported).
    pub failed: Vec<String>,
    /// Set when the run as a whole was cut short (wall-clock timeout, a
    /// resource limit, no results, tampering): then `failed` may not name
    /// the cause.
    pub aborted: Option<String>,
    /// What the code under test did to the harness (`line 12: reads the
    /// harness (...)`, `forged result record`); any makes the run fail.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tampering: Vec<String>,
}

impl TestOutcome {
    /// Whether every chosen test passed.
    pub fn passed(&self) -> bool {
        self.aborted.is_none() && self.failed.is_empty() && self.tampering.is_empty()
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
    /// Where a test module a model writes goes (in the suite's test
    /// directory, so its conftest applies); `None` when this oracle cannot
    /// run one.
    fn answer_module(&self) -> Option<&str> {
        None
    }
    /// Runs the whole suite once with `replaced` files (snapshot path,
    /// text) in place and returns the tests that passed; `None` when this
    /// oracle cannot or the run reported nothing.
    fn suite(&self, replaced: &[(String, String)]) -> Option<std::collections::BTreeSet<String>> {
        let _ = replaced;
        None
    }
    /// Whether every one of `tests` passes with `replaced` files in place,
    /// stopping at the first failure (cheaper than [`TestOracle::suite`]
    /// when the answer is no).
    fn passes_all(&self, replaced: &[(String, String)], tests: &[String]) -> bool {
        self.suite(replaced).is_some_and(|passed| tests.iter().all(|t| passed.contains(t)))
    }
    /// Runs each audit half with its payloads, sandboxed; outcomes in job
    /// order. An oracle that cannot says so in each outcome's `error`.
    fn exploit(&self, jobs: &[ExploitJob]) -> Vec<ExploitOutcome> {
        jobs.iter()
            .map(|_| ExploitOutcome { error: Some("this oracle cannot run exploits".into()), tries: Vec::new() })
            .collect()
    }
}
