//! A snapshot materialised once into a fresh temporary directory, its suite
//! run twice for a baseline with per-test coverage, and any number of
//! sandboxed runs with one file replaced.

use std::collections::{BTreeMap, BTreeSet};
use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use bench_core::{
    ApiSurface, BaselineSummary, ExploitJob, ExploitOutcome, Member, MemberKind, ModuleSurface, Params,
    TestEnvironment, TestJob, TestOracle, TestOutcome,
};
use serde::{Deserialize, Serialize};

use crate::error::BoxError;
use crate::sandbox::{Execution, Exit, Limits, Mount, Sandbox, SCRATCH};
use crate::TestEnvError;

const PLUGIN: &str = include_str!("bench_pytest_plugin.py");
/// Runs audit halves with payloads (see the script's doc).
const EXPLOIT: &str = include_str!("bench_exploit.py");
/// How long one batch of exploit jobs may take.
const EXPLOIT_WALL: Duration = Duration::from_secs(60);
const PROBE: &str = include_str!("probe.py");
/// Lists the environment's API surface; the grader's invented-API check reads it.
pub(crate) const SURFACE: &str = include_str!("surface.py");
/// Inside the sandbox: the snapshot (read-only) and the harness.
const REPO_AT: &str = "/tmp/repo";
const HARNESS_AT: &str = "/tmp/bench-harness";
const SELECT: &str = ".bench-select.json";
/// The file name of the placeholder a model's test module is put over.
const ANSWER_MODULE: &str = "test_bench_answer.py";
/// The baseline runs the whole suite; it gets at least this long.
const BASELINE_WALL: Duration = Duration::from_secs(900);

/// What the caller decides about a test environment.
#[derive(Debug, Clone)]
pub struct Spec {
    /// An interpreter whose environment has the repository's test
    /// dependencies (and pytest).
    pub python: PathBuf,
    /// The test command (`pytest ARGS` or `python -m pytest ARGS`); `None`:
    /// pytest over `default_paths`.
    pub test_cmd: Option<String>,
    /// Where baselines and outcomes are cached; `None`: no cache.
    pub cache_dir: Option<PathBuf>,
    /// Limits on each test run.
    pub limits: Limits,
    /// Parallel runs; 0: one per core.
    pub jobs: usize,
}

/// The baseline as cached: outcomes of both runs and, for tests that passed
/// in both, the functions they execute and how long they took.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Baseline {
    summary: BaselineSummary,
    /// `file:line` of a function's definition -> passing tests that execute it.
    coverage: BTreeMap<String, Vec<String>>,
    /// Each passing test's duration in the second run, in milliseconds.
    durations: BTreeMap<String, u64>,
    /// The second run's wall time outside its tests (interpreter, collection).
    startup_ms: u64,
}

/// What the harness reported for one run, its authentication checked (see
/// `bench_pytest_plugin.py`).
#[derive(Debug, Default)]
struct Report {
    outcomes: BTreeMap<String, String>,
    covered: BTreeMap<String, Vec<String>>,
    durations: BTreeMap<String, f64>,
    /// Tampering the harness blocked, and records it did not write.
    tampering: Vec<String>,
    /// What makes the report untrustworthy without being tampering.
    problems: Vec<String>,
    /// pytest's exit status as the harness saw it at the end of the session.
    finish: Option<i32>,
}

/// One line the harness writes; `seq` numbers them from 0.
#[derive(Debug, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum Record {
    Test {
        nodeid: String,
        outcome: String,
        #[serde(default)]
        duration: f64,
        #[serde(default)]
        covered: Vec<String>,
    },
    Tamper {
        line: u32,
        detail: String,
    },
    Finish {
        exitstatus: i32,
    },
}

const RECORD: &str = "BENCH-RECORD ";

impl Report {
    /// Reads every record line of `stdout`, checking each MAC against
    /// `secret` and the sequence numbers.
    fn read(stdout: &[u8], secret: &[u8]) -> Self {
        let mut r = Report::default();
        let mut next = 0u64;
        for line in String::from_utf8_lossy(stdout).lines() {
            let Some(rest) = line.strip_prefix(RECORD) else { continue };
            let Some((mac, body)) = rest.split_once(' ') else {
                r.tampering.push("a malformed result record".into());
                continue;
            };
            if !mac_ok(secret, body.as_bytes(), mac) {
                let said = "a result record the harness did not write (forged)";
                if !r.tampering.iter().any(|t| t == said) {
                    r.tampering.push(said.into());
                }
                continue;
            }
            let Ok(value) = serde_json::from_str::<serde_json::Value>(body) else {
                r.problems.push("an unreadable result record".into());
                continue;
            };
            let seq = value.get("seq").and_then(serde_json::Value::as_u64).unwrap_or(u64::MAX);
            if seq < next {
                // A forked copy of the session writes the same numbers again.
                let said = "result records written twice (a replay, or a forked copy of the test process)";
                if !r.tampering.iter().any(|t| t == said) {
                    r.tampering.push(said.into());
                }
                continue;
            }
            if seq > next {
                r.problems.push(format!("result records {next}..{seq} missing"));
            }
            next = seq + 1;
            match serde_json::from_value::<Record>(value) {
                Ok(Record::Test { nodeid, outcome, duration, covered }) => {
                    if r.outcomes.insert(nodeid.clone(), outcome).is_some() {
                        r.problems.push(format!("{nodeid} reported twice"));
                    }
                    r.durations.insert(nodeid.clone(), duration);
                    r.covered.insert(nodeid, covered);
                }
                Ok(Record::Tamper { line, detail }) => {
                    // One line per distinct attempt: a loop repeats it.
                    let said = if line == 0 { detail } else { format!("line {line}: {detail}") };
                    if !r.tampering.contains(&said) {
                        r.tampering.push(said);
                    }
                }
                Ok(Record::Finish { exitstatus }) => r.finish = Some(exitstatus),
                Err(e) => r.problems.push(format!("an unreadable result record ({e})")),
            }
        }
        r
    }

