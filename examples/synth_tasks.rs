//! Uses `task-synth` alone (and `py-testenv` for execution): synthesises the
//! stratified task set of a Python project under the shipped rules, checks
//! that a second synthesis is byte-identical, and writes it. With an
//! interpreter, ground truth is settled by the project's own tests.
//!
//! cargo run -p examples --example synth_tasks -- tests/fixtures/tinyvalidator tasks.json [PYTHON]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use bench_core::TaskSet;
use task_synth::{extract, first_difference, synthesize, synthesize_verified, write_task_set, Rules, SourceFile};

/// Every text file under `root`, snapshot-relative, in path order.
fn read_tree(root: &Path) -> std::io::Result<Vec<SourceFile>> {
    let mut files = Vec::new();
    let mut dirs = vec![root.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir)? {
            let path = entry?.path();
            if path.is_dir() {
                dirs.push(path);
            } else if let Ok(text) = std::fs::read_to_string(&path) {
                let rel = path.strip_prefix(root).unwrap_or(&path).to_string_lossy().into_owned();
                files.push(SourceFile { path: rel, text });
            }
        }
    }
    files.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(files)
}

fn synth(files: &[SourceFile], rules: &Rules, python: Option<&String>) -> Result<TaskSet, String> {
    // An embedder's own snapshot id; `repo-scan` computes a content address.
    let snapshot_id = format!("files-{}", files.len());
    let extraction = extract(&snapshot_id, files, &rules.extract);
    let Some(python) = python else { return Ok(synthesize(files, &extraction, rules, None)) };
    let pairs: Vec<(&str, &str)> = files.iter().map(|f| (f.path.as_str(), f.text.as_str())).collect();
    let spec = py_testenv::Spec {
        python: PathBuf::from(python),
        test_cmd: None,
        cache_dir: None,
        limits: py_testenv::Limits::default(),
        jobs: 0,
    };
    let paths = rules.test_paths(files.iter().map(|f| f.path.as_str()));
    let oracle = py_testenv::TestEnv::prepare(&spec, &snapshot_id, &pairs, &paths).map_err(|e| e.to_string())?;
    Ok(synthesize_verified(files, &extraction, rules, None, &oracle))
}

fn main_() -> Result<(), String> {
    let args: Vec<String> = std::env::args().collect();
    let [_, root, out, rest @ ..] = args.as_slice() else {
        return Err("usage: synth_tasks PROJECT_DIR OUT.json [PYTHON]".into());
    };
    let files = read_tree(Path::new(root)).map_err(|e| format!("{root}: {e}"))?;
    let rules = Rules::default();
    let set = synth(&files, &rules, rest.first())?;
    let again = synth(&files, &rules, rest.first())?;
    if let Some(d) = first_difference(&set, &again) {
        return Err(format!("two syntheses differ: {d}"));
    }
    let mut strata: BTreeMap<(String, String), usize> = BTreeMap::new();
    for t in &set.tasks {
        *strata.entry((format!("{:?}", t.category), format!("{:?}", t.tier))).or_default() += 1;
    }
    for ((category, tier), n) in &strata {
        println!("{category:<20} {tier}  {n}");
    }
    let text = write_task_set(&set);
    std::fs::write(out, &text).map_err(|e| format!("{out}: {e}"))?;
    let how = if set.execution_verified() { "execution-verified" } else { "structural" };
    println!(
        "{} tasks ({how}), {} bytes identical in two syntheses, id {} -> {out}",
        set.tasks.len(),
        text.len(),
        set.taskset_id
    );
    Ok(())
}

fn main() {
    if let Err(e) = main_() {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}
