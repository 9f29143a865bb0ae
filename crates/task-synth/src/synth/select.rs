//! Deterministic, stratified choice among candidates, each checked before it
//! is taken.

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

/// Checks a batch of candidates (by running tests, say) and may complete
/// them; `false` discards a candidate for good.
pub(crate) type Verify<'v, T> = dyn FnMut(&mut [&mut T]) -> Vec<bool> + 'v;

/// Picks `quota[t]` candidates for each tier, in rank order, spreading over
/// files and symbols first. A tier short of candidates passes its shortfall to
/// the nearest tiers that have spare ones, so the total is kept when it can be.
///
/// Every candidate is verified before it is taken, in batches of what is
/// still needed (at most [`BATCH`]), so that checks can run in parallel. The
/// batches depend only on the candidates and the verdicts, never on the
/// machine, so the choice stays a pure function of its inputs.
pub(crate) fn select<T>(
    mut cands: Vec<Candidate<T>>,
    quota: [usize; 5],
    verify: &mut Verify<'_, T>,
) -> Vec<Candidate<T>> {
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
    let mut pools: Vec<Vec<Option<Candidate<T>>>> = (0..5).map(|_| Vec::new()).collect();
    for c in cands {
        pools[c.tier.index()].push(Some(c));
    }
    let mut used_symbols = BTreeSet::new();
    let mut chosen = Vec::new();
    let mut short = [0usize; 5];
    for t in 0..5 {
        let got = take(&mut pools[t], want[t], &mut used_symbols, verify);
        short[t] = want[t] - got.len();
        chosen.extend(got);
    }
    // Candidates that failed verification leave a tier short: the nearest
    // tiers with verified spares make it up.
    for (t, missing) in short.iter_mut().enumerate() {
        for d in 1..5 {
            for u in [t.checked_sub(d), Some(t + d)].into_iter().flatten().filter(|u| *u < 5) {
                if *missing > 0 {
                    let got = take(&mut pools[u], *missing, &mut used_symbols, verify);
                    *missing -= got.len();
                    chosen.extend(got);
                }
            }
        }
    }
    chosen
}

/// The largest batch verified at once.
const BATCH: usize = 8;

/// Takes up to `n` verified candidates from `pool` in three passes: new file
/// and new symbol; new symbol; anything.
fn take<T>(
    pool: &mut [Option<Candidate<T>>],
    n: usize,
    used_symbols: &mut BTreeSet<(String, String)>,
    verify: &mut Verify<'_, T>,
) -> Vec<Candidate<T>> {
    let mut files = BTreeSet::new();
    let mut out = Vec::new();
    for pass in 0..3 {
        loop {
            let need = n - out.len();
            if need == 0 {
                return out;
            }
            // The next candidates this pass admits, as if each were taken.
            let (mut batch_files, mut batch_symbols) = (files.clone(), used_symbols.clone());
            let mut batch = Vec::new();
            for (i, slot) in pool.iter().enumerate() {
                if batch.len() == need.min(BATCH) {
                    break;
                }
                let Some(c) = slot else { continue };
                if admits(pass, c, &batch_files, &batch_symbols) {
                    batch_files.insert(c.file.clone());
                    batch_symbols.insert((c.file.clone(), c.symbol.clone()));
                    batch.push(i);
                }
            }
            if batch.is_empty() {
                break;
            }
            let verdicts = {
                let mut items: Vec<&mut T> = pool
                    .iter_mut()
                    .enumerate()
                    .filter(|(i, _)| batch.contains(i))
                    .filter_map(|(_, s)| s.as_mut().map(|c| &mut c.item))
                    .collect();
                verify(&mut items)
            };
            for (i, ok) in batch.into_iter().zip(verdicts) {
                if !ok {
                    pool[i] = None;
                    continue;
                }
                let fits = pool[i].as_ref().is_some_and(|c| admits(pass, c, &files, used_symbols));
                if out.len() < n && fits {
                    let c = pool[i].take().expect("checked above");
                    files.insert(c.file.clone());
                    used_symbols.insert((c.file.clone(), c.symbol.clone()));
                    out.push(c);
                }
            }
        }
    }
    out
}

fn admits<T>(pass: usize, c: &Candidate<T>, files: &BTreeSet<String>, symbols: &BTreeSet<(String, String)>) -> bool {
    let new_symbol = !symbols.contains(&(c.file.clone(), c.symbol.clone()));
    match pass {
        0 => !files.contains(&c.file) && new_symbol,
        1 => new_symbol,
        _ => true,
    }
}

/// Verification that admits everything: structural synthesis.
pub(crate) fn admit_all<T>(items: &mut [&mut T]) -> Vec<bool> {
    vec![true; items.len()]
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
        let out = select(cands, [2, 1, 1, 0, 1], &mut admit_all);
        let tiers: Vec<usize> = out.iter().map(|c| c.tier.index()).collect();
        assert_eq!(tiers, [0, 0, 0, 2, 4]);
        assert_eq!(out[0].file, "a");
        assert_eq!(out[1].file, "b");
    }

    #[test]
    fn rejected_candidates_are_replaced_deterministically() {
        let cands: Vec<Candidate<u64>> = (0..10)
            .map(|r| Candidate {
                tier: Tier::from_index((r % 2) as usize),
                file: format!("f{r}"),
                symbol: "s".into(),
                rank: r,
                item: r,
            })
            .collect();
        // Odd items fail verification; the T2 shortfall is made up from T1.
        let mut seen = Vec::new();
        let mut verify = |items: &mut [&mut u64]| {
            seen.extend(items.iter().map(|i| **i));
            items.iter().map(|i| **i % 2 == 0).collect()
        };
        let out = select(cands, [2, 2, 0, 0, 0], &mut verify);
        let items: Vec<u64> = out.iter().map(|c| c.item).collect();
        assert_eq!(items, [0, 2, 4, 6]);
        assert!(seen.contains(&1) && seen.contains(&3), "T2 candidates were tried first: {seen:?}");
    }
}