    /// Why the report cannot be believed for a run that ended with `exit`:
    /// no end of session, an exit status that is not what pytest said, an
    /// exit status that contradicts the outcomes, or a broken sequence.
    fn inconsistency(&self, exit: Exit, selected: Option<&[String]>) -> Option<String> {
        let Some(status) = self.finish else {
            return Some(format!("the test session never finished ({exit:?})"));
        };
        if exit != Exit::Code(status) {
            return Some(format!("pytest reported exit status {status} but the process ended with {exit:?}"));
        }
        if let Some(p) = self.problems.first() {
            return Some(p.clone());
        }
        let all_passed = self.outcomes.values().all(|o| o == "passed");
        if let Some(tests) = selected {
            if all_passed && status != 0 && tests.iter().all(|t| self.outcomes.contains_key(t)) {
                return Some(format!("every chosen test reported passed, but pytest exited with {status}"));
            }
        }
        None
    }
}

fn mac_ok(secret: &[u8], body: &[u8], hex: &str) -> bool {
    use hmac::{KeyInit as _, Mac as _};
    let Ok(mut mac) = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret) else { return false };
    mac.update(body);
    let bytes: Option<Vec<u8>> =
        (0..hex.len() / 2).map(|i| u8::from_str_radix(hex.get(2 * i..2 * i + 2)?, 16).ok()).collect();
    bytes.is_some_and(|b| hex.len() == 64 && mac.verify_slice(&b).is_ok())
}

/// 64 random hexadecimal characters: the key of one run's records.
fn secret() -> Result<Vec<u8>, TestEnvError> {
    let mut raw = [0u8; 32];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut raw))
        .map_err(TestEnvError::io("/dev/urandom", "cannot read"))?;
    Ok(raw.iter().map(|b| format!("{b:02x}")).collect::<String>().into_bytes())
}

/// A prepared test environment for one snapshot; implements [`TestOracle`].
#[derive(Debug)]
pub struct TestEnv {
    sandbox: Sandbox,
    work: tempfile::TempDir,
    python: PathBuf,
    pytest_args: Vec<String>,
    /// Whether `pytest_args` are paths only, so a selection may replace them.
    paths_only: bool,
    pythonpath: String,
    environment: TestEnvironment,
    baseline: Baseline,
    surface: ApiSurface,
    snapshot_id: String,
    files: BTreeMap<String, String>,
    /// Where a model's test module goes, when the suite has a test directory.
    answer_module: Option<String>,
    cache: Option<PathBuf>,
    jobs: usize,
    next_job: AtomicUsize,
    /// Outcomes already run in this process, by job key (the on-disk cache
    /// is optional; the same answer graded twice is not run twice).
    memo: std::sync::Mutex<BTreeMap<String, TestOutcome>>,
}

