//! The one-line and table summaries a terminal shows.

use bench_core::{Category, ExecutionStats, TaskSet, TestOracle, Tier};
use py_testenv::TestEnv;
use task_synth::Calibration;

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

/// What execution did to the candidates.
pub fn execution(s: &ExecutionStats) -> String {
    format!(
        "execution: {} candidate mutants run, {} killed, {} survived (discarded as equivalent), {} inconclusive, {} uncovered; \
         {} generation targets run with a stub body, {} discarded because the stub passed, {} uncovered",
        s.mutants_tested,
        s.mutants_killed,
        s.mutants_survived,
        s.mutants_inconclusive,
        s.mutants_uncovered,
        s.generation_tested,
        s.generation_stub_passed,
        s.generation_uncovered
    )
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
    let mut s = String::from("answerer                 headline units passed\n");
    for a in &c.answerers {
        let h = &a.headline;
        let pct = if h.n == 0 { 0.0 } else { h.passed as f64 * 100.0 / h.n as f64 };
        s.push_str(&format!("  {:<22} {:>3}/{:<3} ({pct:.1}%)  {}\n", a.name, h.passed, h.n, a.description));
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
