//! Invented APIs, anchored: hand-written answers with known invented and
//! known real APIs across the standard library, a pure-Python dependency
//! (requests) and C extensions (PyYAML's libyaml loaders, charset_normalizer's
//! compiled `md`), checked against the surface the sandbox describes from a
//! real interpreter. Every invention is caught; nothing real is flagged.

#![allow(clippy::unwrap_used)] // tests fail loudly

use std::path::PathBuf;

use bench_core::{ApiSurface, TestOracle};
use py_testenv::{Limits, Spec, TestEnv};

fn answers() -> Vec<(String, String)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/api-answers");
    let mut v: Vec<(String, String)> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .map(|p| (p.file_name().unwrap().to_string_lossy().into_owned(), std::fs::read_to_string(&p).unwrap()))
        .collect();
    v.sort();
    v
}

/// `(kind, name)` the answer's `# expect:` lines declare.
fn expected(code: &str) -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = code
        .lines()
        .filter_map(|l| l.strip_prefix("# expect: "))
        .map(|l| {
            let (k, n) = l.split_once(' ').unwrap();
            (k.to_string(), n.to_string())
        })
        .collect();
    v.sort();
    v
}

fn found(code: &str, surface: &ApiSurface) -> (Vec<(String, String)>, bench_core::ApiCheck) {
    let facts = py_ast_meta::facts::analyze("<answer>", code).unwrap();
    let declared = ["requests".to_string(), "yaml".to_string()];
    let c = task_synth::check_apis(&facts, surface, &ApiSurface::default(), &[], &declared);
    let mut v: Vec<(String, String)> = c.inventions.iter().map(|i| (i.kind.as_str().into(), i.name.clone())).collect();
    v.sort();
    (v, c)
}

fn environment() -> Option<TestEnv> {
    let python = test_support::tools::tool("BENCH_API_PYTHON")?;
    let files =
        [("pkg/__init__.py", "X = 1\n"), ("tests/test_pkg.py", "import pkg\n\ndef test_x():\n    assert pkg.X == 1\n")];
    let spec = Spec { python, test_cmd: None, cache_dir: None, limits: Limits::default(), jobs: 1 };
    Some(TestEnv::prepare(&spec, "api-anchor", &files, &["tests".to_string()]).unwrap())
}

#[test]
fn every_invention_is_caught_and_nothing_real_is_flagged_in_a_real_environment() {
    let Some(env) = environment() else { return };
    let surface = env.api_surface().unwrap();
    assert!(surface.modules.contains_key("requests") && surface.modules.contains_key("yaml"));
    let mut real_resolved = 0;
    for (name, code) in answers() {
        let (got, check) = found(&code, surface);
        assert_eq!(got, expected(&code), "{name}: {:?}", check.inventions);
        if name.starts_with("real_") {
            real_resolved += check.resolved;
        }
    }
    assert!(real_resolved >= 20, "the real answers resolve against the surface ({real_resolved})");
}

#[test]
fn without_an_interpreter_the_shipped_standard_library_still_decides() {
    let stdlib = task_synth::stdlib_surface();
    for (name, code) in answers().into_iter().filter(|(n, _)| n.ends_with("_stdlib.py")) {
        let (got, _) = found(&code, stdlib);
        assert_eq!(got, expected(&code), "{name}");
    }
    // A declared dependency the shipped surface does not describe is
    // unresolved, never invented.
    let (got, check) = found(&answers().into_iter().find(|(n, _)| n == "invented_requests.py").unwrap().1, stdlib);
    assert!(got.is_empty() && check.unresolved > 0, "{got:?}");
}