impl TestEnv {
    /// Materialises `files` (snapshot-relative path, text), describes the
    /// interpreter, and runs (or loads from the cache) the baseline.
    pub fn prepare(
        spec: &Spec,
        snapshot_id: &str,
        files: &[(&str, &str)],
        default_paths: &[String],
    ) -> Result<Self, TestEnvError> {
        let mut sandbox = Sandbox::new(spec.limits.clone())?;
        let (shown_cmd, pytest_args) = pytest_command(spec.test_cmd.as_deref(), default_paths)?;
        let paths_only = !pytest_args.iter().any(|a| a.starts_with('-'));
        // The sandbox starts elsewhere: a relative path would not resolve there.
        let python = std::path::absolute(&spec.python).map_err(TestEnvError::io(&spec.python, "cannot resolve"))?;
        let probe = probe(&python, &own_packages(files, default_paths))?;
        if let Some((name, distribution)) = probe.installed.iter().next() {
            return Err(TestEnvError::ProjectInstalled {
                python: python.clone(),
                name: name.clone(),
                distribution: distribution.clone(),
            });
        }
        sandbox.show(probe.paths.iter().map(PathBuf::from));

        let work = tempfile::Builder::new()
            .prefix("bench-testenv-")
            .tempdir()
            .map_err(TestEnvError::io(std::env::temp_dir(), "cannot create a temporary directory in"))?;
        let repo = work.path().join("repo");
        for (path, text) in files {
            let dest = repo.join(path);
            if let Some(parent) = dest.parent() {
                std::fs::create_dir_all(parent).map_err(TestEnvError::io(parent, "cannot create"))?;
            }
            std::fs::write(&dest, text).map_err(TestEnvError::io(&dest, "cannot write"))?;
        }
        // An empty module in the first test directory, for a model's test
        // module to be mounted over (a mount point must exist; the baseline
        // collects nothing from it).
        let answer_module = default_paths.first().map(|d| format!("{d}/{ANSWER_MODULE}"));
        if let Some(m) = answer_module.as_ref().filter(|m| !files.iter().any(|(p, _)| p == m)) {
            let dest = repo.join(m);
            if let Some(parent) = dest.parent() {
                std::fs::create_dir_all(parent).map_err(TestEnvError::io(parent, "cannot create"))?;
            }
            std::fs::write(&dest, "").map_err(TestEnvError::io(&dest, "cannot write"))?;
        }
        let harness = work.path().join("harness");
        std::fs::create_dir_all(&harness).map_err(TestEnvError::io(&harness, "cannot create"))?;
        let plugin = harness.join("bench_pytest_plugin.py");
        std::fs::write(&plugin, PLUGIN).map_err(TestEnvError::io(&plugin, "cannot write"))?;
        let exploit = harness.join("bench_exploit.py");
        std::fs::write(&exploit, EXPLOIT).map_err(TestEnvError::io(&exploit, "cannot write"))?;
        let surface_script = harness.join("bench_surface.py");
        std::fs::write(&surface_script, SURFACE).map_err(TestEnvError::io(&surface_script, "cannot write"))?;
        // The sandboxed user reads everything here; only scratch directories are writable.
        open_up(work.path())?;

        let src_layout = files.iter().any(|(p, _)| p.starts_with("src/") && p.ends_with("/__init__.py"));
        let pythonpath = if src_layout {
            format!("{HARNESS_AT}:{REPO_AT}:{REPO_AT}/src")
        } else {
            format!("{HARNESS_AT}:{REPO_AT}")
        };
        let environment = {
            let harness = bench_core::Hasher::new().field(PLUGIN).field(SURFACE).field(EXPLOIT).hex();
            let fingerprint = bench_core::content_id(&bench_core::canonical_json(&(
                &probe.version,
                &probe.packages,
                &shown_cmd,
                &harness,
                spec.limits.describe(),
            )));
            // The budget rule is part of the limits; the durations it reads are not.
            TestEnvironment {
                fingerprint,
                python: probe.version,
                packages: probe.packages,
                test_cmd: shown_cmd,
                harness,
                budget: bench_core::RunBudget {
                    ceiling_ms: spec.limits.wall.as_millis() as u64,
                    ..bench_core::RunBudget::default()
                },
            }
        };
        let jobs = match spec.jobs {
            0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
            n => n,
        };
        let mut env = TestEnv {
            sandbox,
            work,
            python,
            pytest_args,
            paths_only,
            pythonpath,
            environment,
            baseline: Baseline {
                summary: BaselineSummary::default(),
                coverage: BTreeMap::new(),
                durations: BTreeMap::new(),
                startup_ms: 0,
            },
            surface: ApiSurface::default(),
            snapshot_id: snapshot_id.to_string(),
            files: files.iter().map(|(p, t)| (p.to_string(), t.to_string())).collect(),
            answer_module,
            cache: spec.cache_dir.clone(),
            jobs,
            next_job: AtomicUsize::new(0),
            memo: std::sync::Mutex::new(BTreeMap::new()),
        };
        env.baseline = env.load_or_run_baseline()?;
        env.surface = env.load_or_describe_surface()?;
        Ok(env)
    }

    fn cache_path(&self, kind: &str, key: &str) -> Option<PathBuf> {
        self.cache.as_ref().map(|c| c.join(kind).join(format!("{key}.json")))
    }

    fn load_or_run_baseline(&self) -> Result<Baseline, TestEnvError> {
        let key = bench_core::Hasher::new().field(&self.snapshot_id).field(&self.environment.fingerprint).hex();
        let path = self.cache_path("baselines", &key);
        if let Some(p) = path.as_ref().filter(|p| p.is_file()) {
            let text = std::fs::read_to_string(p).map_err(TestEnvError::io(p, "cannot read"))?;
            return serde_json::from_str(&text).map_err(|source| TestEnvError::Cache { path: p.clone(), source });
        }
        let baseline = self.run_baseline()?;
        if let Some(p) = path {
            write_cache(&p, &baseline);
        }
        Ok(baseline)
    }

