#![allow(clippy::unwrap_used)] // tests fail loudly

//! Execution-verified ground truth on the tinyledger fixture (written for
//! this project) and on the real projects the setup downloads: the
//! repository's own tests decide, inside the sandbox.

mod common;

use bench_core::{Category, Completion, Evidence, Expected, TaskSet, TestOracle};
use common::{load, original, Source};
use py_testenv::{Limits, Spec, TestEnv};
use task_synth::{calibrate, grade_completions, headline, synthesize_verified, Rules, BROKEN_FLOOR};

fn oracle(src: &Source) -> Option<TestEnv> {
    let python = test_support::tools::tool("BENCH_TEST_PYTHON")?;
    let files: Vec<(&str, &str)> = src.files.iter().map(|f| (f.path.as_str(), f.text.as_str())).collect();
    let paths = Rules::default().test_paths(src.files.iter().map(|f| f.path.as_str()));
    let spec = Spec { python, test_cmd: None, cache_dir: None, limits: Limits::default(), jobs: 0 };
    Some(TestEnv::prepare(&spec, &src.snapshot_id, &files, &paths).unwrap())
}

fn synth(src: &Source, env: &TestEnv, count: usize) -> TaskSet {
    let rules = Rules::default();
    let ex = py_ast_meta::extract(&src.snapshot_id, &src.files, &rules.extract);
    synthesize_verified(&src.files, &ex, &rules, Some(count), env)
}

fn completion(task_id: &str, text: String) -> Completion {
    Completion::answer(task_id, text)
}

/// The original function for generation tasks, the true line or null for
/// understanding, the true verdict for audits.
fn correct_answers(src: &Source, set: &TaskSet) -> Vec<Completion> {
    set.tasks
        .iter()
        .map(|t| {
            let text = match &t.expected {
                Expected::CodeGeneration { .. } => format!("```python\n{}\n```", original(&src.files, t).join("\n")),
                Expected::CodeUnderstanding { line, operator, .. } => {
                    serde_json::json!({"line": line, "kind": operator}).to_string()
                }
                Expected::SecurityAudit { vulnerable, cwe, line, .. } => {
                    serde_json::json!({"vulnerable": vulnerable, "cwe": cwe, "line": line}).to_string()
                }
            };
            completion(&t.id, text)
        })
        .collect()
}

/// A body that does nothing, with the right signature, for every generation task.
fn stubs(set: &TaskSet, body: &str) -> Vec<Completion> {
    set.tasks
        .iter()
        .filter_map(|t| match &t.expected {
            Expected::CodeGeneration { signature, .. } => {
                Some(completion(&t.id, format!("```python\n{signature}\n    {body}\n```")))
            }
            _ => None,
        })
        .collect()
}

/// What the issue asks of any execution-verified set.
fn check_execution_set(src: &Source, env: &TestEnv, set: &TaskSet) {
    let record = set.execution.as_ref().expect("an execution record");
    assert_eq!(record.environment, *env.environment());
    for t in &set.tasks {
        match (t.category, &t.expected, &t.evidence) {
            (
                Category::CodeUnderstanding,
                Expected::CodeUnderstanding { line: Some(_), .. },
                Evidence::Execution { tests },
            ) => {
                assert!(!tests.is_empty(), "{}: a mutant without a killing test", t.id)
            }
            (Category::CodeUnderstanding | Category::CodeGeneration, _, Evidence::Execution { tests }) => {
                assert!(!tests.is_empty(), "{}: no deciding test", t.id)
            }
            // Every audit label is proven: the vulnerable half exploited,
            // its clean twin withstanding the same payloads.
            (Category::SecurityAudit, Expected::SecurityAudit { vulnerable: true, .. }, Evidence::Exploited { .. }) => {
            }
            (
                Category::SecurityAudit,
                Expected::SecurityAudit { vulnerable: false, .. },
                Evidence::Withstood { payloads },
            ) => {
                assert!(!payloads.is_empty(), "{}: a clean twin with no payload tried", t.id)
            }
            (c, _, e) => panic!("{}: {c} task with evidence {e:?}", t.id),
        }
    }
    let grades = grade_completions(set, &correct_answers(src, set), Some(env));
    for g in &grades {
        let t = set.task(&g.task_id).unwrap();
        assert!(g.pass, "the correct answer to {} ({} {}) fails: {:?}", t.id, t.category, t.symbol, g);
        if t.category == Category::CodeGeneration {
            assert!(g.components.iter().any(|c| c.name == "tests" && c.pass), "{g:?}");
            // The original functions invent no API of the environment.
            let api = g.api.as_ref().unwrap();
            assert!(api.inventions.is_empty(), "{} {}: {:?}", t.id, t.symbol, api.inventions);
        }
    }
    // The correct answers take the headline too.
    let h = headline(set, &grades);
    assert_eq!(h.passed, h.n, "{h:?}");
    // Answerers without understanding stay at or under 10% in every stratum
    // and on the headline.
    let c = calibrate(set, Some(env));
    assert!(c.broken.is_empty(), "broken strata {:?}: {:?}", c.broken, c.floors);
    for f in &c.floors {
        assert!(f.floor <= BROKEN_FLOOR, "{} {}: floor {} by {}", f.category, f.tier, f.floor, f.answerer);
    }
    for a in &c.answerers {
        assert!(a.headline.passed * 10 <= a.headline.n, "{}: {} of {} units", a.name, a.headline.passed, a.headline.n);
    }
    let generation = set.tasks.iter().filter(|t| t.category == Category::CodeGeneration).count();
    for body in ["return None", "pass"] {
        let grades = grade_completions(set, &stubs(set, body), Some(env));
        assert_eq!(grades.len(), generation);
        let failed = grades.iter().filter(|g| !g.pass).count();
        assert!(failed * 100 >= generation * 95, "`{body}` bodies fail only {failed} of {generation}");
        // It is the tests that fail them, not the structure.
        assert!(grades.iter().all(|g| g.components.iter().any(|c| c.name == "tests" && !c.pass)), "{grades:?}");
    }
}

