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
                // The intended test: the suite's own test that kills the bug
                // (which the copy rule refuses; see check_execution_set).
                Expected::BugReproduction { .. } => suite_test(src, t, false).unwrap_or_default(),
            };
            completion(&t.id, text)
        })
        .collect()
}

/// The first of the suite's tests that kill a bug-reproduction task's bug
/// and copy out whole (not parametrised: a parameter list may name anything
/// in its module), as an answer module: with its file's imports, or with
/// every top-level statement of its file but the other tests (`context`),
/// which running it may need.
fn suite_test(src: &Source, t: &bench_core::Task, context: bool) -> Option<String> {
    t.evidence.tests().iter().filter(|id| !id.contains('[')).find_map(|id| copied_test(src, id, context))
}

fn copied_test(src: &Source, id: &str, context: bool) -> Option<String> {
    let (path, rest) = id.split_once("::")?;
    let name = rest.rsplit("::").next()?.split('[').next()?;
    let text = &src.files.iter().find(|f| f.path == path)?.text;
    let items = py_ast_meta::answer::layout(text).ok()?;
    let lines: Vec<&str> = text.lines().collect();
    let def = items.iter().find_map(|it| match &it.kind {
        py_ast_meta::answer::ItemKind::Function(d) if d.name == name => Some((d.start_line, d.end_line, 0)),
        py_ast_meta::answer::ItemKind::Class { methods, .. } => {
            methods.iter().find(|m| m.name == name).map(|m| (m.start_line, m.end_line, 4))
        }
        _ => None,
    })?;
    let body: Vec<&str> =
        lines[def.0 as usize - 1..def.1 as usize].iter().map(|l| l.get(def.2..).unwrap_or("")).collect();
    let kept: Vec<String> = items
        .iter()
        .filter(|it| match &it.kind {
            py_ast_meta::answer::ItemKind::Import { .. } => true,
            py_ast_meta::answer::ItemKind::Function(d) => context && !d.name.starts_with("test"),
            py_ast_meta::answer::ItemKind::Class { name, .. } => context && !name.starts_with("Test"),
            // One-line module names (`ValidationError = errors.ValidationError`).
            _ => context || (it.start_line == it.end_line && lines[it.start_line as usize - 1].contains(" = ")),
        })
        .map(|it| lines[it.start_line as usize - 1..it.end_line as usize].join("\n"))
        .collect();
    // A method's `self` has no class here: the test takes none.
    let body = body.join("\n").replacen("(self, ", "(", 1).replacen("(self)", "()", 1);
    Some(format!("```python\n{}\n\n\n{body}\n```", kept.join("\n")))
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
            // A test the model writes must fail where the suite's own does.
            (Category::BugReproduction, _, Evidence::Execution { tests }) => {
                assert!(!tests.is_empty(), "{}: a bug no test kills", t.id)
            }
            (c, _, e) => panic!("{}: {c} task with evidence {e:?}", t.id),
        }
    }
    let grades = grade_completions(set, &correct_answers(src, set), Some(env));
    for g in &grades {
        let t = set.task(&g.task_id).unwrap();
        if t.category == Category::BugReproduction {
            // The suite's own killing test is refused as a copy, and only for that.
            let failing: Vec<&str> = g.components.iter().filter(|c| !c.pass).map(|c| c.name.as_str()).collect();
            assert_eq!(failing, ["not_copied"], "the suite's test for {}: {:?}", t.id, g);
            continue;
        }
        assert!(g.pass, "the correct answer to {} ({} {}) fails: {:?}", t.id, t.category, t.symbol, g);
        if t.category == Category::CodeGeneration {
            assert!(g.components.iter().any(|c| c.name == "tests" && c.pass), "{g:?}");
            // The original functions invent no API of the environment.
            let api = g.api.as_ref().unwrap();
            assert!(api.inventions.is_empty(), "{} {}: {:?}", t.id, t.symbol, api.inventions);
        }
    }
    // The correct answers take the headline too, bug reproduction aside.
    let h = headline(set, &grades);
    let reproduction = set.tasks.iter().filter(|t| t.category == Category::BugReproduction).count();
    assert_eq!(h.passed + reproduction, h.n, "{h:?}");
    check_reproduction_runs(src, env, set);
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