    /// A fresh directory for one sandboxed run, and its scratch directory,
    /// which the sandboxed user may write.
    fn job_dir(&self) -> Result<(PathBuf, PathBuf), TestEnvError> {
        let n = self.next_job.fetch_add(1, Ordering::Relaxed);
        let dir = self.work.path().join("jobs").join(n.to_string());
        let scratch = dir.join("scratch");
        std::fs::create_dir_all(&scratch).map_err(TestEnvError::io(&scratch, "cannot create"))?;
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755))
            .map_err(TestEnvError::io(&dir, "cannot set permissions on"))?;
        std::fs::set_permissions(&scratch, std::fs::Permissions::from_mode(0o1777))
            .map_err(TestEnvError::io(&scratch, "cannot set permissions on"))?;
        Ok((dir, scratch))
    }

    /// The API surface, described once per environment fingerprint (which
    /// covers the interpreter, its packages and the describing script).
    fn load_or_describe_surface(&self) -> Result<ApiSurface, TestEnvError> {
        let path = self.cache_path("surfaces", &self.environment.fingerprint);
        if let Some(p) = path.as_ref().filter(|p| p.is_file()) {
            let text = std::fs::read_to_string(p).map_err(TestEnvError::io(p, "cannot read"))?;
            return serde_json::from_str(&text).map_err(|source| TestEnvError::Cache { path: p.clone(), source });
        }
        let fail = |what: String| TestEnvError::Surface { python: self.python.clone(), what, source: None };
        let (dir, scratch) = self.job_dir()?;
        let mounts = [Mount { host: self.work.path().join("harness"), at: HARNESS_AT.into(), writable: false }];
        // Isolated (-I): the installed packages, not the repository under test.
        let argv = [
            self.python.display().to_string(),
            "-I".into(),
            format!("{HARNESS_AT}/bench_surface.py"),
            "--out".into(),
            format!("{SCRATCH}/surface.json"),
        ];
        let env = scrubbed_env();
        let mut sandbox = self.sandbox.clone();
        sandbox.limits.wall = sandbox.limits.wall.max(BASELINE_WALL);
        let exec = sandbox.run(&argv, &env, &scratch, &mounts, SCRATCH, &dir.join("logs"), &[])?;
        if exec.exit != Exit::Code(0) {
            return Err(fail(format!("{:?}: {}", exec.exit, last_lines(&exec))));
        }
        let out = scratch.join("surface.json");
        let text = std::fs::read_to_string(&out).map_err(TestEnvError::io(&out, "cannot read"))?;
        let described: Described = serde_json::from_str(&text).map_err(|e| TestEnvError::Surface {
            python: self.python.clone(),
            what: "unreadable description".into(),
            source: Some(e),
        })?;
        let mut surface = described.surface;
        for (name, path) in described.sources {
            if let Some(m) = std::fs::read_to_string(&path).ok().and_then(|text| parsed_module(&path, &text)) {
                surface.failed.remove(&name);
                surface.modules.insert(name, m);
            }
        }
        if let Some(p) = path {
            write_cache(&p, &surface);
        }
        Ok(surface)
    }

    fn run_baseline(&self) -> Result<Baseline, TestEnvError> {
        let fail = |what: String| TestEnvError::Baseline { snapshot: self.snapshot_id.clone(), what, source: None };
        let mut limits = self.sandbox.limits.clone();
        limits.wall = limits.wall.max(BASELINE_WALL);
        let mut runs = Vec::new();
        for cover in [true, false] {
            let (exec, report) = self.execute(None, None, cover, &limits).map_err(|e| TestEnvError::Baseline {
                snapshot: self.snapshot_id.clone(),
                what: "cannot run the tests".into(),
                source: Some(Box::new(e)),
            })?;
            if let Some(why) = report.inconsistency(exec.exit, None) {
                return Err(fail(format!(
                    "the test command reported no complete session ({}; {}): {}",
                    exec.abnormal(&limits).unwrap_or_else(|| format!("{:?}", exec.exit)),
                    why,
                    last_lines(&exec)
                )));
            }
            runs.push((exec, report));
        }
        let ((_, first), (second_exec, second)) = (&runs[0], &runs[1]);
        let all: BTreeSet<&String> = first.outcomes.keys().chain(second.outcomes.keys()).collect();
        let mut summary = BaselineSummary { tests: all.len(), ..Default::default() };
        let mut passing = BTreeSet::new();
        for id in all {
            let (a, b) = (first.outcomes.get(id), second.outcomes.get(id));
            if a != b {
                summary.flaky.push(id.clone());
                continue;
            }
            match a.map(String::as_str) {
                Some("passed") => {
                    summary.passed += 1;
                    passing.insert(id.clone());
                }
                Some("skipped") => summary.skipped += 1,
                _ => summary.failed += 1,
            }
        }
        if passing.is_empty() {
            return Err(fail(format!(
                "no test passed ({} collected, {} failed); check --python and --test-cmd",
                summary.tests, summary.failed
            )));
        }
        let mut coverage: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for (test, funcs) in first.covered.iter().filter(|(t, _)| passing.contains(*t)) {
            for f in funcs {
                coverage.entry(f.clone()).or_default().push(test.clone());
            }
        }
        let ms = |s: f64| (s * 1000.0).ceil() as u64;
        let durations: BTreeMap<String, u64> =
            second.durations.iter().filter(|(t, _)| passing.contains(*t)).map(|(t, d)| (t.clone(), ms(*d))).collect();
        let in_tests: f64 = second.durations.values().sum();
        let startup_ms = ms((second_exec.wall.as_secs_f64() - in_tests).max(0.0));
        Ok(Baseline { summary, coverage, durations, startup_ms })
    }

    /// The limits of one run of `tests`: the environment's, with the wall
    /// clock and CPU time cut to the budget their baseline durations give.
    fn limits_for(&self, tests: &[String]) -> Limits {
        let tests_ms: u64 = tests.iter().filter_map(|t| self.baseline.durations.get(t)).sum();
        let budget = self.environment.budget.limit_ms(self.baseline.startup_ms, tests_ms);
        let mut limits = self.sandbox.limits.clone();
        limits.wall = limits.wall.min(Duration::from_millis(budget));
        limits.cpu_seconds = limits.cpu_seconds.min(budget.div_ceil(1000));
        limits
    }

    /// One sandboxed pytest run: `replace` swaps one file (`answer` names
    /// the lines of it that a model wrote), `select` narrows the tests,
    /// `cover` records which functions each test executes.
    fn execute(
        &self,
        replace: Option<(&str, &str, &[[u32; 2]])>,
        select: Option<&[String]>,
        cover: bool,
        limits: &Limits,
    ) -> Result<(Execution, Report), TestEnvError> {
        let replaced: Vec<(&str, &str)> = replace.iter().map(|(f, t, _)| (*f, *t)).collect();
        let answer = replace.map(|(f, _, lines)| (f, lines));
        self.execute_with(&replaced, answer, select, cover, false, limits)
    }

    /// [`TestEnv::execute`] with any number of files replaced; `first_failure`
    /// stops the session at the first failing test.
    #[allow(clippy::too_many_arguments)] // each is one independent part of the run
    fn execute_with(
        &self,
        replaced: &[(&str, &str)],
        answer: Option<(&str, &[[u32; 2]])>,
        select: Option<&[String]>,
        cover: bool,
        first_failure: bool,
        limits: &Limits,
    ) -> Result<(Execution, Report), TestEnvError> {
        let (dir, scratch) = self.job_dir()?;
        let mut mounts = vec![
            Mount { host: self.work.path().join("repo"), at: REPO_AT.into(), writable: false },
            Mount { host: self.work.path().join("harness"), at: HARNESS_AT.into(), writable: false },
        ];
        let mut env = scrubbed_env();
        for (i, (file, text)) in replaced.iter().enumerate() {
            let host = dir.join(format!("replacement-{i}.py"));
            std::fs::write(&host, text).map_err(TestEnvError::io(&host, "cannot write"))?;
            mounts.push(Mount { host, at: format!("{REPO_AT}/{file}"), writable: false });
        }
        if let Some((file, answer)) = answer.filter(|(_, lines)| !lines.is_empty()) {
            let ranges: Vec<String> = answer.iter().map(|[a, b]| format!("{a}-{b}")).collect();
            env.push(("BENCH_ANSWER".into(), format!("{REPO_AT}/{file}:{}", ranges.join(","))));
        }
        let mut argv: Vec<String> = vec![self.python.display().to_string(), "-m".into(), "pytest".into()];
        // Outcomes come from the harness: no tracebacks to format, no summary.
        argv.extend(
            ["-p", "bench_pytest_plugin", "-p", "no:cacheprovider", "-q", "--no-header", "--tb=no", "-rN"]
                .map(String::from),
        );
        env.extend([("PYTHONPATH".into(), self.pythonpath.clone()), ("BENCH_ROOT".into(), REPO_AT.into())]);
        match select {
            Some(tests) => {
                let path = scratch.join(SELECT);
                let json = serde_json::to_vec(tests).expect("strings serialise");
                std::fs::write(&path, json).map_err(TestEnvError::io(&path, "cannot write"))?;
                env.push(("BENCH_SELECT".into(), format!("{SCRATCH}/{SELECT}")));
                if self.paths_only {
                    // Collect only the files the chosen tests live in.
                    let files: BTreeSet<&str> = tests.iter().map(|t| t.split("::").next().unwrap_or(t)).collect();
                    argv.extend(files.into_iter().map(String::from));
                } else {
                    argv.extend(self.pytest_args.iter().cloned());
                }
            }
            None => argv.extend(self.pytest_args.iter().cloned()),
        }
        if cover {
            env.push(("BENCH_COVER".into(), "1".into()));
        }
        if first_failure {
            argv.push("--maxfail=1".into());
        }
        let mut sandbox = self.sandbox.clone();
        sandbox.limits = limits.clone();
        let secret = secret()?;
        let logs = dir.join("logs");
        let exec = sandbox.run(&argv, &env, &scratch, &mounts, REPO_AT, &logs, &secret)?;
        let stdout = std::fs::read(logs.join("stdout")).unwrap_or_default();
        let report = Report::read(&stdout, &secret);
        let _ = std::fs::remove_dir_all(&dir);
        Ok((exec, report))
    }

    fn run_job(&self, job: &TestJob) -> TestOutcome {
        let spans: Vec<String> = job.answer_lines.iter().map(|[a, b]| format!("{a}-{b}")).collect();
        let key = bench_core::Hasher::new()
            .field(&self.environment.fingerprint)
            .field(&self.snapshot_id)
            .field(&job.file)
            .field(&job.text)
            .field(job.tests.join("\n"))
            .field(spans.join(","))
            .field(job.added.as_deref().unwrap_or_default())
            .hex();
        if let Some(o) = self.memo.lock().ok().and_then(|m| m.get(&key).cloned()) {
            return o;
        }
        let cached = self.cache_path("outcomes", &key);
        if let Some(o) =
            cached.as_ref().and_then(|p| std::fs::read(p).ok()).and_then(|b| serde_json::from_slice(&b).ok())
        {
            return o;
        }
        let limits = self.limits_for(&job.tests);
        let all_failed = |aborted: String, tampering: Vec<String>| TestOutcome {
            failed: job.tests.clone(),
            aborted: Some(aborted),
            tampering,
        };
        let mut replaced: Vec<(&str, &str)> = vec![(&job.file, &job.text)];
        let mut answer = (job.file.as_str(), job.answer_lines.clone());
        if let (Some(text), Some(module)) = (&job.added, &self.answer_module) {
            replaced.push((module, text));
            // Every line of a model's test module is its own.
            answer = (module.as_str(), vec![[1, text.lines().count().max(1) as u32]]);
        }
        let run = self.execute_with(&replaced, Some((answer.0, &answer.1)), Some(&job.tests), false, false, &limits);
        // A test module named whole: its tests, each as collected.
        let chosen: Vec<String> = match &run {
            Ok((_, report)) => job
                .tests
                .iter()
                .flat_map(|t| {
                    if t.ends_with(".py") {
                        let prefix = format!("{t}::");
                        report.outcomes.keys().filter(|k| k.starts_with(&prefix)).cloned().collect::<Vec<_>>()
                    } else {
                        vec![t.clone()]
                    }
                })
                .collect(),
            Err(_) => job.tests.clone(),
        };
        let outcome = match run {
            Err(e) => return all_failed(bench_core::error_chain(&e), Vec::new()),
            Ok((_, report)) if !report.tampering.is_empty() => {
                let why = format!("tampering: {}", report.tampering.join("; "));
                all_failed(why, report.tampering)
            }
            // pytest never exits 0 before its session ends: something exited for it.
            Ok((exec, report)) if report.finish.is_none() && exec.exit == Exit::Code(0) => {
                let found =
                    vec!["the test process exited with status 0 before pytest finished (an early exit)".to_string()];
                all_failed(format!("tampering: {}", found[0]), found)
            }
            Ok((exec, report)) => match exec.abnormal(&limits) {
                Some(why) => all_failed(why, Vec::new()),
                None => match report.inconsistency(exec.exit, Some(&job.tests)) {
                    Some(why) => all_failed(
                        format!("the harness's report does not hold ({why}): {}", last_lines(&exec)),
                        Vec::new(),
                    ),
                    None if chosen.is_empty() => all_failed("no test was collected".into(), Vec::new()),
                    None => TestOutcome {
                        failed: chosen
                            .iter()
                            .filter(|t| report.outcomes.get(*t).map(String::as_str) != Some("passed"))
                            .cloned()
                            .collect(),
                        aborted: None,
                        tampering: Vec::new(),
                    },
                },
            },
        };
        if let Some(p) = cached {
            write_cache(&p, &outcome);
        }
        if let Ok(mut m) = self.memo.lock() {
            m.insert(key, outcome.clone());
        }
        outcome
    }
}

