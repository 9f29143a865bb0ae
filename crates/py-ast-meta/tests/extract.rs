//! Extraction over fixture packages: snapshots, determinism, parse failures and hostile nesting.

#![allow(clippy::unwrap_used)] // tests and benches fail loudly

use py_ast_meta::{extract, ExtractRules, SourceFile};
use test_support::tools::fixture_files;

fn fixture() -> Vec<SourceFile> {
    fixture_files("tinyvalidator").into_iter().map(|(path, text)| SourceFile { path, text }).collect()
}

#[test]
fn extraction_of_the_fixture_package() {
    let ex = extract("fixture", &fixture(), &ExtractRules::default());
    assert!(ex.parse_failures.is_empty(), "{:?}", ex.parse_failures);
    insta::assert_json_snapshot!("tinyvalidator_extraction", ex);
    insta::assert_json_snapshot!("tinyvalidator_api_index", ex.api);
}

#[test]
fn two_extractions_are_byte_identical() {
    let a = serde_json::to_vec(&extract("fixture", &fixture(), &ExtractRules::default())).unwrap();
    let b = serde_json::to_vec(&extract("fixture", &fixture(), &ExtractRules::default())).unwrap();
    assert_eq!(a, b);
}

#[test]
fn a_file_that_does_not_parse_is_reported_and_the_others_go_on() {
    let mut files = fixture();
    files.push(SourceFile {
        path: "tinyvalidator/broken.py".into(),
        text: "def ok():\n    pass\n\nclass X(:\n    pass\n".into(),
    });
    files.push(SourceFile {
        path: "tinyvalidator/new_fstring.py".into(),
        text: "x = f\"{'a' if True else \"b\"}\"\n".into(),
    });
    let ex = extract("fixture", &files, &ExtractRules::default());
    insta::assert_json_snapshot!("parse_failures", ex.parse_failures);
    assert_eq!(ex.modules.len(), fixture().iter().filter(|f| f.path.ends_with(".py")).count());
}

/// Nesting deep enough to overflow a thread's stack aborts a process (it is
/// not a panic); such files are recorded as parse failures, deep but valid
/// code still parses, and the other files are untouched.
#[test]
fn hostile_nesting_is_one_recorded_failure_not_an_abort() {
    let brackets = format!("def f():\n    return {}1{}\n", "[".repeat(20_000), "]".repeat(20_000));
    let chain = format!("def f():\n    return {}\n", vec!["1"; 100_000].join(" + "));
    let deep_but_valid = format!("def f(x):\n    return {}\n", vec!["x.a"; 2_900].join(" + "));
    let files: Vec<SourceFile> = [
        ("brackets.py", brackets.as_str()),
        ("chain.py", chain.as_str()),
        ("valid.py", deep_but_valid.as_str()),
        ("ok.py", "def g():\n    return 1\n"),
    ]
    .into_iter()
    .map(|(path, text)| SourceFile { path: path.into(), text: text.into() })
    .collect();
    let ex = extract("s", &files, &ExtractRules::default());
    let failed: Vec<(&str, u32, &str)> =
        ex.parse_failures.iter().map(|f| (f.path.as_str(), f.line, f.error.as_str())).collect();
    assert_eq!(failed.len(), 2, "{failed:?}");
    assert!(failed[0].0 == "brackets.py" && failed[0].2.contains("nested parentheses"), "{failed:?}");
    assert!(failed[1].0 == "chain.py" && failed[1].1 == 2 && failed[1].2.contains("nested too deeply"), "{failed:?}");
    let parsed: Vec<&str> = ex.modules.iter().map(|m| m.path.as_str()).collect();
    assert_eq!(parsed, ["valid.py", "ok.py"]);
    // The grader's path over a model's answer is guarded the same way.
    assert!(py_ast_meta::facts::analyze("<answer>", &chain).is_err());
    assert!(py_ast_meta::facts::analyze("<answer>", &deep_but_valid).is_ok());
    assert!(py_ast_meta::mutation::normalized_ast(&brackets).is_err());
}
