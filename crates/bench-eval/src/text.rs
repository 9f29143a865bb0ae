//! The one-line and table summaries a terminal shows.

use std::fmt::Write as _;

use bench_core::{Category, ExecutionStats, TaskSet, TestOracle, Tier};
use ollama_runner::plan::Plan;
use py_ast_meta::Extraction;
use py_testenv::TestEnv;
use repo_scan::Snapshot;
use result_store::PassRate;
use task_synth::Calibration;

use crate::matrix::Cell;
use crate::Derived;
use crate::StoredRun;

/// How the baseline settled ground truth.
pub fn baseline(env: &TestEnv) -> String {
    let b = env.baseline();
    format!(
        "ground truth: execution ({}; {} tests, {} pass in both baseline runs, {} failed, {} skipped, {} flaky dropped)",
        env.environment().test_cmd.join(" "),
        b.tests,
        b.passed,
        b.failed,
        b.skipped,
        b.flaky.len()
    )
}

/// One line each: how ground truth was settled, how the repository was
/// transformed, what execution did.
pub fn derivation(d: &Derived) -> Vec<String> {
    let mut notes = vec![match &d.env {
        Some(env) => baseline(env),
        None => "ground truth: structural only (no interpreter): generation is graded on structure, and mutants are \
                 not checked against the repository's tests"
            .to_string(),
    }];
    if let Some(n) = &d.set.novelty {
        notes.push(format!(
            "novelty: rename: {} of the package's {} defined names renamed ({} kept by rule, {} kept because renaming them \
             changed the baseline: {}); {:.0}% of the package's names in the prompts appear renamed",
            n.renamed,
            n.defined,
            n.kept_by_rule,
            n.kept_by_execution.len(),
            if n.kept_by_execution.is_empty() { "none".to_string() } else { n.kept_by_execution.join(", ") },
            n.prompt_share * 100.0
        ));
    }
    if let Some(x) = &d.set.execution {
        notes.push(execution(&x.stats));
    }
    notes
}

/// What execution did to the candidates.
pub fn execution(s: &ExecutionStats) -> String {
    format!(
        "execution: {} candidate mutants run, {} killed, {} survived (discarded as equivalent), {} inconclusive, {} uncovered; \
         {} generation targets run with a stub body, {} discarded because the stub passed, {} uncovered; \
         {} audit pairs run with payloads, {} confirmed (exploited, twin withstood), {} discarded because the vulnerable half \
         could not be exploited, {} because the clean twin could",
        s.mutants_tested,
        s.mutants_killed,
        s.mutants_survived,
        s.mutants_inconclusive,
        s.mutants_uncovered,
        s.generation_tested,
        s.generation_stub_passed,
        s.generation_uncovered,
        s.audit_tested,
        s.audit_confirmed,
        s.audit_not_exploitable,
        s.audit_twin_exploitable
    )
}

/// How a task set's ground truth was settled, its identity and its strata.
pub fn task_set(set: &TaskSet) -> String {
    let truth =
        if set.execution_verified() { "execution-verified by the repository's tests" } else { "structural only" };
    let (snap, rules) = (&set.snapshot_id, &set.rules_hash);
    format!("ground truth: {truth}\nsnapshot {snap}  rules {rules}\n{}", strata_table(set))
}

/// The category × tier count table.
pub fn strata_table(set: &TaskSet) -> String {
    let mut out = format!("{:<20}{}\n", "", Tier::ALL.map(|t| format!("{:>5}", t.to_string())).join(""));
    for c in Category::ALL {
        let counts = Tier::ALL.map(|t| {
            let n = set.tasks.iter().filter(|x| x.category == c && x.tier == t).count();
            format!("{n:>5}")
        });
        out.push_str(&format!("{:<20}{}\n", c.as_str(), counts.join("")));
    }
    out
}

/// Each answerer's headline and each stratum's floor.
pub fn calibration(c: &Calibration) -> String {
    let mut s = String::from("answerer                 headline units passed  tampering flagged\n");
    for a in &c.answerers {
        let h = &a.headline;
        let pct = if h.n == 0 { 0.0 } else { h.passed as f64 * 100.0 / h.n as f64 };
        s.push_str(&format!(
            "  {:<22} {:>3}/{:<3} ({pct:>5.1}%)  {:>3}  {}\n",
            a.name, h.passed, h.n, a.tampering, a.description
        ));
    }
    s.push_str(&format!(
        "headline floor: {:.1}% ({})\nstratum floors (best no-understanding share):\n",
        c.headline_floor * 100.0,
        c.headline_floor_by
    ));
    for f in &c.floors {
        let flag = if f.floor > task_synth::BROKEN_FLOOR { "  BROKEN" } else { "" };
        s.push_str(&format!(
            "  {:<20} {}  n={:<3} floor {:>5.1}% ({}){flag}\n",
            f.category.as_str(),
            f.tier,
            f.n,
            f.floor * 100.0,
            f.answerer
        ));
    }
    s
}

