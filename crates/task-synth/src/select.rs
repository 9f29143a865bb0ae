//! Deterministic, stratified choice among candidates.

use std::collections::BTreeSet;

use bench_core::Tier;

/// Something that could become one or more tasks.
pub(crate) struct Candidate<T> {
    pub tier: Tier,
    pub file: String,
    pub symbol: String,
    pub rank: u64,
    pub item: T,
}

/// Picks `quota[t]` candidates for each tier, in rank order, spreading over
/// files and symbols first. A tier short of candidates passes its shortfall to
/// the nearest tiers that have spare ones, so the total is kept when it can be.
pub(crate) fn select<T>(mut cands: Vec<Candidate<T>>, quota: [usize; 5]) -> Vec<Candidate<T>> {
    cands.sort_by(|a, b| (a.tier, a.rank, &a.file, &a.symbol).cmp(&(b.tier, b.rank, &b.file, &b.symbol)));
    let available: Vec<usize> = (0..5).map(|t| cands.iter().filter(|c| c.tier.index() == t).count()).collect();
    let mut want = quota;
    for t in 0..5 {
        let mut short = want[t].saturating_sub(available[t]);
        want[t] -= short;
        for d in 1..5 {
            for u in [t.checked_sub(d), Some(t + d)].into_iter().flatten().filter(|u| *u < 5) {
                let spare = available[u].saturating_sub(want[u]);
                let moved = spare.min(short);
                want[u] += moved;
                short -= moved;
            }
        }
    }
    let mut used_symbols = BTreeSet::new();
    let mut chosen = Vec::new();
    let mut by_tier: Vec<Vec<Candidate<T>>> = (0..5).map(|_| Vec::new()).collect();
    for c in cands {
        by_tier[c.tier.index()].push(c);
    }
    for (t, pool) in by_tier.into_iter().enumerate() {
        let mut pool: Vec<Option<Candidate<T>>> = pool.into_iter().map(Some).collect();
        let mut files = BTreeSet::new();
        let mut taken = 0;
        // Three passes: new file and new symbol; new symbol; anything.
        for pass in 0..3 {
            for slot in pool.iter_mut() {
                if taken == want[t] {
                    break;
                }
                let Some(c) = slot.as_ref() else { continue };
                let sym = (c.file.clone(), c.symbol.clone());
                let ok = match pass {
                    0 => !files.contains(&c.file) && !used_symbols.contains(&sym),
                    1 => !used_symbols.contains(&sym),
                    _ => true,
                };
                if ok {
                    files.insert(c.file.clone());
                    used_symbols.insert(sym);
                    chosen.push(slot.take().expect("checked above"));
                    taken += 1;
                }
            }
        }
    }
    chosen
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(tier: usize, file: &str, rank: u64) -> Candidate<()> {
        Candidate { tier: Tier::from_index(tier), file: file.into(), symbol: format!("{file}{rank}"), rank, item: () }
    }

    #[test]
    fn shortfall_moves_to_neighbours_and_files_spread() {
        let cands = vec![c(0, "a", 1), c(0, "a", 2), c(0, "b", 3), c(2, "a", 4), c(4, "a", 5)];
        let out = select(cands, [2, 1, 1, 0, 1]);
        let tiers: Vec<usize> = out.iter().map(|c| c.tier.index()).collect();
        assert_eq!(tiers, [0, 0, 0, 2, 4]);
        assert_eq!(out[0].file, "a");
        assert_eq!(out[1].file, "b");
    }
}
