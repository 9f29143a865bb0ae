//! Uses `py-testenv` alone: materialises a Python project, runs its own
//! tests twice in the bubblewrap sandbox (the baseline), then runs the tests
//! that cover the first tested function of a module again with that function
//! broken, and prints which fail.
//!
//! cargo run -p examples --example sandbox_tests -- "$BENCH_TEST_PYTHON" tests/fixtures/tinyvalidator tinyvalidator/rules.py

use std::path::{Path, PathBuf};

use bench_core::{TestJob, TestOracle};
use py_testenv::{Limits, Spec, TestEnv};

/// Every file under `root`, snapshot-relative, in path order.
fn read_tree(root: &Path) -> std::io::Result<Vec<(String, String)>> {
    let mut files = Vec::new();
    let mut dirs = vec![root.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir)? {
            let path = entry?.path();
            if path.is_dir() {
                dirs.push(path);
            } else if let Ok(text) = std::fs::read_to_string(&path) {
                let rel = path.strip_prefix(root).unwrap_or(&path).to_string_lossy().into_owned();
                files.push((rel, text));
            }
        }
    }
    files.sort();
    Ok(files)
}

fn main_() -> Result<(), String> {
    let args: Vec<String> = std::env::args().collect();
    let [_, python, root, module] = args.as_slice() else {
        return Err("usage: sandbox_tests PYTHON PROJECT_DIR MODULE.py".into());
    };
    let files = read_tree(Path::new(root)).map_err(|e| format!("{root}: {e}"))?;
    let borrowed: Vec<(&str, &str)> = files.iter().map(|(p, t)| (p.as_str(), t.as_str())).collect();
    let spec =
        Spec { python: PathBuf::from(python), test_cmd: None, cache_dir: None, limits: Limits::default(), jobs: 0 };
    let env = TestEnv::prepare(&spec, "example", &borrowed, &["tests".to_string()]).map_err(|e| e.to_string())?;
    let b = env.baseline();
    println!("baseline: {} tests, {} passed twice, {} failed, {} skipped", b.tests, b.passed, b.failed, b.skipped);

    let text = env.file(module).ok_or_else(|| format!("{module}: not a file of {root}"))?;
    // The first module-level function some passing test executes.
    let (line, name, tests) = text
        .lines()
        .enumerate()
        .filter(|(_, l)| l.trim_end().ends_with(':'))
        .filter_map(|(i, l)| l.strip_prefix("def ").map(|rest| (i as u32 + 1, rest.split('(').next().unwrap_or(rest))))
        .map(|(line, name)| (line, name, env.covering(module, line)))
        .find(|(_, _, tests)| !tests.is_empty())
        .ok_or_else(|| format!("{module}: no module-level function that a passing test executes"))?;
    println!("{name} (line {line}) is executed by {} passing tests", tests.len());
    // The function's body replaced by a raise: the covering tests must fail.
    let broken: String = text
        .lines()
        .enumerate()
        .map(|(i, l)| {
            if i as u32 + 1 == line {
                format!("{l}\n    raise RuntimeError('broken by the example')\n")
            } else {
                format!("{l}\n")
            }
        })
        .collect();
    let outcome = &env.run(&[TestJob::new(module.as_str(), broken, tests.clone())])[0];
    println!("with {name} broken: {} of {} fail", outcome.failed.len(), tests.len());
    for t in outcome.failed.iter().take(5) {
        println!("  failed {t}");
    }
    Ok(())
}

fn main() {
    if let Err(e) = main_() {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}
