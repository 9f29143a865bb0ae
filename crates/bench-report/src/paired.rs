//! Whether two runs of one task set differ (decision 0023): over the scoring
//! units both graded, the difference in headline rate with Newcombe's
//! hybrid-score interval for paired proportions, an exact McNemar test on
//! the discordant units, and the smallest difference that many units could
//! detect at 80% power.

use serde::Serialize;

/// z for a two-sided 95% interval and test.
const Z_ALPHA: f64 = 1.959_963_984_540_054;
/// z for 80% power.
const Z_BETA: f64 = 0.841_621_233_572_914_3;

/// The 2x2 table of two runs over the units both graded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Table {
    /// Units both runs passed.
    pub both: u64,
    /// Units only the first passed.
    pub only_a: u64,
    /// Units only the second passed.
    pub only_b: u64,
    /// Units neither passed.
    pub neither: u64,
}

impl Table {
    /// Units in the table.
    pub fn n(&self) -> u64 {
        self.both + self.only_a + self.only_b + self.neither
    }

    /// Units the runs disagree on.
    pub fn discordant(&self) -> u64 {
        self.only_a + self.only_b
    }

    /// The first run's rate minus the second's.
    pub fn difference(&self) -> f64 {
        let n = self.n();
        if n == 0 {
            return 0.0;
        }
        (self.only_a as f64 - self.only_b as f64) / n as f64
    }
}

/// The exact (binomial) McNemar test: the two-sided p-value of seeing a
/// split of the discordant units at least this uneven if each were equally
/// likely to favour either run. 1.0 with no discordant unit.
pub fn mcnemar_exact(only_a: u64, only_b: u64) -> f64 {
    let n = only_a + only_b;
    if n == 0 {
        return 1.0;
    }
    let k = only_a.min(only_b);
    // Sum C(n, i) / 2^n for i <= k, in log space to stay finite for large n.
    let ln_half_n = -(n as f64) * std::f64::consts::LN_2;
    let mut ln_c = 0.0; // ln C(n, 0)
    let mut tail = 0.0;
    for i in 0..=k {
        if i > 0 {
            ln_c += ((n - i + 1) as f64).ln() - (i as f64).ln();
        }
        tail += (ln_c + ln_half_n).exp();
    }
    (2.0 * tail).min(1.0)
}

/// Wilson's 95% score interval for `x` of `n`.
fn wilson(x: f64, n: f64) -> (f64, f64) {
    if n == 0.0 {
        return (0.0, 1.0);
    }
    let p = x / n;
    let z2 = Z_ALPHA * Z_ALPHA;
    let centre = (p + z2 / (2.0 * n)) / (1.0 + z2 / n);
    let half = Z_ALPHA * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt() / (1.0 + z2 / n);
    ((centre - half).max(0.0), (centre + half).min(1.0))
}

/// Newcombe's hybrid-score 95% interval for the difference of two paired
/// proportions (Newcombe 1998, method 10): each run's Wilson interval,
/// combined with the correlation of the pairs.
pub fn newcombe_interval(t: &Table) -> (f64, f64) {
    let n = t.n() as f64;
    if n == 0.0 {
        return (-1.0, 1.0);
    }
    let (a, b, c, d) = (t.both as f64, t.only_a as f64, t.only_b as f64, t.neither as f64);
    let (p1, p2) = ((a + b) / n, (a + c) / n);
    let (l1, u1) = wilson(a + b, n);
    let (l2, u2) = wilson(a + c, n);
    let denom = ((a + b) * (c + d) * (a + c) * (b + d)).sqrt();
    let phi = if denom == 0.0 { 0.0 } else { (a * d - b * c) / denom };
    let theta = p1 - p2;
    let low = theta - ((p1 - l1).powi(2) - 2.0 * phi * (p1 - l1) * (u2 - p2) + (u2 - p2).powi(2)).max(0.0).sqrt();
    let high = theta + ((u1 - p1).powi(2) - 2.0 * phi * (u1 - p1) * (p2 - l2) + (p2 - l2).powi(2)).max(0.0).sqrt();
    (low.max(-1.0), high.min(1.0))
}