#[test]
fn tinyledger_execution_verified_and_deterministic() {
    let src = load(&test_support::tools::workspace_root().join("tests/fixtures/tinyledger"));
    let Some(env) = oracle(&src) else { return };
    let set = synth(&src, &env, 24);
    check_execution_set(&src, &env, &set);
    let stats = &set.execution.as_ref().unwrap().stats;
    assert!(stats.mutants_killed > 0 && stats.generation_tested > 0, "{stats:?}");
    assert!(set.tasks.iter().any(|t| t.category == Category::CodeUnderstanding));
    let again = synth(&src, &env, 24);
    assert_eq!(task_synth::write_task_set(&set), task_synth::write_task_set(&again));
}

#[test]
fn tinyledger_hostile_generation_answer_fails_with_its_reason_and_grading_goes_on() {
    let src = load(&test_support::tools::workspace_root().join("tests/fixtures/tinyledger"));
    let Some(env) = oracle(&src) else { return };
    let set = synth(&src, &env, 24);
    let gen: Vec<_> = set.tasks.iter().filter(|t| t.category == Category::CodeGeneration).take(2).collect();
    let Expected::CodeGeneration { signature, .. } = &gen[0].expected else { unreachable!() };
    let hostile = completion(
        &gen[0].id,
        format!(
            "```python\n{signature}\n    import socket\n    socket.create_connection(('1.1.1.1', 80), timeout=2)\n```"
        ),
    );
    let good = completion(&gen[1].id, format!("```python\n{}\n```", original(&src.files, gen[1]).join("\n")));
    let grades = grade_completions(&set, &[hostile, good], Some(&env));
    assert!(!grades[0].pass);
    assert!(grades[0].reason.as_deref().unwrap().starts_with("tests: "), "{:?}", grades[0]);
    assert!(grades[1].pass, "{:?}", grades[1]);
    // Without a test environment the execution component fails loudly.
    let blind = grade_completions(&set, &[completion(&gen[1].id, "```python\npass\n```".into())], None);
    assert!(blind[0].components.iter().any(|c| c.name == "tests" && c.detail.contains("no test environment")));
}

#[test]
fn cerberus_60_tasks_execution_verified() {
    let Some(dir) = test_support::tools::tool("BENCH_CERBERUS_DIR") else { return };
    let src = load(&dir);
    let Some(env) = oracle(&src) else { return };
    assert!(env.baseline().passed >= 240, "{:?}", env.baseline());
    let set = synth(&src, &env, 60);
    assert_eq!(set.tasks.len(), 60);
    check_execution_set(&src, &env, &set);
}

/// A second real project whose suite runs offline (click 8.1.7; requests'
/// suite needs the network).
#[test]
fn click_execution_verified() {
    let Some(dir) = test_support::tools::tool("BENCH_EXTRA_PROJECT_2") else { return };
    let src = load(&dir);
    let Some(env) = oracle(&src) else { return };
    assert!(env.baseline().passed >= 500, "{:?}", env.baseline());
    let set = synth(&src, &env, 30);
    assert!(set.tasks.len() >= 25, "{}", set.tasks.len());
    check_execution_set(&src, &env, &set);
}
