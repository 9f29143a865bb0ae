//! Synthesis: every generator's candidates, chosen stratified and
//! deterministically, each admitted by the repository's tests when a test
//! environment is given.

use std::collections::{BTreeMap, BTreeSet};

use bench_core::{
    canonical_json, content_id, Category, Evidence, ExecutionRecord, ExecutionStats, ExploitJob, ExploitOutcome, Task,
    TaskSet, TestJob, TestOracle,
};
use py_ast_meta::{Extraction, SourceFile};

use crate::draft::{Check, Draft, Pending};
use crate::rules::per_tier;
use crate::Rules;
use context::Context;
use select::{admit_all, select};

mod audit;
mod codegen;
mod context;
pub mod novelty;
mod project;
mod reproduction;
mod select;
mod understanding;

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
    // Writing a test needs the suite to run it in: without one, the other
    // categories share the whole count, as they did before the category.
    let answer_module = oracle.and_then(|o| o.answer_module());
    let mut quota = if answer_module.is_some() {
        rules.category_quota(count)
    } else {
        let mut without = rules.clone();
        without.quota.categories.remove(Category::BugReproduction.as_str());
        without.category_quota(count)
    };
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
        let (cands, per_unit) = match category {
            Category::CodeGeneration => (codegen::candidates(&cx), 1),
            Category::CodeUnderstanding => (understanding::candidates(&cx), 2),
            Category::SecurityAudit => (audit::candidates(&cx), 2),
            Category::BugReproduction => {
                let Some(module) = answer_module else { continue };
                (reproduction::candidates(&cx, module), 1)
            }
        };
        let chosen = select(measured(cands, category, rules), per_tier(n / per_unit), &mut verify);
        drafts.extend(chosen.into_iter().flat_map(|c| c.item).map(|p| p.draft));
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
        novelty: None,
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
    /// Outcome per exploit job (as JSON, its identity).
    exploits: BTreeMap<String, ExploitOutcome>,
    /// Pairs whose vulnerable half was exploited, and whose twin withstood.
    exploited: BTreeSet<String>,
    withstood: BTreeSet<String>,
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
        Self {
            oracle,
            seen: BTreeMap::new(),
            exploits: BTreeMap::new(),
            exploited: BTreeSet::new(),
            withstood: BTreeSet::new(),
            stats: ExecutionStats::default(),
        }
    }

    fn verify(&mut self, items: &mut [&mut Pending]) -> Vec<bool> {
        // Audit halves: every job not run before, in one sandboxed batch.
        let mut exploit_jobs: Vec<ExploitJob> = Vec::new();
        for p in items.iter() {
            if let Check::Exploited(job) | Check::Withstands(job) = &p.check {
                let key = bench_core::canonical_json(job);
                let key = String::from_utf8_lossy(&key).into_owned();
                if !self.exploits.contains_key(&key) && !exploit_jobs.contains(job) {
                    exploit_jobs.push(job.clone());
                }
            }
        }
        for (job, outcome) in exploit_jobs.iter().zip(self.oracle.exploit(&exploit_jobs)) {
            let key = String::from_utf8_lossy(&bench_core::canonical_json(job)).into_owned();
            self.exploits.insert(key, outcome);
        }
        // Every replacement not judged before, once, all in one parallel batch.
        let mut jobs: Vec<(bool, TestJob)> = Vec::new();
        for p in items.iter() {
            let (mutant, file, text, def_line) = match &p.check {
                Check::Killed { file, text, def_line } => (true, file, text, *def_line),
                Check::StubFails { file, text, def_line } => (false, file, text, *def_line),
                Check::Covered { .. } | Check::Exploited(_) | Check::Withstands(_) => continue,
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
            jobs.push((mutant, TestJob::new(file.clone(), text.clone(), tests)));
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
        let mut audit = Vec::new();
        for p in items.iter_mut() {
            let pair = match &p.draft.expected {
                bench_core::Expected::SecurityAudit { pair, .. } => pair.clone(),
                _ => continue,
            };
            let (job, vulnerable) = match &p.check {
                Check::Exploited(job) => (job, true),
                Check::Withstands(job) => (job, false),
                _ => continue,
            };
            let key = String::from_utf8_lossy(&bench_core::canonical_json(job)).into_owned();
            let Some(outcome) = self.exploits.get(&key) else { continue };
            let effect = outcome.exploited().map(|(p, e)| (p.to_string(), e.to_string()));
            let ran = outcome.error.is_none();
            let s = &mut self.stats;
            let ok = match (vulnerable, effect) {
                (true, Some((payload, effect))) => {
                    s.audit_tested += 1;
                    p.draft.evidence = Evidence::Exploited { payload, effect };
                    self.exploited.insert(pair.clone());
                    true
                }
                (true, None) => {
                    s.audit_tested += 1;
                    s.audit_not_exploitable += 1;
                    false
                }
                (false, Some(_)) => {
                    s.audit_twin_exploitable += 1;
                    false
                }
                (false, None) if ran => {
                    p.draft.evidence = Evidence::Withstood { payloads: job.payloads.clone() };
                    self.withstood.insert(pair.clone());
                    true
                }
                (false, None) => false,
            };
            audit.push(ok);
        }
        self.stats.audit_confirmed = self.exploited.intersection(&self.withstood).count();
        let mut audit = audit.into_iter();
        items
            .iter_mut()
            .map(|p| {
                if matches!(p.check, Check::Exploited(_) | Check::Withstands(_)) {
                    return audit.next().unwrap_or(false);
                }
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
                    Check::Exploited(_) | Check::Withstands(_) => None,
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

/// Moves each candidate to its measured tier (the rules' `measured_tiers`)
/// before selection, so quotas spread over the tiers readers meet; the rule
/// that placed it stays in its text.
fn measured(
    mut cands: Vec<select::Candidate<Vec<Pending>>>,
    category: Category,
    rules: &Rules,
) -> Vec<select::Candidate<Vec<Pending>>> {
    for c in &mut cands {
        let tier = rules.measured_tier(category, c.tier);
        if tier == c.tier {
            continue;
        }
        for p in &mut c.item {
            let placed = format!("{}: ", c.tier);
            let rule = p.draft.tier_rule.strip_prefix(&placed).unwrap_or(&p.draft.tier_rule);
            p.draft.tier_rule = format!("{tier} (measured; placed at {placed}{rule})");
            p.draft.tier = tier;
        }
        c.tier = tier;
    }
    cands
}

#[cfg(test)]
mod tests {
    use super::*;
    use bench_core::{Expected, Prompt, Tier};

    fn ledger_env() -> Option<py_testenv::TestEnv> {
        let python = test_support::tools::tool("BENCH_TEST_PYTHON")?;
        let files = test_support::tools::fixture_files("tinyledger");
        let refs: Vec<(&str, &str)> = files.iter().map(|(p, t)| (p.as_str(), t.as_str())).collect();
        let spec = py_testenv::Spec {
            python,
            test_cmd: None,
            cache_dir: None,
            limits: py_testenv::Limits::default(),
            jobs: 2,
        };
        Some(py_testenv::TestEnv::prepare(&spec, "tinyledger-fixture", &refs, &["tests".into()]).expect("prepares"))
    }

    /// An audit pair over `format_amount(cents, currency)`: the currency
    /// reaches `os.system`, quoted in the clean half. With `guard`, an
    /// `int()` of it comes first, so no payload can reach the sink: the
    /// template would call the first half vulnerable, and it is not.
    fn pair(id: &str, guard: bool) -> Vec<Pending> {
        let source = |safe: bool| {
            format!(
                "def format_amount(cents, currency=None):\n    import os\n    import shlex\n    text = str(currency)\n{}    value = {}\n    status = os.system(f\"wc -c {{value}}\")\n    return text\n",
                if guard { "    int(text)\n" } else { "" },
                if safe { "shlex.quote(text)" } else { "text" }
            )
        };
        let half = |vulnerable: bool| Pending {
            draft: Draft {
                category: Category::SecurityAudit,
                tier: Tier::T2,
                tier_rule: "test".into(),
                file: "ledger/money.py".into(),
                symbol: "format_amount".into(),
                span: [20, 27],
                prompt: Prompt { system: String::new(), user: source(!vulnerable) },
                expected: Expected::SecurityAudit {
                    vulnerable,
                    cwe: "CWE-78".into(),
                    line: 7,
                    lines: vec![7],
                    pair: id.into(),
                    template: "shell/test".into(),
                },
                evidence: Evidence::Structural,
            },
            check: {
                let job = ExploitJob {
                    file: "ledger/money.py".into(),
                    module: "ledger.money".into(),
                    class: None,
                    name: "format_amount".into(),
                    source: source(!vulnerable),
                    param: "currency".into(),
                    kind: "shell".into(),
                    payloads: vec!["x; touch bench-pwned".into(), "$(touch bench-pwned)".into()],
                    columns: Vec::new(),
                    root: None,
                };
                if vulnerable {
                    Check::Exploited(job)
                } else {
                    Check::Withstands(job)
                }
            },
        };
        vec![half(true), half(false)]
    }

    /// A deliberately mislabelled pair (a guard that makes the "vulnerable"
    /// half unexploitable) is discarded and counted; a true pair is admitted
    /// with the exploit and the payloads its twin withstood as evidence.
    #[test]
    fn a_mislabelled_audit_pair_is_discarded() {
        let Some(env) = ledger_env() else { return };
        let mut v = Verifier::new(&env);
        let (mut bad, mut good) = (pair("bad", true), pair("good", false));
        let verdicts = {
            let (b, g) = (bad.iter_mut(), good.iter_mut());
            let mut items: Vec<&mut Pending> = b.chain(g).collect();
            v.verify(&mut items)
        };
        assert_eq!(verdicts, [false, true, true, true], "{:?}", v.stats);
        assert_eq!((v.stats.audit_not_exploitable, v.stats.audit_confirmed), (1, 1), "{:?}", v.stats);
        let Evidence::Exploited { payload, effect } = &good[0].draft.evidence else { panic!("{:?}", good[0].draft) };
        assert_eq!(payload, "x; touch bench-pwned");
        assert!(effect.contains("second command"), "{effect}");
        assert!(matches!(&good[1].draft.evidence, Evidence::Withstood { payloads } if payloads.len() == 2));
        assert_eq!(bad[0].draft.evidence, Evidence::Structural);
    }
}