/// Units a paired comparison needs to detect a difference `delta` at 80%
/// power (two-sided 5%) when a share `discordant` of units split the runs
/// (Connor 1987): `(z_a sqrt(psi) + z_b sqrt(psi - delta^2))^2 / delta^2`.
pub fn units_needed(delta: f64, discordant: f64) -> f64 {
    let psi = discordant.max(delta);
    (Z_ALPHA * psi.sqrt() + Z_BETA * (psi - delta * delta).max(0.0).sqrt()).powi(2) / (delta * delta)
}

/// The smallest difference `n` units detect at 80% power when a share
/// `discordant` of them split the runs (at least the difference itself:
/// every unit that changes the rate is discordant). 1.0 when none does.
pub fn detectable_difference(n: u64, discordant: f64) -> f64 {
    if n == 0 {
        return 1.0;
    }
    let (mut lo, mut hi) = (1e-4, 1.0);
    if units_needed(hi, discordant) > n as f64 {
        return 1.0;
    }
    for _ in 0..60 {
        let mid = (lo + hi) / 2.0;
        if units_needed(mid, discordant) <= n as f64 {
            hi = mid;
        } else {
            lo = mid;
        }
    }
    hi
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_mcnemar_against_hand_computed_tables() {
        // 0 vs 5: two tails of 1/32 each.
        assert!((mcnemar_exact(0, 5) - 2.0 / 32.0).abs() < 1e-12);
        // 1 vs 9: 2 * (C(10,0) + C(10,1)) / 1024 = 22 / 1024.
        assert!((mcnemar_exact(1, 9) - 22.0 / 1024.0).abs() < 1e-12);
        assert!((mcnemar_exact(9, 1) - 22.0 / 1024.0).abs() < 1e-12);
        // 2 vs 8: 2 * (1 + 10 + 45) / 1024.
        assert!((mcnemar_exact(2, 8) - 112.0 / 1024.0).abs() < 1e-12);
        // An even split, or nothing to split, is no evidence at all.
        assert_eq!(mcnemar_exact(3, 3), 1.0);
        assert_eq!(mcnemar_exact(0, 0), 1.0);
        // Large n stays finite: 40 vs 60 of 100 (two-sided p about 0.057).
        let p = mcnemar_exact(40, 60);
        assert!((p - 0.0569).abs() < 0.001, "{p}");
    }

    #[test]
    fn newcombe_interval_of_a_worked_table() {
        // Worked by hand from Newcombe's method 10 for (a, b, c, d) = (12, 9, 2, 1):
        // p1 = 21/24 = 0.875, p2 = 14/24 = 0.5833; Wilson(21, 24) = (0.6900, 0.9566),
        // Wilson(14, 24) = (0.3883, 0.7553); phi = (12 - 18) / sqrt(21 * 3 * 14 * 10) = -0.0639;
        // interval (0.0311, 0.5078).
        let t = Table { both: 12, only_a: 9, only_b: 2, neither: 1 };
        let (low, high) = newcombe_interval(&t);
        assert!((low - 0.0311).abs() < 0.0005 && (high - 0.5078).abs() < 0.0005, "{low} {high}");
        assert!((t.difference() - 7.0 / 24.0).abs() < 1e-12);
        // No disagreement and perfect correlation: the method's interval
        // collapses to zero (a known property); the detectable difference
        // says what such a table could have shown.
        let (low, high) = newcombe_interval(&Table { both: 20, only_a: 0, only_b: 0, neither: 20 });
        assert!(low.abs() < 1e-12 && high.abs() < 1e-12, "{low} {high}");
        // One discordant unit: an interval around it.
        let (low, high) = newcombe_interval(&Table { both: 20, only_a: 1, only_b: 0, neither: 19 });
        assert!(low < 0.0 && high > 0.025, "{low} {high}");
    }

    #[test]
    fn power_by_connor() {
        // 10 points apart with 20% of units discordant: about 155 units.
        let n = units_needed(0.10, 0.20);
        assert!((n - 154.6).abs() < 0.5, "{n}");
        // The fewest possible: every discordant unit favours one run.
        assert!((units_needed(0.10, 0.10) - 76.1).abs() < 0.5);
        // And back: 155 units at 20% discordance detect about 10 points.
        let d = detectable_difference(155, 0.20);
        assert!((d - 0.10).abs() < 0.002, "{d}");
        // 40 units cannot detect a 10-point difference.
        assert!(detectable_difference(40, 0.2) > 0.15);
        assert_eq!(detectable_difference(0, 0.2), 1.0);
    }
}
