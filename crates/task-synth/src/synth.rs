use std::collections::BTreeMap;

use bench_core::{
    canonical_json, content_id, Category, Evidence, ExecutionRecord, ExecutionStats, Expected, Prompt, Task, TaskSet,
    TestJob, TestOracle, Tier,
};
use py_ast_meta::{Extraction, SourceFile};
use serde::Serialize;

use crate::context::Context;
use crate::rules::per_tier;
use crate::select::{admit_all, select};
use crate::{audit, codegen, understanding, Rules, SynthError};

/// A task before its id is computed.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Draft {
    pub category: Category,
    pub tier: Tier,
    pub tier_rule: String,
    pub file: String,
    pub symbol: String,
    pub span: [u32; 2],
    pub prompt: Prompt,
    pub expected: Expected,
    /// Left out of a structural task's id, so ids from before execution
    /// evidence existed stay valid.
    #[serde(skip_serializing_if = "Evidence::is_structural")]
    pub evidence: Evidence,
}

impl Draft {
    fn seal(self) -> Task {
        let id = content_id(&canonical_json(&self))[..16].to_string();
        Task {
            id,
            category: self.category,
            tier: self.tier,
            tier_rule: self.tier_rule,
            file: self.file,
            symbol: self.symbol,
            span: self.span,
            prompt: self.prompt,
            expected: self.expected,
            evidence: self.evidence,
        }
    }
}

/// What the repository's tests must show before a draft becomes a task.
#[derive(Debug, Clone)]
pub(crate) enum Check {
    /// A mutant: at least one covering test that passed at baseline fails.
    Killed { file: String, text: String, def_line: u32 },
    /// A no-bug control: some passing test executes the function.
    Covered { file: String, def_line: u32 },
    /// A generation target: covered, and a `return None` body fails a covering test.
    StubFails { file: String, text: String, def_line: u32 },
}

/// A draft and the check that admits it.
#[derive(Debug, Clone)]
pub(crate) struct Pending {
    pub draft: Draft,
    pub check: Check,
}

/// Synthesises the task set: a pure function of the files, their extraction,
/// the rules and the tool version. `count` overrides the rules' total. The
/// ground truth is structural; see [`synthesize_verified`].
pub fn synthesize(files: &[SourceFile], extraction: &Extraction, rules: &Rules, count: Option<usize>) -> TaskSet {
    build(files, extraction, rules, count, None)
}

/// Synthesises the task set with ground truth settled by the repository's
/// own tests: a mutant becomes a task only when a test that passed at
/// baseline fails with it, and a generation target only when a passing test
/// executes it and a stub body fails one. The oracle's environment and what
/// verification discarded are recorded in the set.
pub fn synthesize_verified(
    files: &[SourceFile],
    extraction: &Extraction,
    rules: &Rules,
    count: Option<usize>,
    oracle: &dyn TestOracle,
) -> TaskSet {
    build(files, extraction, rules, count, Some(oracle))
}