impl TestEnv {
    /// One sandboxed process runs every job (the repository's modules
    /// imported once); outcomes are cached like test outcomes.
    fn run_exploits(&self, jobs: &[ExploitJob]) -> Result<Vec<ExploitOutcome>, TestEnvError> {
        let json = serde_json::to_string(jobs).expect("plain data serialises");
        let key = bench_core::Hasher::new()
            .field(&self.environment.fingerprint)
            .field(&self.snapshot_id)
            .field("exploit")
            .field(&json)
            .hex();
        let cached = self.cache_path("exploits", &key);
        if let Some(o) =
            cached.as_ref().and_then(|p| std::fs::read(p).ok()).and_then(|b| serde_json::from_slice(&b).ok())
        {
            return Ok(o);
        }
        let (dir, scratch) = self.job_dir()?;
        let input = scratch.join("exploit-jobs.json");
        std::fs::write(&input, &json).map_err(TestEnvError::io(&input, "cannot write"))?;
        let mounts = [
            Mount { host: self.work.path().join("repo"), at: REPO_AT.into(), writable: false },
            Mount { host: self.work.path().join("harness"), at: HARNESS_AT.into(), writable: false },
        ];
        let argv = [
            self.python.display().to_string(),
            format!("{HARNESS_AT}/bench_exploit.py"),
            format!("{SCRATCH}/exploit-jobs.json"),
            format!("{SCRATCH}/exploit-out.json"),
        ];
        let mut env = scrubbed_env();
        env.push(("PYTHONPATH".into(), self.pythonpath.clone()));
        let mut sandbox = self.sandbox.clone();
        sandbox.limits.wall = sandbox.limits.wall.min(EXPLOIT_WALL);
        let exec = sandbox.run(&argv, &env, &scratch, &mounts, REPO_AT, &dir.join("logs"), &[])?;
        let out = std::fs::read(scratch.join("exploit-out.json"));
        let _ = std::fs::remove_dir_all(&dir);
        let out: Vec<ExploitOutcome> = out
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .filter(|o: &Vec<ExploitOutcome>| o.len() == jobs.len())
            .ok_or_else(|| TestEnvError::Harness {
                what: format!(
                    "{}: {}",
                    exec.abnormal(&sandbox.limits).unwrap_or_else(|| format!("{:?}", exec.exit)),
                    last_lines(&exec)
                ),
            })?;
        if let Some(p) = cached {
            write_cache(&p, &out);
        }
        Ok(out)
    }
}

