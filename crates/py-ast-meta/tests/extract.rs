#![allow(clippy::unwrap_used)] // tests and benches fail loudly

use test_support::tools::fixture_files;
use py_ast_meta::{extract, ExtractRules, SourceFile};

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