/// The execution half of bug reproduction, on the suite's own killing test
/// put where an answer goes: it passes on the original and fails on the bug
/// (what a correct answer does; the copy rule is the grader's other half).
fn check_reproduction_runs(src: &Source, env: &TestEnv, set: &TaskSet) {
    let tasks: Vec<&bench_core::Task> = set.tasks.iter().filter(|t| t.category == Category::BugReproduction).collect();
    let copied = tasks.iter().filter(|t| suite_test(src, t, true).is_some()).count();
    assert!(tasks.is_empty() || copied > 0, "no killing test could be copied out of the suite");
    let mut verified = 0;
    for t in tasks {
        let Expected::BugReproduction { line, mutated, test_module, .. } = &t.expected else { unreachable!() };
        let Some(answer) = suite_test(src, t, true) else { continue };
        let code = answer.trim_start_matches("```python\n").trim_end_matches("```").to_string();
        let original = env.file(&t.file).unwrap().to_string();
        let lines: Vec<&str> = original.lines().collect();
        let mut bugged: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
        bugged[*line as usize - 1] = mutated.clone();
        let job = |text: String| bench_core::TestJob {
            file: t.file.clone(),
            text,
            tests: vec![test_module.clone()],
            answer_lines: Vec::new(),
            added: Some(code.clone()),
        };
        let out = env.run(&[job(original.clone()), job(bugged.join("\n") + "\n")]);
        // A test copied out of its module may miss state the module sets up
        // some other way; such a copy says nothing about the grader.
        if !out[0].passed() {
            eprintln!("{}: the copied killing test fails on the original: {:?}", t.id, out[0]);
            continue;
        }
        verified += 1;
        assert!(
            !out[1].passed() && out[1].aborted.is_none(),
            "{}: the killing test passes on the bug: {:?}",
            t.id,
            out[1]
        );
    }
    assert!(verified * 2 >= copied, "only {verified} of {copied} copied killing tests pass on the original");
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

/// `--novelty rename` (decision 0024): the package's names renamed
/// consistently, the transformed suite passing exactly as the original
/// does, and tasks that a remembered answer fails while understanding
/// passes: the original function text (what recall produces) passes at
/// most 10% of generation units, the transformed original (what writing
/// the code produces) every one.
fn novelty_defeats_recall(src: &Source, count: usize) {
    let Some(env) = oracle(src) else { return };
    let rules = Rules::default();
    let t = task_synth::synth::novelty::transform(&src.files, &src.snapshot_id, &rules, &env);
    let renamed = Source { files: t.files.clone(), snapshot_id: format!("{}-renamed", src.snapshot_id) };
    let tenv = oracle(&renamed).unwrap();
    assert_eq!(
        (tenv.baseline().passed, tenv.baseline().failed),
        (env.baseline().passed, env.baseline().failed),
        "the transformed baseline passes exactly as the original does"
    );
    let set = task_synth::synth::novelty::seal(synth(&renamed, &tenv, count), &t);
    let n = set.novelty.as_ref().unwrap();
    eprintln!(
        "renamed {} of {} defined names ({} kept by rule, kept by execution: {:?}); prompt share {:.2}",
        n.renamed, n.defined, n.kept_by_rule, n.kept_by_execution, n.prompt_share
    );
    assert!(n.prompt_share >= 0.8, "{:.2} of the package's names in the prompts are renamed", n.prompt_share);
    // Correct (transformed) answers pass every unit; every floor stays at 0.
    check_execution_set(&renamed, &tenv, &set);
    let generation: Vec<&bench_core::Task> =
        set.tasks.iter().filter(|t| t.category == Category::CodeGeneration && !t.evidence.is_structural()).collect();
    assert!(!generation.is_empty());
    let recalled: Vec<Completion> = generation
        .iter()
        .map(|t| completion(&t.id, format!("```python\n{}\n```", original(&src.files, t).join("\n"))))
        .collect();
    let grades = grade_completions(&set, &recalled, Some(&tenv));
    let passed = grades.iter().filter(|g| g.pass).count();
    eprintln!("recalled originals: {passed} of {} generation units pass", generation.len());
    assert!(passed * 10 <= generation.len(), "{passed} of {} recalled originals pass", generation.len());
}

/// 30 tasks, not 60: the transform is the same at any count, and the checks
/// on a 60-task Cerberus set take 12 min 51 s alone on 2 cores
/// (`cerberus_60_tasks_execution_verified`); at 30 this test takes 8 min 44 s.
#[test]
fn cerberus_renamed_defeats_recall() {
    let Some(dir) = test_support::tools::tool("BENCH_CERBERUS_DIR") else { return };
    novelty_defeats_recall(&load(&dir), 30);
}

/// The transform on click bisects through 51 names whose renaming changes
/// its 589-test baseline: about 20 minutes on 2 cores, more than CI's share
/// for one test. Run it with `cargo test -p task-synth --test execution --
/// --ignored click_renamed`.
#[test]
#[ignore = "20 minutes on 2 cores; run with --ignored"]
fn click_renamed_defeats_recall() {
    let Some(dir) = test_support::tools::tool("BENCH_EXTRA_PROJECT_2") else { return };
    novelty_defeats_recall(&load(&dir), 30);
}