impl TestOracle for TestEnv {
    fn environment(&self) -> &TestEnvironment {
        &self.environment
    }

    fn api_surface(&self) -> Option<&ApiSurface> {
        Some(&self.surface)
    }

    fn baseline(&self) -> &BaselineSummary {
        &self.baseline.summary
    }

    fn file(&self, path: &str) -> Option<&str> {
        self.files.get(path).map(String::as_str)
    }

    fn covering(&self, file: &str, line: u32) -> Vec<String> {
        self.baseline.coverage.get(&format!("{file}:{line}")).cloned().unwrap_or_default()
    }

    fn answer_module(&self) -> Option<&str> {
        self.answer_module.as_deref()
    }

    fn suite(&self, replaced: &[(String, String)]) -> Option<BTreeSet<String>> {
        // The pristine suite's passing tests are the baseline's.
        if replaced.is_empty() {
            return Some(self.baseline.durations.keys().cloned().collect());
        }
        let mut limits = self.sandbox.limits.clone();
        limits.wall = limits.wall.max(BASELINE_WALL);
        let files: Vec<(&str, &str)> = replaced.iter().map(|(p, t)| (p.as_str(), t.as_str())).collect();
        let (exec, report) = self.execute_with(&files, None, None, false, false, &limits).ok()?;
        report
            .inconsistency(exec.exit, None)
            .is_none()
            .then(|| report.outcomes.into_iter().filter(|(_, o)| o == "passed").map(|(t, _)| t).collect())
    }

