//! Execution on the pinned Cerberus 1.3.4 (from scripts/setup-tools.sh), as
//! the main job does it (`bench_eval::derive`, the tool's own cache in a
//! fresh directory each time):
//! - synthesis with execution, plain and with `--novelty rename` (the
//!   transform runs the baseline of the renamed repository and bisects any
//!   name whose renaming changes it);
//! - `synth --count max` with execution on Cerberus 1.3.4 and click 8.1.7:
//!   every candidate each supports, its tasks and scoring units printed;
//! - grading the correct answers of every generation, understanding and
//!   audit task (generation answers run their covering tests);
//! - grading 20 hostile generation answers (endless loops, unbounded
//!   allocation, early exits, forged reports), each bounded by its tests'
//!   own baseline durations rather than the 120 s wall-clock limit.
//!
//! cargo bench -p benches --bench execution

#![allow(clippy::unwrap_used)] // tests and benches fail loudly

use bench_core::{Completion, Expected, Task};
use bench_eval::{derive, derive_novel, Derived, Source};
use py_testenv::{Limits, Spec};
use task_synth::{grade_completions, Rules};

fn main() {
    divan::main();
}

fn spec(cache: &std::path::Path) -> Spec {
    let python = test_support::tools::tool("BENCH_TEST_PYTHON").expect("run scripts/setup-tools.sh");
    Spec { python, test_cmd: None, cache_dir: Some(cache.to_path_buf()), limits: Limits::default(), jobs: 0 }
}

fn cerberus() -> Source {
    Source::local(test_support::tools::tool("BENCH_CERBERUS_DIR").expect("run scripts/setup-tools.sh"), None)
}

fn derived(cache: &std::path::Path, novel: bool) -> Derived {
    let rules = Rules::default();
    if novel {
        derive_novel(&cerberus(), &rules, Some(60), &spec(cache)).unwrap()
    } else {
        derive(&cerberus(), &rules, Some(60), Some(&spec(cache))).unwrap()
    }
}

#[divan::bench(args = [false, true], sample_count = 2, sample_size = 1)]
fn synthesize_60_with_execution(bencher: divan::Bencher<'_, '_>, renamed: bool) {
    bencher.bench(|| {
        let cache = tempfile::tempdir().unwrap();
        assert!(derived(cache.path(), renamed).set.execution_verified());
    });
}

/// Every candidate the repository supports (`--count max`), verified by
/// execution; prints how many tasks and scoring units that is.
#[divan::bench(args = ["BENCH_CERBERUS_DIR", "BENCH_EXTRA_PROJECT_2"], sample_count = 1, sample_size = 1)]
fn synthesize_max_with_execution(bencher: divan::Bencher<'_, '_>, project: &str) {
    let src = Source::local(test_support::tools::tool(project).expect("run scripts/setup-tools.sh"), None);
    bencher.bench(|| {
        let cache = tempfile::tempdir().unwrap();
        let d = derive(&src, &Rules::default(), Some(task_synth::MAX_TASKS), Some(&spec(cache.path()))).unwrap();
        let units = task_synth::units(&d.set).len();
        eprintln!("{project}: {} tasks, {units} scoring units", d.set.tasks.len());
    });
}

/// The task's function as the repository holds it, dedented.
fn original(d: &Derived, task: &Task) -> Vec<String> {
    let text = &d.files[&task.file];
    let lines: Vec<&str> =
        text.lines().skip(task.span[0] as usize - 1).take((task.span[1] - task.span[0] + 1) as usize).collect();
    let cut = lines.iter().filter(|l| !l.trim().is_empty()).map(|l| l.len() - l.trim_start().len()).min().unwrap_or(0);
    lines.iter().map(|l| l.get(cut..).unwrap_or("").to_string()).collect()
}

/// One answer per task `text` answers, in task order.
fn answers<'a>(
    tasks: impl Iterator<Item = &'a Task>,
    mut text: impl FnMut(&Task) -> Option<String>,
) -> Vec<Completion> {
    tasks.filter_map(|task| Some(Completion::answer(&task.id, text(task)?))).collect()
}

// One sample each: the environment memoises outcomes, so a second grading
// of the same answers would measure the memo.
#[divan::bench(sample_count = 1, sample_size = 1)]
fn grade_correct_answers(bencher: divan::Bencher<'_, '_>) {
    let cache = tempfile::tempdir().unwrap();
    let d = derived(cache.path(), false);
    let answers = answers(d.set.tasks.iter(), |task| {
        Some(match &task.expected {
            Expected::CodeGeneration { .. } => format!("```python\n{}\n```", original(&d, task).join("\n")),
            Expected::CodeUnderstanding { line, operator, .. } => {
                serde_json::json!({"line": line, "kind": operator}).to_string()
            }
            Expected::SecurityAudit { vulnerable, cwe, line, .. } => {
                serde_json::json!({"vulnerable": vulnerable, "cwe": cwe, "line": line}).to_string()
            }
            Expected::BugReproduction { .. } => return None,
        })
    });
    let env = d.env.as_ref().unwrap();
    bencher.bench(|| {
        let grades = grade_completions(&d.set, &answers, Some(env));
        assert!(grades.iter().filter(|g| answers.iter().any(|a| a.task_id == g.task_id)).all(|g| g.pass));
    });
}

/// Bodies that attack the grader instead of solving the task.
const HOSTILE: [&str; 5] = [
    "    while True:\n        pass",
    "    hoard = []\n    while True:\n        hoard.append(bytearray(64 << 20))",
    "    import os\n    os._exit(0)",
    "    import _pytest.reports as r\n    r.BaseReport.passed = property(lambda self: True)\n    return None",
    "    return open('/tmp/bench-harness/bench_pytest_plugin.py').read()",
];

#[divan::bench(sample_count = 1, sample_size = 1)]
fn grade_20_hostile_generation_answers(bencher: divan::Bencher<'_, '_>) {
    let cache = tempfile::tempdir().unwrap();
    let d = derived(cache.path(), false);
    let generation = d.set.tasks.iter().filter(|t| matches!(t.expected, Expected::CodeGeneration { .. }));
    let mut attack = HOSTILE.iter().cycle();
    let answers = answers(generation.take(20), |task| {
        // The decorators and the def line of the original, then the attack.
        let lines = original(&d, task);
        let head = lines.iter().position(|l| l.trim_end().ends_with(':')).unwrap();
        Some(format!("```python\n{}\n{}\n```", lines[..=head].join("\n"), attack.next().unwrap()))
    });
    bencher.bench(|| {
        let env = d.env.as_ref().unwrap();
        let grades = grade_completions(&d.set, &answers, Some(env));
        assert!(grades.iter().filter(|g| answers.iter().any(|a| a.task_id == g.task_id)).all(|g| !g.pass));
    });
}
