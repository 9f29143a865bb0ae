use std::path::PathBuf;

use bench_core::{TaskSet, TestOracle};
use py_ast_meta::{ExtractRules, Extraction, SourceFile};
use py_testenv::{Spec, TestEnv};
use repo_scan::{Limits, Snapshot, Source as _};
use task_synth::Rules;

use crate::EvalError;

/// Where a repository comes from: a directory, a git repository at a
/// revision, an archive, or `github:OWNER/REPO@REF`.
#[derive(Debug, Clone)]
pub struct Source {
    /// The directory, repository, archive or `github:` reference.
    pub path: PathBuf,
    /// A git revision to read without checking it out.
    pub rev: Option<String>,
    /// How `github:` sources are fetched; `None` refuses them.
    pub github: Option<crate::GithubSpec>,
}

impl Source {
    /// A local source.
    pub fn local(path: impl Into<PathBuf>, rev: Option<String>) -> Self {
        Self { path: path.into(), rev, github: None }
    }

    /// The source's content-addressed snapshot.
    pub fn snapshot(&self) -> Result<Snapshot, EvalError> {
        if let Some(r) = self.path.to_str().and_then(crate::GithubRef::parse) {
            let spec = self.github.as_ref().ok_or_else(|| EvalError::Github {
                repo: format!("github:{}/{}", r.owner, r.repo),
                what: "github sources are not enabled here".into(),
                source: None,
            })?;
            let fetched = crate::github::fetch(&r, spec)?;
            return Ok(repo_scan::ArchiveSource::new(fetched.tarball).snapshot(&Limits::default())?);
        }
        Ok(repo_scan::scan(&self.path, self.rev.as_deref(), &Limits::default())?)
    }
}

/// The snapshot's files as the extractor takes them.
pub fn files(snapshot: &Snapshot) -> Vec<SourceFile> {
    snapshot.files.iter().map(|f| SourceFile { path: f.path.clone(), text: f.text.clone() }).collect()
}

/// The snapshot's Python, parsed.
pub fn extraction(snapshot: &Snapshot, rules: &ExtractRules) -> Extraction {
    py_ast_meta::extract(&snapshot.snapshot_id, &files(snapshot), rules)
}

/// The snapshot's test environment: materialised, its baseline run twice (or
/// loaded from the cache).
pub fn test_env(snapshot: &Snapshot, rules: &Rules, spec: &Spec) -> Result<TestEnv, EvalError> {
    let files: Vec<(&str, &str)> = snapshot.files.iter().map(|f| (f.path.as_str(), f.text.as_str())).collect();
    let paths = rules.test_paths(snapshot.files.iter().map(|f| f.path.as_str()));
    Ok(TestEnv::prepare(spec, &snapshot.snapshot_id, &files, &paths)?)
}

/// A task set derived from a source, with the environment that settled its
/// ground truth and what a user should be told about how.
#[derive(Debug)]
pub struct Derived {
    /// The task set.
    pub set: TaskSet,
    /// The test environment, when ground truth was settled by execution.
    pub env: Option<TestEnv>,
    /// The snapshot's files by path (what the recall probe compares with).
    pub files: std::collections::BTreeMap<String, String>,
}

/// Scans, extracts and synthesises; with a test environment `spec`, ground
/// truth is settled by the repository's own tests.
pub fn derive(src: &Source, rules: &Rules, count: Option<usize>, spec: Option<&Spec>) -> Result<Derived, EvalError> {
    derive_with(src, rules, count, spec, false)
}

/// [`derive`] from the repository transformed first (`synth --novelty
/// rename`, decision 0024): the package's own names renamed consistently in
/// its source and tests, execution keeping any whose renaming changes the
/// baseline; everything after works on the transformed repository. Needs a
/// test environment.
pub fn derive_novel(src: &Source, rules: &Rules, count: Option<usize>, spec: &Spec) -> Result<Derived, EvalError> {
    derive_with(src, rules, count, Some(spec), true)
}

/// The transformed snapshot's files and the id its test environment caches under.
fn transformed(snap: &Snapshot, novelty: &bench_core::Novelty) -> (Vec<SourceFile>, String) {
    let files = task_synth::synth::novelty::replay(&files(snap), novelty);
    let renames = (&novelty.renames, &novelty.local_renames, &novelty.local_not_params, &novelty.keyword_renames);
    let id = bench_core::Hasher::new().field(&snap.snapshot_id).field(bench_core::canonical_json(&renames)).hex();
    (files, id)
}