    fn passes_all(&self, replaced: &[(String, String)], tests: &[String]) -> bool {
        let mut limits = self.sandbox.limits.clone();
        limits.wall = limits.wall.max(BASELINE_WALL);
        let files: Vec<(&str, &str)> = replaced.iter().map(|(p, t)| (p.as_str(), t.as_str())).collect();
        let Ok((exec, report)) = self.execute_with(&files, None, Some(tests), false, true, &limits) else {
            return false;
        };
        // Every chosen test collected, run and passed: a renamed test that
        // was not collected is a failure, not a pass.
        report.finish == Some(0)
            && exec.exit == Exit::Code(0)
            && tests.iter().all(|t| report.outcomes.get(t).is_some_and(|o| o == "passed"))
    }

    fn exploit(&self, jobs: &[ExploitJob]) -> Vec<ExploitOutcome> {
        if jobs.is_empty() {
            return Vec::new();
        }
        match self.run_exploits(jobs) {
            Ok(out) => out,
            Err(e) => {
                let e = bench_core::error_chain(&e);
                jobs.iter().map(|_| ExploitOutcome { error: Some(e.clone()), tries: Vec::new() }).collect()
            }
        }
    }

    fn run(&self, jobs: &[TestJob]) -> Vec<TestOutcome> {
        let next = AtomicUsize::new(0);
        let mut done: Vec<(usize, TestOutcome)> = std::thread::scope(|s| {
            let workers: Vec<_> = (0..self.jobs.min(jobs.len()))
                .map(|_| {
                    s.spawn(|| {
                        let mut mine = Vec::new();
                        loop {
                            let i = next.fetch_add(1, Ordering::Relaxed);
                            let Some(job) = jobs.get(i) else { break };
                            mine.push((i, self.run_job(job)));
                        }
                        mine
                    })
                })
                .collect();
            workers.into_iter().flat_map(|w| w.join().expect("a test job does not panic")).collect()
        });
        done.sort_by_key(|(i, _)| *i);
        done.into_iter().map(|(_, o)| o).collect()
    }
}

/// The interpreter's own account of itself.
#[derive(Debug, Deserialize)]
struct Probe {
    version: String,
    packages: Vec<String>,
    paths: Vec<String>,
    /// The project's own packages the environment can import, each with the
    /// distribution that provides it.
    #[serde(default)]
    installed: BTreeMap<String, String>,
}

/// The snapshot's own top-level packages (a directory with `__init__.py` at
/// the top or under `src/`), less its test directories.
fn own_packages(files: &[(&str, &str)], test_paths: &[String]) -> Vec<String> {
    let mut names = BTreeSet::new();
    for (path, _) in files {
        let parts: Vec<&str> = path.split('/').collect();
        let name = match parts.as_slice() {
            ["src", dir, "__init__.py"] | [dir, "__init__.py"] => *dir,
            _ => continue,
        };
        let is_tests = test_paths.iter().any(|t| t == name || t.trim_start_matches("src/") == name);
        if !is_tests && !name.starts_with("test") && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            names.insert(name.to_string());
        }
    }
    names.into_iter().collect()
}

/// Runs the probe with the interpreter in isolated mode. The interpreter is
/// the user's own and the script is ours: nothing from the repository or a
/// model runs here.
fn probe(python: &Path, own: &[String]) -> Result<Probe, TestEnvError> {
    let bad = |what: String| TestEnvError::Interpreter { python: python.to_path_buf(), what, source: None };
    let cause = |what: &str, e: BoxError| TestEnvError::Interpreter {
        python: python.to_path_buf(),
        what: what.into(),
        source: Some(e),
    };
    let out = std::process::Command::new(python)
        .args(["-I", "-c", PROBE])
        .args(own)
        .env_clear()
        .env("PATH", "/usr/local/bin:/usr/bin:/bin")
        .output()
        .map_err(|e| cause("cannot run it", e.into()))?;
    if !out.status.success() {
        return Err(bad(String::from_utf8_lossy(&out.stderr).lines().last().unwrap_or("failed").to_string()));
    }
    let probe: Probe = serde_json::from_slice(&out.stdout).map_err(|e| cause("its probe's output", e.into()))?;
    if !probe.packages.iter().any(|p| p.to_lowercase().starts_with("pytest==")) {
        return Err(bad("pytest is not installed in its environment".into()));
    }
    Ok(probe)
}

