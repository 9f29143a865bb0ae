//! Synthesis over the fixture packages: insta snapshots and byte-identical reruns.

#![allow(clippy::unwrap_used)] // tests and benches fail loudly

mod common;

use bench_core::{Category, Tier};
use common::{check_every_task, fixture, load, synth};

#[test]
fn fixture_task_set_snapshot() {
    let set = synth(&fixture(), Some(15));
    insta::assert_json_snapshot!("tinyvalidator_tasks", set);
}

#[test]
fn two_syntheses_are_byte_identical() {
    let a = task_synth::write_task_set(&synth(&fixture(), None));
    let b = task_synth::write_task_set(&synth(&fixture(), None));
    assert_eq!(a, b);
    let set = task_synth::read_task_set(&a, "a").unwrap();
    assert!(task_synth::first_difference(&set, &synth(&fixture(), None)).is_none());
}

#[test]
fn every_fixture_task_holds_its_ground_truth() {
    let src = fixture();
    check_every_task(&src, &synth(&src, None));
}

#[test]
fn an_edited_task_set_is_refused_and_a_difference_is_named() {
    let text = task_synth::write_task_set(&synth(&fixture(), Some(6)));
    let edited = text.replacen("\"tier\": \"T1\"", "\"tier\": \"T2\"", 1);
    let e = task_synth::read_task_set(&edited, "tasks.json").unwrap_err().to_string();
    assert!(e.contains("tasks.json") && e.contains("does not match"), "{e}");
    let mut other = synth(&fixture(), Some(6));
    other.tasks[2].prompt.user.push('!');
    let diff = task_synth::first_difference(&other, &synth(&fixture(), Some(6))).unwrap();
    assert!(diff.contains("task 2") && diff.contains("prompt"), "{diff}");
}

/// The pinned Cerberus 1.3.4 sdist (downloaded by scripts/setup-tools.sh).
#[test]
fn cerberus_60_tasks_stratified_and_true_to_ground_truth() {
    let Some(dir) = test_support::tools::tool("BENCH_CERBERUS_DIR") else { return };
    let src = load(&dir);
    assert_eq!(src.files.iter().filter(|f| f.path.ends_with(".py")).count(), 21);
    let set = synth(&src, Some(60));
    assert_eq!(set.tasks.len(), 60);
    // Every tier a category's measured map reaches is filled, and no other
    // (writing a test needs the suite, so a structural set has none).
    let rules = task_synth::Rules::default();
    for c in Category::ALL.into_iter().filter(|c| *c != Category::BugReproduction) {
        let reached: std::collections::BTreeSet<Tier> =
            Tier::ALL.into_iter().map(|t| rules.measured_tier(c, t)).collect();
        let present: std::collections::BTreeSet<Tier> =
            set.tasks.iter().filter(|x| x.category == c).map(|x| x.tier).collect();
        assert_eq!(present, reached, "{c}");
    }
    assert!(set.tasks.iter().all(|t| t.category != Category::BugReproduction));
    check_every_task(&src, &set);
    // Tasks come from the library, not its tests or benchmarks.
    assert!(set.tasks.iter().all(|t| !t.file.contains("/tests/") && !t.file.contains("/benchmarks/")));
    // Most generation tasks depend on repository code.
    let gen: Vec<_> = set
        .tasks
        .iter()
        .filter_map(|t| match &t.expected {
            bench_core::Expected::CodeGeneration { standalone, .. } => Some(*standalone),
            _ => None,
        })
        .collect();
    assert!(gen.iter().filter(|s| !**s).count() * 2 > gen.len(), "{gen:?}");
}

/// Two more real projects: sensible task sets and no panics.
#[test]
fn other_real_projects_synthesise_sensibly() {
    for var in ["BENCH_EXTRA_PROJECT_1", "BENCH_EXTRA_PROJECT_2"] {
        let Some(dir) = test_support::tools::tool(var) else { continue };
        let src = load(&dir);
        let set = synth(&src, Some(60));
        assert!(set.tasks.len() >= 30, "{var}: only {} tasks", set.tasks.len());
        for c in Category::ALL.into_iter().filter(|c| *c != Category::BugReproduction) {
            assert!(set.tasks.iter().any(|t| t.category == c), "{var}: no {c} task");
        }
        check_every_task(&src, &set);
        // Without the project's tests (requests' suite needs the network),
        // generation is structural and outside the headline; the pairs are
        // not: no answerer without understanding wins more than 10% there.
        let c = task_synth::calibrate(&set, None);
        for f in c.floors.iter().filter(|f| f.category != Category::CodeGeneration) {
            assert!(
                f.floor <= task_synth::BROKEN_FLOOR,
                "{var} {} {}: {} by {}",
                f.category,
                f.tier,
                f.floor,
                f.answerer
            );
        }
    }
}

/// The shapes a reviewer checks: one understanding pair (a mutant and its
/// no-bug control of the same function, only both right count) and one
/// audit pair (a sink and its clean twin), from the ledger fixture.
#[test]
fn pair_shapes_snapshot() {
    let src = load(&test_support::tools::workspace_root().join("tests/fixtures/tinyledger"));
    let set = synth(&src, Some(12));
    let pair_of = |t: &bench_core::Task| match &t.expected {
        bench_core::Expected::CodeUnderstanding { pair, .. } => pair.clone(),
        bench_core::Expected::SecurityAudit { pair, .. } => Some(pair.clone()),
        _ => None,
    };
    let mut shown = Vec::new();
    for category in [Category::CodeUnderstanding, Category::SecurityAudit] {
        let first = set.tasks.iter().find(|t| t.category == category).unwrap();
        let pair = pair_of(first).unwrap();
        for t in set.tasks.iter().filter(|t| pair_of(t).as_ref() == Some(&pair)) {
            shown.push(serde_json::json!({
                "category": t.category, "tier": t.tier, "tier_rule": t.tier_rule, "symbol": t.symbol,
                "code": common::shown_code(t), "expected": t.expected,
            }));
        }
    }
    assert_eq!(shown.len(), 4);
    // Keys sorted: serde_json's map order depends on the features a build unifies.
    insta::assert_json_snapshot!("pair_shapes", bench_core::sorted_value(&shown));
}