fn build(
    files: &[SourceFile],
    extraction: &Extraction,
    rules: &Rules,
    count: Option<usize>,
    oracle: Option<&dyn TestOracle>,
) -> TaskSet {
    let cx = Context::new(files, extraction, rules);
    let mut quota = rules.category_quota(count);
    // Audit and understanding tasks come in pairs; an odd share leaves one
    // task to generation (or, failing that, to the other).
    for paired in [Category::SecurityAudit, Category::CodeUnderstanding] {
        if let Some(i) = quota.iter().position(|(c, n)| *c == paired && n % 2 == 1) {
            quota[i].1 -= 1;
            let other = quota.iter().position(|(c, n)| *c == Category::CodeGeneration && *n > 0);
            let other = other.or_else(|| quota.iter().position(|(c, n)| *c != paired && *n > 0)).unwrap_or(i);
            quota[other].1 += 1;
        }
    }
    let mut verifier = oracle.map(Verifier::new);
    // A unit is admitted when every one of its checks passes.
    let mut verify = |units: &mut [&mut Vec<Pending>]| {
        let Some(v) = verifier.as_mut() else { return admit_all(units) };
        let sizes: Vec<usize> = units.iter().map(|u| u.len()).collect();
        let mut flat: Vec<&mut Pending> = units.iter_mut().flat_map(|u| u.iter_mut()).collect();
        let mut verdicts = v.verify(&mut flat).into_iter();
        // Each unit takes exactly its own verdicts (no short-circuit).
        sizes.into_iter().map(|n| verdicts.by_ref().take(n).filter(|ok| !ok).count() == 0).collect()
    };
    let mut drafts: Vec<Draft> = Vec::new();
    for (category, n) in quota {
        match category {
            Category::CodeGeneration => {
                let chosen = select(codegen::candidates(&cx), per_tier(n), &mut verify);
                drafts.extend(chosen.into_iter().flat_map(|c| c.item).map(|p| p.draft));
            }
            Category::CodeUnderstanding => {
                let chosen = select(understanding::candidates(&cx), per_tier(n / 2), &mut verify);
                drafts.extend(chosen.into_iter().flat_map(|c| c.item).map(|p| p.draft));
            }
            Category::SecurityAudit => {
                let pairs = select(audit::candidates(&cx), per_tier(n / 2), &mut admit_all);
                drafts.extend(pairs.into_iter().flat_map(|c| c.item));
            }
        }
    }
    // Stable order: category, tier, then the order selection produced.
    drafts.sort_by_key(|d| (d.category, d.tier));
    let tasks: Vec<Task> = drafts.into_iter().map(Draft::seal).collect();
    let execution = verifier.map(|v| ExecutionRecord {
        environment: v.oracle.environment().clone(),
        baseline: v.oracle.baseline().clone(),
        stats: v.stats,
    });
    let mut set = TaskSet {
        taskset_id: String::new(),
        snapshot_id: extraction.snapshot_id.clone(),
        rules_hash: cx.rules_hash.clone(),
        tool_version: bench_core::TOOL_VERSION.to_string(),
        requested: count.unwrap_or(rules.quota.total),
        execution,
        tasks,
    };
    set.taskset_id = content_id(&canonical_json(&set));
    set
}

/// Runs each candidate's check once (decoy twins share their mutant's run)
/// and counts what it discarded.
struct Verifier<'o> {
    oracle: &'o dyn TestOracle,
    /// Verdict per (file, replaced text).
    seen: BTreeMap<(String, String), Verdict>,
    stats: ExecutionStats,
}

enum Verdict {
    /// No passing test executes the function: nothing was run.
    Uncovered,
    /// The run was cut short: no test can be named.
    Aborted,
    /// The covering tests that did not pass.
    Failed(Vec<String>),
}

impl<'o> Verifier<'o> {
    fn new(oracle: &'o dyn TestOracle) -> Self {
        Self { oracle, seen: BTreeMap::new(), stats: ExecutionStats::default() }
    }

    fn verify(&mut self, items: &mut [&mut Pending]) -> Vec<bool> {
        // Every replacement not judged before, once, all in one parallel batch.
        let mut jobs: Vec<(bool, TestJob)> = Vec::new();
        for p in items.iter() {
            let (mutant, file, text, def_line) = match &p.check {
                Check::Killed { file, text, def_line } => (true, file, text, *def_line),
                Check::StubFails { file, text, def_line } => (false, file, text, *def_line),
                Check::Covered { .. } => continue,
            };
            let key = (file.clone(), text.clone());
            if self.seen.contains_key(&key) || jobs.iter().any(|(_, j)| j.file == *file && j.text == *text) {
                continue;
            }
            let tests = self.oracle.covering(file, def_line);
            if tests.is_empty() {
                match mutant {
                    true => self.stats.mutants_uncovered += 1,
                    false => self.stats.generation_uncovered += 1,
                }
                self.seen.insert(key, Verdict::Uncovered);
                continue;
            }
            jobs.push((mutant, TestJob { file: file.clone(), text: text.clone(), tests }));
        }
        let batch: Vec<TestJob> = jobs.iter().map(|(_, j)| j.clone()).collect();
        let outcomes = if batch.is_empty() { Vec::new() } else { self.oracle.run(&batch) };
        for ((mutant, job), outcome) in jobs.into_iter().zip(outcomes) {
            let verdict = match outcome.aborted {
                Some(_) => Verdict::Aborted,
                None => Verdict::Failed(outcome.failed),
            };
            let s = &mut self.stats;
            let survived = matches!(&verdict, Verdict::Failed(f) if f.is_empty());
            if mutant {
                s.mutants_tested += 1;
                match (&verdict, survived) {
                    (Verdict::Aborted, _) => s.mutants_inconclusive += 1,
                    (_, true) => s.mutants_survived += 1,
                    _ => s.mutants_killed += 1,
                }
            } else {
                s.generation_tested += 1;
                s.generation_stub_passed += usize::from(survived);
            }
            self.seen.insert((job.file, job.text), verdict);
        }
        items
            .iter_mut()
            .map(|p| {
                let tests = match &p.check {
                    Check::Covered { file, def_line } => {
                        Some(self.oracle.covering(file, *def_line)).filter(|t| !t.is_empty())
                    }
                    Check::Killed { file, text, .. } => match self.seen.get(&(file.clone(), text.clone())) {
                        Some(Verdict::Failed(failed)) if !failed.is_empty() => Some(failed.clone()),
                        _ => None,
                    },
                    // A stub that hangs or crashes the run fails too; one that
                    // passes every covering test leaves nothing to decide.
                    Check::StubFails { file, text, def_line } => match self.seen.get(&(file.clone(), text.clone())) {
                        Some(Verdict::Aborted) => Some(self.oracle.covering(file, *def_line)),
                        Some(Verdict::Failed(failed)) if !failed.is_empty() => {
                            Some(self.oracle.covering(file, *def_line))
                        }
                        _ => None,
                    },
                };
                let ok = tests.is_some();
                if let Some(tests) = tests {
                    p.draft.evidence = Evidence::Execution { tests };
                }
                ok
            })
            .collect()
    }
}