/// A snapshot's files and skipped files, one per line.
pub fn snapshot(snap: &Snapshot) -> String {
    let mut s =
        format!("snapshot {}\n{} files kept, {} skipped\n", snap.snapshot_id, snap.files.len(), snap.skipped.len());
    for f in &snap.files {
        let _ = writeln!(s, "  {:>8}  {}", f.bytes, f.path);
    }
    for f in &snap.skipped {
        let _ = writeln!(s, "  skipped   {}: {}", f.path, f.reason);
    }
    s
}

/// An extraction's modules, one per line, then its parse failures.
pub fn extraction(ex: &Extraction) -> String {
    let mut s = format!("snapshot {}\n", ex.snapshot_id);
    for m in &ex.modules {
        let sig = m.significant_method.as_ref().map_or("-", |s| s.symbol.as_str());
        let methods: usize = m.classes.iter().map(|c| c.methods.len()).sum();
        let (i, f, c) = (m.imports.len(), m.functions.len(), m.classes.len());
        let _ = writeln!(
            s,
            "  {}: {i} imports, {f} functions, {c} classes ({methods} methods), significant: {sig}",
            m.path
        );
    }
    for f in &ex.parse_failures {
        let _ = writeln!(s, "  parse failure {f}");
    }
    s
}

/// Pass rates with their 95% intervals, one stratum per line.
pub fn pass_rates(rates: &[PassRate]) -> String {
    let mut s =
        format!("{:<5} {:<24} {:<20} {:<4} {:>7}  {:>15}\n", "run", "model", "category", "tier", "pass", "95% CI");
    for p in rates {
        let (lo, hi) = (p.low * 100.0, p.high * 100.0);
        let _ = writeln!(
            s,
            "{:<5} {:<24} {:<20} {:<4} {:>3}/{:<3}  [{lo:>5.1}%, {hi:>5.1}%]",
            p.run_id, p.model, p.category, p.tier, p.passed, p.n
        );
    }
    s
}

/// What a finished invocation of a run did: resumption, warnings, egress and
/// counts, one per line.
pub fn run_summary(run: &StoredRun, tasks: usize) -> String {
    let mut s = String::new();
    if let Some(done) = run.resumed_with {
        let _ = writeln!(s, "resumed run {} ({done} of {tasks} tasks were already done)", run.id);
    }
    for w in &run.finished.manifest.warnings {
        let _ = writeln!(s, "warning: {w}");
    }
    if let Some(e) = &run.finished.manifest.egress {
        let _ = writeln!(
            s,
            "egress to {} ({}): {} requests, {} bytes sent, {} received, task set {}",
            e.provider, e.host, e.requests, e.bytes_sent, e.bytes_received, e.taskset_id
        );
    }
    let c = &run.finished.summary;
    let _ = writeln!(
        s,
        "run {}: {} completed, {} failed, {} already done",
        run.id, c.completed, c.failed, c.skipped_already_done
    );
    s
}

/// A matrix's cells, each with its plan's verdict and its `eval` line.
pub fn matrix_plans(plans: &[(Cell, Option<Plan>)]) -> String {
    let mut out = String::new();
    for (c, plan) in plans {
        let verdict = match plan {
            Some(p) => {
                let v = if p.fits { "fits" } else { "DOES NOT FIT" };
                format!("plan {} of {} bytes ({} architecture): {v}", p.total, p.request.vram_bytes, p.architecture)
            }
            None => "planned when the cell runs (the server describes the model)".into(),
        };
        let rev = c.rev.as_deref().map(|r| format!("@{r}")).unwrap_or_default();
        let line = shlex::try_join(c.args.iter().map(String::as_str)).unwrap_or_else(|_| c.args.join(" "));
        let _ = writeln!(out, "cell {}: {}{rev} x {}: {verdict}\n  bench-cli {line}", c.index, c.source, c.model);
    }
    out
}
