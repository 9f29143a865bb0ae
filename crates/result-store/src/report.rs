use std::collections::BTreeMap;

use serde::Serialize;
use sqlx::Row;

use crate::{Store, StoreError};

/// A pass rate with its Wilson 95% interval.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PassRate {
    /// The run.
    pub run_id: i64,
    /// Its model.
    pub model: String,
    /// The category, or `all`.
    pub category: String,
    /// The tier, or `all`.
    pub tier: String,
    /// Graded tasks.
    pub n: u64,
    /// Of which passed.
    pub passed: u64,
    /// `passed / n`.
    pub rate: f64,
    /// Lower bound of the 95% Wilson interval.
    pub low: f64,
    /// Upper bound of the 95% Wilson interval.
    pub high: f64,
}

/// How hard one item is across runs, and how well it separates them.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ItemStat {
    /// The task.
    pub task_id: String,
    /// Its category.
    pub category: String,
    /// Its tier.
    pub tier: String,
    /// Runs that graded it.
    pub runs: u64,
    /// Share of runs that pass it.
    pub difficulty: f64,
    /// Point-biserial correlation of passing it with the run's total score;
    /// `None` with fewer than two runs or no variance.
    pub discrimination: Option<f64>,
}

/// The Wilson score interval at 95% for `passed` of `n`.
pub fn wilson(passed: u64, n: u64) -> (f64, f64) {
    if n == 0 {
        return (0.0, 1.0);
    }
    let z = 1.959_963_984_540_054_f64;
    let (n, p) = (n as f64, passed as f64 / n as f64);
    let denom = 1.0 + z * z / n;
    let center = (p + z * z / (2.0 * n)) / denom;
    let half = z * (p * (1.0 - p) / n + z * z / (4.0 * n * n)).sqrt() / denom;
    ((center - half).max(0.0), (center + half).min(1.0))
}

impl Store {
    /// Pass rate per run (model) x category x tier, and per run x category
    /// (tier `all`).
    pub async fn pass_rates(&self) -> Result<Vec<PassRate>, StoreError> {
        let rows = sqlx::query(
            "SELECT g.run_id, r.model, t.category, t.tier, CAST(COUNT(*) AS BIGINT) AS n, CAST(SUM(g.pass) AS BIGINT) AS passed
             FROM grades g JOIN runs r ON r.id = g.run_id
             JOIN tasks t ON t.task_set_id = r.task_set_id AND t.id = g.task_id
             GROUP BY g.run_id, r.model, t.category, t.tier
             UNION ALL
             SELECT g.run_id, r.model, t.category, 'all', CAST(COUNT(*) AS BIGINT), CAST(SUM(g.pass) AS BIGINT)
             FROM grades g JOIN runs r ON r.id = g.run_id
             JOIN tasks t ON t.task_set_id = r.task_set_id AND t.id = g.task_id
             GROUP BY g.run_id, r.model, t.category
             ORDER BY 1, 3, 4",
        )
        .fetch_all(self.pool())
        .await
        .map_err(|e| self.db(e))?;
        Ok(rows
            .into_iter()
            .map(|r| {
                let n = r.get::<i64, _>(4) as u64;
                let passed = r.get::<Option<i64>, _>(5).unwrap_or(0) as u64;
                let (low, high) = wilson(passed, n);
                PassRate {
                    run_id: r.get(0),
                    model: r.get(1),
                    category: r.get(2),
                    tier: r.get(3),
                    n,
                    passed,
                    rate: if n == 0 { 0.0 } else { passed as f64 / n as f64 },
                    low,
                    high,
                }
            })
            .collect())
    }

    /// Per-item difficulty and point-biserial discrimination over the runs of
    /// one task set, leaving out the runs in `excluded` (invalid ones).
    pub async fn item_stats(&self, task_set_id: &str, excluded: &[i64]) -> Result<Vec<ItemStat>, StoreError> {
        let rows = sqlx::query(
            "SELECT g.run_id, g.task_id, g.pass, t.category, t.tier FROM grades g JOIN runs r ON r.id = g.run_id
             JOIN tasks t ON t.task_set_id = r.task_set_id AND t.id = g.task_id
             WHERE r.task_set_id = $1 ORDER BY t.position, g.run_id",
        )
        .bind(task_set_id)
        .fetch_all(self.pool())
        .await
        .map_err(|e| self.db(e))?;
        let mut totals: BTreeMap<i64, f64> = BTreeMap::new();
        // (task, category, tier, [(run, passed)]), in task order.
        type Item = (String, String, String, Vec<(i64, bool)>);
        let mut items: Vec<Item> = Vec::new();
        for r in rows {
            let (run, task, pass): (i64, String, bool) = (r.get(0), r.get(1), r.get::<i64, _>(2) != 0);
            if excluded.contains(&run) {
                continue;
            }
            *totals.entry(run).or_default() += f64::from(u8::from(pass));
            match items.last_mut() {
                Some(last) if last.0 == task => last.3.push((run, pass)),
                _ => items.push((task, r.get(3), r.get(4), vec![(run, pass)])),
            }
        }
        Ok(items
            .into_iter()
            .map(|(task_id, category, tier, obs)| {
                let n = obs.len() as f64;
                let p = obs.iter().filter(|(_, x)| *x).count() as f64 / n;
                ItemStat {
                    discrimination: point_biserial(&obs, &totals),
                    task_id,
                    category,
                    tier,
                    runs: obs.len() as u64,
                    difficulty: p,
                }
            })
            .collect())
    }
}

/// r_pb = (M1 - M0) / s * sqrt(p q), over runs, with each run's total score.
fn point_biserial(obs: &[(i64, bool)], totals: &BTreeMap<i64, f64>) -> Option<f64> {
    if obs.len() < 2 {
        return None;
    }
    let scores: Vec<(f64, bool)> = obs.iter().filter_map(|(r, x)| totals.get(r).map(|t| (*t, *x))).collect();
    let n = scores.len() as f64;
    let mean = scores.iter().map(|(s, _)| s).sum::<f64>() / n;
    let sd = (scores.iter().map(|(s, _)| (s - mean).powi(2)).sum::<f64>() / n).sqrt();
    let ones: Vec<f64> = scores.iter().filter(|(_, x)| *x).map(|(s, _)| *s).collect();
    let zeros: Vec<f64> = scores.iter().filter(|(_, x)| !*x).map(|(s, _)| *s).collect();
    if sd == 0.0 || ones.is_empty() || zeros.is_empty() {
        return None;
    }
    let (m1, m0) = (ones.iter().sum::<f64>() / ones.len() as f64, zeros.iter().sum::<f64>() / zeros.len() as f64);
    let p = ones.len() as f64 / n;
    Some((m1 - m0) / sd * (p * (1.0 - p)).sqrt())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wilson_matches_reference_values() {
        // 8 of 10: the textbook interval is about (0.490, 0.943).
        let (lo, hi) = wilson(8, 10);
        assert!((lo - 0.4902).abs() < 1e-3 && (hi - 0.9433).abs() < 1e-3, "{lo} {hi}");
        let (lo, hi) = wilson(0, 20);
        assert_eq!(lo, 0.0);
        assert!((hi - 0.1611).abs() < 1e-3, "{hi}");
    }

    #[test]
    fn point_biserial_is_one_for_a_perfect_item() {
        let totals = BTreeMap::from([(1, 10.0), (2, 2.0)]);
        let r = point_biserial(&[(1, true), (2, false)], &totals).unwrap();
        assert!((r - 1.0).abs() < 1e-9);
        assert_eq!(point_biserial(&[(1, true), (2, true)], &totals), None);
    }
}