/// A test environment over `files` (a transformed snapshot) cached under `id`.
fn env_over(files: &[SourceFile], id: &str, rules: &Rules, spec: &Spec) -> Result<TestEnv, EvalError> {
    let refs: Vec<(&str, &str)> = files.iter().map(|f| (f.path.as_str(), f.text.as_str())).collect();
    let paths = rules.test_paths(files.iter().map(|f| f.path.as_str()));
    Ok(TestEnv::prepare(spec, id, &refs, &paths)?)
}

fn derive_with(
    src: &Source,
    rules: &Rules,
    count: Option<usize>,
    spec: Option<&Spec>,
    novel: bool,
) -> Result<Derived, EvalError> {
    let snap = src.snapshot()?;
    if novel {
        let spec = spec.ok_or_else(|| EvalError::NoveltyNeedsTests { source_path: src.path.display().to_string() })?;
        let original = test_env(&snap, rules, spec)?;
        let t = task_synth::synth::novelty::transform(&files(&snap), &snap.snapshot_id, rules, &original);
        let (tfiles, id) = transformed(&snap, &t.novelty);
        let env = env_over(&tfiles, &id, rules, spec)?;
        let ex = py_ast_meta::extract(&snap.snapshot_id, &tfiles, &rules.extract);
        let set = task_synth::synthesize_verified(&tfiles, &ex, rules, count, &env);
        let set = task_synth::synth::novelty::seal(set, &t);
        let files = tfiles.into_iter().map(|f| (f.path, f.text)).collect();
        return Ok(Derived { set, env: Some(env), files });
    }
    let ex = extraction(&snap, &rules.extract);
    let env = spec.map(|s| test_env(&snap, rules, s)).transpose()?;
    let set = match &env {
        Some(env) => task_synth::synthesize_verified(&files(&snap), &ex, rules, count, env),
        None => task_synth::synthesize(&files(&snap), &ex, rules, count),
    };
    let files = snap.files.iter().map(|f| (f.path.clone(), f.text.clone())).collect();
    Ok(Derived { set, env, files })
}

/// The test environment grading `set` needs: none for a structural set; for
/// an execution-verified one, its source (checked to be the same snapshot)
/// under `spec`, with the set's recorded test command unless `spec` names
/// another. A differing environment fingerprint is returned as a warning.
pub fn grading_env(
    set: &TaskSet,
    src: Option<&Source>,
    spec: Option<&Spec>,
) -> Result<(Option<TestEnv>, Option<String>), EvalError> {
    let Some(record) = &set.execution else { return Ok((None, None)) };
    let (Some(src), Some(spec)) = (src, spec) else {
        return Err(EvalError::NeedsTests { taskset: set.taskset_id.clone() });
    };
    let snap = src.snapshot()?;
    if snap.snapshot_id != set.snapshot_id {
        return Err(EvalError::WrongSource {
            source_path: src.path.display().to_string(),
            found: snap.snapshot_id,
            expected: set.snapshot_id.clone(),
        });
    }
    let spec = recorded_command(set, spec)?;
    let env = match &set.novelty {
        Some(n) => {
            let (tfiles, id) = transformed(&snap, n);
            env_over(&tfiles, &id, &Rules::default(), &spec)?
        }
        None => test_env(&snap, &Rules::default(), &spec)?,
    };
    let warning = (env.environment().fingerprint != record.environment.fingerprint).then(|| {
        format!(
            "the test environment differs from the one the task set was verified in ({} vs {}); grading goes on",
            env.environment().fingerprint,
            record.environment.fingerprint
        )
    });
    Ok((Some(env), warning))
}

/// `spec` with `set`'s recorded test command, unless it names another.
fn recorded_command(set: &TaskSet, spec: &Spec) -> Result<Spec, EvalError> {
    let mut spec = spec.clone();
    if let (None, Some(record)) = (&spec.test_cmd, &set.execution) {
        let cmd = shlex::try_join(record.environment.test_cmd.iter().map(String::as_str))
            .map_err(|source| EvalError::TestCommand { taskset: set.taskset_id.clone(), source })?;
        spec.test_cmd = Some(cmd);
    }
    Ok(spec)
}

/// Derives `recorded` again from `src` under `rules`, for a byte-for-byte
/// comparison: the same count, and for an execution-verified set its tests
/// (under its recorded test command unless `spec` names another).
pub fn rederive(recorded: &TaskSet, src: &Source, rules: &Rules, spec: Option<&Spec>) -> Result<Derived, EvalError> {
    if recorded.execution.is_some() && spec.is_none() {
        return Err(EvalError::NeedsTests { taskset: recorded.taskset_id.clone() });
    }
    let spec = spec.map(|s| recorded_command(recorded, s)).transpose()?;
    derive_with(src, rules, Some(recorded.requested), spec.as_ref(), recorded.novelty.is_some())
}
