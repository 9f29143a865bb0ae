//! Execution-verified ground truth on the pinned Cerberus 1.3.4 set (from
//! scripts/setup-tools.sh): synthesising and verifying the 60-task set with
//! the repository's tests (fresh cache: baseline, mutants and stubs all run;
//! verify re-derives from that cache), and grading 60 correct answers, whose
//! 20 generation answers run their covering tests (no cache).
//!
//! cargo bench -p task-synth --bench execution

#![allow(clippy::unwrap_used)] // tests and benches fail loudly

use std::path::PathBuf;

use bench_core::{Completion, Expected, TaskSet};
use py_ast_meta::SourceFile;
use py_testenv::{Limits, Spec, TestEnv};
use task_synth::{grade_completions, synthesize_verified, Rules};

fn main() {
    divan::main();
}

struct Target {
    files: Vec<SourceFile>,
    snapshot_id: String,
    python: PathBuf,
}

fn target() -> Target {
    let dir = test_support::tools::tool("BENCH_CERBERUS_DIR").expect("run scripts/setup-tools.sh");
    let python = test_support::tools::tool("BENCH_TEST_PYTHON").expect("run scripts/setup-tools.sh");
    let snap = repo_scan::scan(&dir, None, &repo_scan::Limits::default()).unwrap();
    let files = snap.files.iter().map(|f| SourceFile { path: f.path.clone(), text: f.text.clone() }).collect();
    Target { files, snapshot_id: snap.snapshot_id, python }
}

fn env(t: &Target, cache: Option<PathBuf>) -> TestEnv {
    let files: Vec<(&str, &str)> = t.files.iter().map(|f| (f.path.as_str(), f.text.as_str())).collect();
    let paths = Rules::default().test_paths(t.files.iter().map(|f| f.path.as_str()));
    let spec = Spec { python: t.python.clone(), test_cmd: None, cache_dir: cache, limits: Limits::default(), jobs: 0 };
    TestEnv::prepare(&spec, &t.snapshot_id, &files, &paths).unwrap()
}

fn synth(t: &Target, env: &TestEnv) -> TaskSet {
    let rules = Rules::default();
    let ex = py_ast_meta::extract(&t.snapshot_id, &t.files, &rules.extract);
    synthesize_verified(&t.files, &ex, &rules, Some(60), env)
}

#[divan::bench(sample_count = 2, sample_size = 1)]
fn synthesize_and_verify_60(bencher: divan::Bencher<'_, '_>) {
    let t = target();
    bencher.bench(|| {
        let cache = tempfile::tempdir().unwrap();
        let first = synth(&t, &env(&t, Some(cache.path().to_path_buf())));
        let again = synth(&t, &env(&t, Some(cache.path().to_path_buf())));
        assert_eq!(task_synth::write_task_set(&first), task_synth::write_task_set(&again));
    });
}

#[divan::bench(sample_count = 3, sample_size = 1)]
fn grade_60_answers(bencher: divan::Bencher<'_, '_>) {
    let t = target();
    let env = env(&t, None);
    let set = synth(&t, &env);
    let answers: Vec<Completion> = set
        .tasks
        .iter()
        .map(|task| {
            let text = match &task.expected {
                Expected::CodeGeneration { .. } => {
                    let file = t.files.iter().find(|f| f.path == task.file).unwrap();
                    let lines: Vec<&str> = file
                        .text
                        .lines()
                        .skip(task.span[0] as usize - 1)
                        .take((task.span[1] - task.span[0] + 1) as usize)
                        .collect();
                    let cut = lines
                        .iter()
                        .filter(|l| !l.trim().is_empty())
                        .map(|l| l.len() - l.trim_start().len())
                        .min()
                        .unwrap_or(0);
                    let body: Vec<&str> = lines.iter().map(|l| l.get(cut..).unwrap_or("")).collect();
                    format!("```python\n{}\n```", body.join("\n"))
                }
                Expected::CodeUnderstanding { line, operator, .. } => {
                    serde_json::json!({"line": line, "kind": operator}).to_string()
                }
                Expected::SecurityAudit { vulnerable, cwe, line, .. } => {
                    serde_json::json!({"vulnerable": vulnerable, "cwe": cwe, "line": line}).to_string()
                }
            };
            Completion::answer(&task.id, text)
        })
        .collect();
    bencher.bench(|| {
        let grades = grade_completions(&set, &answers, Some(&env));
        assert!(grades.iter().all(|g| g.pass));
    });
}