/// `(the command as recorded, the arguments pytest gets)`.
fn pytest_command(
    test_cmd: Option<&str>,
    default_paths: &[String],
) -> Result<(Vec<String>, Vec<String>), TestEnvError> {
    let Some(cmd) = test_cmd else {
        if default_paths.is_empty() {
            return Err(TestEnvError::TestCommand {
                cmd: "pytest".into(),
                reason: "the snapshot has no test directory the rules recognise; give a test command".into(),
            });
        }
        let mut shown = vec!["pytest".to_string()];
        shown.extend(default_paths.iter().cloned());
        return Ok((shown, default_paths.to_vec()));
    };
    let bad = |reason: &str| TestEnvError::TestCommand { cmd: cmd.to_string(), reason: reason.to_string() };
    let words = shlex::split(cmd).ok_or_else(|| bad("unbalanced quotes"))?;
    let rest = match words.iter().map(String::as_str).collect::<Vec<_>>().as_slice() {
        ["pytest" | "py.test", ..] => &words[1..],
        [py, "-m", "pytest", ..] if py.rsplit('/').next().is_some_and(|n| n.starts_with("python")) => &words[3..],
        _ => return Err(bad("it must run pytest (`pytest ARGS` or `python -m pytest ARGS`)")),
    };
    let mut shown = vec!["pytest".to_string()];
    shown.extend(rest.iter().cloned());
    Ok((shown, rest.to_vec()))
}

fn last_lines(exec: &Execution) -> String {
    let text = if exec.stderr.trim().is_empty() { &exec.stdout } else { &exec.stderr };
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    lines[lines.len().saturating_sub(3)..].join(" | ")
}

/// Directories 0755 and files 0644 below `root`, so the sandboxed user reads them.
fn open_up(root: &Path) -> Result<(), TestEnvError> {
    let mode = if root.is_dir() { 0o755 } else { 0o644 };
    std::fs::set_permissions(root, std::fs::Permissions::from_mode(mode))
        .map_err(TestEnvError::io(root, "cannot set permissions on"))?;
    if root.is_dir() {
        for entry in std::fs::read_dir(root).map_err(TestEnvError::io(root, "cannot read"))? {
            let entry = entry.map_err(TestEnvError::io(root, "cannot read"))?;
            open_up(&entry.path())?;
        }
    }
    Ok(())
}

/// Best effort: a cache that cannot be written only costs time.
/// What `surface.py` prints: the surface, and the sources of pure-Python
/// modules that could not be imported.
#[derive(Deserialize)]
struct Described {
    #[serde(flatten)]
    surface: ApiSurface,
    #[serde(default)]
    sources: BTreeMap<String, PathBuf>,
}

/// A pure-Python module's surface from its source (py-ast-meta): its
/// functions with their keyword parameters, classes, assignments and every
/// name an import binds. A module that can add names at run time (a module
/// `__getattr__`, `import *`, `globals()`) is marked dynamic.
fn parsed_module(path: &Path, text: &str) -> Option<ModuleSurface> {
    let facts = py_ast_meta::facts::analyze(&path.display().to_string(), text).ok()?;
    let meta = &facts.meta;
    let member = |kind| Member { kind, target: None, attributes: None, params: None };
    let mut members = BTreeMap::new();
    for f in &meta.functions {
        let names = f
            .params
            .iter()
            .filter(|p| matches!(p.kind, py_ast_meta::ParamKind::Normal | py_ast_meta::ParamKind::KeywordOnly))
            .map(|p| p.name.clone())
            .collect();
        let var_keyword = f.params.iter().any(|p| p.kind == py_ast_meta::ParamKind::VarKeywords);
        let params = Some(Params { names, var_keyword, forward_via: Vec::new() });
        members.insert(f.name.clone(), Member { params, ..member(MemberKind::Function) });
    }
    for c in &meta.classes {
        members.insert(c.name.clone(), member(MemberKind::Class));
    }
    for name in &meta.assignments {
        members.entry(name.clone()).or_insert_with(|| member(MemberKind::Value));
    }
    for i in &facts.all_imports {
        let bound = match (&i.alias, &i.name) {
            (Some(a), _) => a.clone(),
            (None, Some(n)) => n.clone(),
            (None, None) => i.module.split('.').next().unwrap_or_default().to_string(),
        };
        members.entry(bound).or_insert_with(|| member(MemberKind::Value));
    }
    let dynamic = meta.truncated
        || members.contains_key("__getattr__")
        || facts.all_imports.iter().any(|i| i.name.as_deref() == Some("*"))
        || text.contains("globals()");
    Some(ModuleSurface { members, submodules: Default::default(), dynamic })
}

/// The whole environment a sandboxed interpreter gets: nothing of ours.
fn scrubbed_env() -> Vec<(String, String)> {
    [
        ("PATH", "/usr/local/bin:/usr/bin:/bin"),
        ("HOME", SCRATCH),
        ("TMPDIR", SCRATCH),
        ("LANG", "C.UTF-8"),
        ("PYTHONHASHSEED", "0"),
        ("PYTHONDONTWRITEBYTECODE", "1"),
    ]
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .to_vec()
}

fn write_cache<T: Serialize>(path: &Path, value: &T) {
    if let Some(parent) = path.parent() {
        let _ = std::fs::create_dir_all(parent);
    }
    let tmp = path.with_extension("tmp");
    if std::fs::write(&tmp, serde_json::to_vec(value).expect("plain data serialises")).is_ok() {
        let _ = std::fs::rename(&tmp, path);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_commands() {
        let (shown, args) = pytest_command(None, &["cerberus/tests".into()]).unwrap();
        assert_eq!(shown, ["pytest", "cerberus/tests"]);
        assert_eq!(args, ["cerberus/tests"]);
        let (_, args) = pytest_command(Some("python3 -m pytest tests -k 'not slow'"), &[]).unwrap();
        assert_eq!(args, ["tests", "-k", "not slow"]);
        assert!(pytest_command(Some("make test"), &[]).unwrap_err().to_string().contains("make test"));
        assert!(pytest_command(None, &[]).is_err());
    }
}