/// The task set as written to disk: pretty, canonical JSON.
pub fn write_task_set(set: &TaskSet) -> String {
    serde_json::to_string_pretty(&bench_core::sorted_value(set)).expect("a JSON value serialises") + "\n"
}

/// Reads the task set file at `path`, checking its id against its content.
pub fn load_task_set(path: &std::path::Path) -> Result<TaskSet, SynthError> {
    let shown = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|source| SynthError::Io {
        path: shown.clone(),
        action: "read",
        source,
    })?;
    read_task_set(&text, &shown)
}

/// Writes `set` to `path` as [`write_task_set`] does, creating its directory.
pub fn save_task_set(path: &std::path::Path, set: &TaskSet) -> Result<(), SynthError> {
    let io = |action, source| SynthError::Io { path: path.display().to_string(), action, source };
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(|e| io("create its directory", e))?;
    }
    std::fs::write(path, write_task_set(set)).map_err(|e| io("write", e))
}

/// Reads a task set and checks its id against its content.
pub fn read_task_set(text: &str, origin: &str) -> Result<TaskSet, SynthError> {
    let set: TaskSet = serde_json::from_str(text)
        .map_err(|e| SynthError::TaskSet { path: origin.to_string(), reason: e.to_string() })?;
    let mut unsealed = set.clone();
    unsealed.taskset_id = String::new();
    let id = content_id(&canonical_json(&unsealed));
    if id != set.taskset_id {
        return Err(SynthError::TaskSet {
            path: origin.to_string(),
            reason: format!(
                "taskset_id {} does not match its content (expected {id}); the file was edited",
                set.taskset_id
            ),
        });
    }
    Ok(set)
}

/// The first difference between two task sets, for `verify`.
pub fn first_difference(expected: &TaskSet, actual: &TaskSet) -> Option<String> {
    for (field, a, b) in [
        ("snapshot_id", &expected.snapshot_id, &actual.snapshot_id),
        ("rules_hash", &expected.rules_hash, &actual.rules_hash),
        ("tool_version", &expected.tool_version, &actual.tool_version),
    ] {
        if a != b {
            return Some(format!("{field}: file has {a}, re-derived {b}"));
        }
    }
    for (i, (a, b)) in expected.tasks.iter().zip(&actual.tasks).enumerate() {
        if a != b {
            let (ja, jb) = (serde_json::to_value(a).ok(), serde_json::to_value(b).ok());
            let field = match (ja, jb) {
                (Some(serde_json::Value::Object(ma)), Some(serde_json::Value::Object(mb))) => {
                    ma.iter().find(|(k, v)| mb.get(*k) != Some(v)).map(|(k, _)| k.clone()).unwrap_or_default()
                }
                _ => String::new(),
            };
            return Some(format!("task {i} ({}): field `{field}` differs (re-derived id {})", a.id, b.id));
        }
    }
    if expected.tasks.len() != actual.tasks.len() {
        return Some(format!("file has {} tasks, re-derived {}", expected.tasks.len(), actual.tasks.len()));
    }
    (expected.taskset_id != actual.taskset_id)
        .then(|| format!("taskset_id: file has {}, re-derived {}", expected.taskset_id, actual.taskset_id))
}
