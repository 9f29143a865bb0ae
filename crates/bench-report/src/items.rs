//! Item analysis over scoring units (an audit pair or a mutant with its
//! control is one item), across the valid runs of one task set: each
//! unit's difficulty (share of runs passing it) and discrimination (the
//! point-biserial correlation of passing it with the run's score on the
//! other units), units every run passes or fails flagged, and whether the
//! tiers are ordered (T1 passed at least as often as T2, and so on).

use std::collections::BTreeMap;

use bench_core::{Category, Tier};
use serde::Serialize;

/// One scoring unit across runs.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Item {
    /// The task set.
    pub task_set_id: String,
    /// The unit's tasks (a pair's halves, or one task).
    pub tasks: Vec<String>,
    /// Its category.
    pub category: Category,
    /// Its tier.
    pub tier: Tier,
    /// Runs that graded it.
    pub runs: usize,
    /// Share of runs passing it (1.0: every run).
    pub difficulty: f64,
    /// Point-biserial correlation with the score on the other units;
    /// `None` when every run agrees on it or the scores do not vary.
    pub discrimination: Option<f64>,
    /// `every run passes` or `every run fails`: it tells these runs nothing.
    pub flag: Option<String>,
}

/// Pass rates per tier across the runs of one task set.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TierOrder {
    /// The task set.
    pub task_set_id: String,
    /// Per tier with units: units passed over unit-runs graded.
    pub rates: Vec<TierRate>,
    /// Whether each tier's rate is at most the one before it.
    pub ordered: bool,
}

/// One tier's rate across runs.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TierRate {
    /// The tier.
    pub tier: Tier,
    /// Unit-runs passed.
    pub passed: usize,
    /// Unit-runs graded.
    pub n: usize,
    /// `passed / n`.
    pub rate: f64,
}

impl TierOrder {
    /// The finding, when the tiers are not ordered.
    pub fn finding(&self) -> Option<String> {
        if self.ordered {
            return None;
        }
        let inversions: Vec<String> = self
            .rates
            .windows(2)
            .filter(|w| w[1].rate > w[0].rate)
            .map(|w| {
                format!("{} ({:.0}%) above {} ({:.0}%)", w[1].tier, w[1].rate * 100.0, w[0].tier, w[0].rate * 100.0)
            })
            .collect();
        Some(format!(
            "task set {}: the tiers are not ordered by difficulty across these runs: {}",
            &self.task_set_id[..16.min(self.task_set_id.len())],
            inversions.join(", ")
        ))
    }
}

/// How many least-discriminating items a report lists.
pub const LEAST: usize = 5;

/// Items and tier order of one task set from each run's unit verdicts
/// (unit key -> passed); `units` gives each unit's key, tasks, category and tier.
pub fn analyse(
    task_set_id: &str,
    units: &[task_synth::Unit],
    runs: &[&BTreeMap<String, bool>],
) -> (Vec<Item>, TierOrder) {
    // Each run's score on every unit it graded.
    let totals: Vec<usize> = runs.iter().map(|r| r.values().filter(|p| **p).count()).collect();
    let mut items = Vec::new();
    let mut tiers: BTreeMap<Tier, (usize, usize)> = BTreeMap::new();
    for u in units {
        let key = &u.tasks[0];
        // (passed, score on the other units) per run that graded the unit.
        let xs: Vec<(bool, f64)> = runs
            .iter()
            .zip(&totals)
            .filter_map(|(r, total)| r.get(key).map(|p| (*p, (*total - usize::from(*p)) as f64)))
            .collect();
        // An item needs two runs to say anything about them.
        if xs.len() < 2 {
            continue;
        }
        let passed = xs.iter().filter(|(p, _)| *p).count();
        let t = tiers.entry(u.tier).or_default();
        t.0 += passed;
        t.1 += xs.len();
        let difficulty = passed as f64 / xs.len() as f64;
        let flag = match passed {
            0 => Some("every run fails".to_string()),
            p if p == xs.len() => Some("every run passes".to_string()),
            _ => None,
        };
        items.push(Item {
            task_set_id: task_set_id.to_string(),
            tasks: u.tasks.clone(),
            category: u.category,
            tier: u.tier,
            runs: xs.len(),
            difficulty,
            discrimination: point_biserial(&xs),
            flag,
        });
    }
    let rates: Vec<TierRate> = tiers
        .into_iter()
        .map(|(tier, (passed, n))| TierRate { tier, passed, n, rate: passed as f64 / n as f64 })
        .collect();
    let ordered = rates.windows(2).all(|w| w[1].rate <= w[0].rate);
    (items, TierOrder { task_set_id: task_set_id.to_string(), rates, ordered })
}

/// `(M1 - M0) / s * sqrt(p q)` over (passed, other score) pairs.
fn point_biserial(xs: &[(bool, f64)]) -> Option<f64> {
    let n = xs.len() as f64;
    let p = xs.iter().filter(|(x, _)| *x).count() as f64 / n;
    if p == 0.0 || p == 1.0 {
        return None;
    }
    let mean = xs.iter().map(|(_, y)| y).sum::<f64>() / n;
    let sd = (xs.iter().map(|(_, y)| (y - mean).powi(2)).sum::<f64>() / n).sqrt();
    if sd == 0.0 {
        return None;
    }
    let m = |want: bool| {
        let ys: Vec<f64> = xs.iter().filter(|(x, _)| *x == want).map(|(_, y)| *y).collect();
        ys.iter().sum::<f64>() / ys.len() as f64
    };
    Some((m(true) - m(false)) / sd * (p * (1.0 - p)).sqrt())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unit(id: &str, tier: Tier) -> task_synth::Unit {
        task_synth::Unit { category: Category::CodeGeneration, tier, tasks: vec![id.into()] }
    }

    #[test]
    fn flags_ordering_and_discrimination() {
        let units = [unit("a", Tier::T1), unit("b", Tier::T2), unit("c", Tier::T3)];
        let run = |a: bool, b: bool, c: bool| -> BTreeMap<String, bool> {
            [("a", a), ("b", b), ("c", c)].into_iter().map(|(k, v)| (k.to_string(), v)).collect()
        };
        let (r1, r2, r3) = (run(true, true, false), run(true, false, false), run(true, true, true));
        let (items, order) = analyse("set", &units, &[&r1, &r2, &r3]);
        assert_eq!(items[0].flag.as_deref(), Some("every run passes"));
        assert_eq!(items[0].discrimination, None);
        assert!((items[1].difficulty - 2.0 / 3.0).abs() < 1e-12);
        // b passes in the runs that do best on the rest: it discriminates.
        assert!(items[1].discrimination.unwrap() > 0.0);
        assert!(order.ordered && order.finding().is_none(), "{order:?}");
        let (_, order) = analyse("set", &units, &[&run(false, true, true), &run(true, false, true)]);
        assert!(!order.ordered);
        let f = order.finding().unwrap();
        assert!(f.contains("T3 (100%) above T2 (50%)"), "{f}");
    }
}
