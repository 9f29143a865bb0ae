//! Paths to the real tools and targets the test suites use (the Gemma GGUF,
//! the Cerberus sdist, promptfoo, the llama.cpp server's Python), installed by
//! `scripts/setup-tools.sh` into `.tools/` and listed in `.tools/env.sh`.
//!
//! A test asks for one by its variable; when it is missing the test is skipped
//! with a note, unless `BENCH_REQUIRE_TOOLS=1` (as in CI), where it fails.

use std::path::PathBuf;

/// The value of `var` from the environment or `.tools/env.sh`, as a path that exists.
pub fn tool(var: &str) -> Option<PathBuf> {
    let value = std::env::var(var).ok().or_else(|| from_env_file(var));
    match value.map(PathBuf::from).filter(|p| p.exists()) {
        Some(p) => Some(p),
        None if required() => panic!("{var} is not set up; run scripts/setup-tools.sh (BENCH_REQUIRE_TOOLS=1)"),
        None => {
            eprintln!("skipped: {var} is not set up (run scripts/setup-tools.sh)");
            None
        }
    }
}

/// Whether missing tools fail tests instead of skipping them.
pub fn required() -> bool {
    std::env::var("BENCH_REQUIRE_TOOLS").is_ok_and(|v| v == "1")
}

/// The workspace root.
pub fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn from_env_file(var: &str) -> Option<String> {
    let text = std::fs::read_to_string(workspace_root().join(".tools/env.sh")).ok()?;
    let prefix = format!("export {var}=");
    text.lines().find_map(|l| l.strip_prefix(&prefix)).map(|v| v.trim_matches('"').to_string())
}

/// Every file under `tests/fixtures/<name>`, as sorted (relative path, text) pairs.
pub fn fixture_files(name: &str) -> Vec<(String, String)> {
    let root = workspace_root().join("tests/fixtures").join(name);
    let mut out = Vec::new();
    let mut stack = vec![root.clone()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
            let path = entry.expect("a readable fixture entry").path();
            if path.is_dir() {
                stack.push(path);
            } else if let Ok(text) = std::fs::read_to_string(&path) {
                let rel = path.strip_prefix(&root).expect("under the root").to_string_lossy().replace('\\', "/");
                out.push((rel, text));
            }
        }
    }
    out.sort();
    out
}
