//! The headline's scoring units. A constant answer must not collect half a
//! pair: an audit pair, and a no-bug control with the mutant of the same
//! function, count once and only when both halves are right.

use std::collections::BTreeMap;

use bench_core::{Category, Evidence, Expected, Grade, TaskSet, Tier};
use serde::{Deserialize, Serialize};

/// One scoring unit: a task, or tasks that count only together.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Unit {
    /// The unit's category.
    pub category: Category,
    /// Its tier.
    pub tier: Tier,
    /// Its tasks' ids.
    pub tasks: Vec<String>,
}

/// The headline's units, in task order. Generation and audit tasks without
/// execution evidence (tests, or an exploit and a failed one) are structural
/// diagnostics and are not units; a bug-reproduction task is one unit.
pub fn units(set: &TaskSet) -> Vec<Unit> {
    let mut out: Vec<Unit> = Vec::new();
    let mut by_pair: BTreeMap<&str, usize> = BTreeMap::new();
    for t in &set.tasks {
        let pair = match &t.expected {
            Expected::SecurityAudit { .. } if t.evidence == Evidence::Structural => continue,
            Expected::SecurityAudit { pair, .. } => Some(pair.as_str()),
            Expected::CodeUnderstanding { pair, .. } => pair.as_deref(),
            Expected::CodeGeneration { .. } if t.evidence == Evidence::Structural => continue,
            Expected::CodeGeneration { .. } => None,
            Expected::BugReproduction { .. } if t.evidence == Evidence::Structural => continue,
            Expected::BugReproduction { .. } => None,
        };
        match pair.and_then(|p| by_pair.get(p)) {
            Some(&i) => out[i].tasks.push(t.id.clone()),
            None => {
                if let Some(p) = pair {
                    by_pair.insert(p, out.len());
                }
                out.push(Unit { category: t.category, tier: t.tier, tasks: vec![t.id.clone()] });
            }
        }
    }
    out
}

/// Units passed and graded, per (category, tier) and overall.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Headline {
    /// Units passed.
    pub passed: usize,
    /// Units whose every task has a grade.
    pub n: usize,
    /// Per (category, tier).
    pub strata: Vec<Stratum>,
    /// Generation and audit tasks left out because no execution decides them.
    pub structural_diagnostics: usize,
}

/// One stratum's units.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stratum {
    /// Its category.
    pub category: Category,
    /// Its tier.
    pub tier: Tier,
    /// Units passed.
    pub passed: usize,
    /// Units graded.
    pub n: usize,
}

/// Scores `grades` by unit: a unit passes when every one of its tasks does.
pub fn headline(set: &TaskSet, grades: &[Grade]) -> Headline {
    let by_id: BTreeMap<&str, bool> = grades.iter().map(|g| (g.task_id.as_str(), g.pass)).collect();
    let mut strata: BTreeMap<(Category, Tier), (usize, usize)> = BTreeMap::new();
    let mut h = Headline::default();
    for u in units(set) {
        let verdicts: Option<Vec<bool>> = u.tasks.iter().map(|t| by_id.get(t.as_str()).copied()).collect();
        let Some(verdicts) = verdicts else { continue };
        let pass = verdicts.iter().all(|v| *v);
        let s = strata.entry((u.category, u.tier)).or_default();
        s.0 += usize::from(pass);
        s.1 += 1;
        h.passed += usize::from(pass);
        h.n += 1;
    }
    h.strata =
        strata.into_iter().map(|((category, tier), (passed, n))| Stratum { category, tier, passed, n }).collect();
    h.structural_diagnostics = set
        .tasks
        .iter()
        .filter(|t| t.category != Category::CodeUnderstanding && t.evidence == Evidence::Structural)
        .count();
    h
}
