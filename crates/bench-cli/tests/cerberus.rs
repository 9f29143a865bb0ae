//! The pinned Cerberus 1.3.4 sdist (downloaded by scripts/setup-tools.sh and
//! checked against its published sha256): what issue #2 and #3 must show.

#![allow(clippy::unwrap_used)] // tests and benches fail loudly

mod common;

use common::{run, s};
use py_ast_meta::{extract, ExtractRules, SourceFile};
use repo_scan::{scan, Limits};

#[test]
fn the_sdist_and_its_unpacked_folder_are_the_same_snapshot_and_task_set() {
    let (Some(sdist), Some(dir)) =
        (test_support::tools::tool("BENCH_CERBERUS_SDIST"), test_support::tools::tool("BENCH_CERBERUS_DIR"))
    else {
        return;
    };
    let a = scan(&sdist, None, &Limits::default()).unwrap();
    let b = scan(&dir, None, &Limits::default()).unwrap();
    assert_eq!(a.snapshot_id, b.snapshot_id);
    assert_eq!(a.files.iter().filter(|f| f.path.ends_with(".py")).count(), 21);
    assert!(a.skipped.is_empty(), "{:?}", a.skipped);
    // The packaging manifests are kept too.
    for m in ["setup.py", "setup.cfg", "pyproject.toml"] {
        assert!(a.file(m).is_some(), "{m}");
    }

    let out = tempfile::tempdir().unwrap();
    let (ta, tb) = (out.path().join("a.json"), out.path().join("b.json"));
    assert_eq!(run(&["synth", s(&sdist), "--out", s(&ta)]).0, 0);
    assert_eq!(run(&["synth", s(&dir), "--out", s(&tb)]).0, 0);
    assert_eq!(std::fs::read(&ta).unwrap(), std::fs::read(&tb).unwrap(), "same set from the archive and the folder");
    let (code, stdout, _) = run(&["verify", s(&sdist), "--tasks", s(&ta)]);
    assert_eq!(code, 0, "{stdout}");
}

#[test]
fn every_file_parses_and_validator_py_has_its_real_signatures() {
    let Some(sdist) = test_support::tools::tool("BENCH_CERBERUS_SDIST") else { return };
    let snap = scan(&sdist, None, &Limits::default()).unwrap();
    let files: Vec<SourceFile> =
        snap.files.iter().map(|f| SourceFile { path: f.path.clone(), text: f.text.clone() }).collect();
    let ex = extract(&snap.snapshot_id, &files, &ExtractRules::default());
    assert!(ex.parse_failures.is_empty(), "{:?}", ex.parse_failures);
    assert_eq!(ex.modules.len(), 21);

    let v = ex.modules.iter().find(|m| m.path == "cerberus/validator.py").unwrap();
    assert_eq!(v.module, "cerberus.validator");
    let classes: Vec<(&str, &str, u32, u32)> =
        v.classes.iter().map(|c| (c.name.as_str(), c.signature.as_str(), c.start_line, c.end_line)).collect();
    assert_eq!(
        classes,
        [
            ("DocumentError", "class DocumentError(Exception):", 54, 57),
            ("_SchemaRuleTypeError", "class _SchemaRuleTypeError(Exception):", 60, 66),
            ("BareValidator", "class BareValidator(object):", 69, 1586),
            ("InspectedValidator", "class InspectedValidator(type):", 1592, 1679),
        ]
    );
    let bare = &v.classes[2];
    let method = |name: &str| bare.methods.iter().find(|m| m.name == name).unwrap_or_else(|| panic!("{name}"));
    let validate = method("validate");
    assert_eq!(validate.signature, "def validate(self, document, schema=None, update=False, normalize=True):");
    assert_eq!((validate.start_line, validate.end_line), (1019, 1059));
    assert!(validate.docstring.as_deref().unwrap().starts_with("Normalizes and validates a mapping"));
    let init = method("__init__");
    assert_eq!(init.signature, "def __init__(self, *args, **kwargs):");
    assert_eq!(init.start_line, 152);
    let allowed = method("_validate_allowed");
    assert_eq!((allowed.start_line, allowed.end_line), (1138, 1146));
    assert_eq!(allowed.docstring.as_deref(), Some("{'type': 'container'}"));
    assert_eq!(
        method("normalized").signature,
        "def normalized(self, document, schema=None, always_return_document=False):"
    );
    assert!(bare.methods.len() > 80);
    // Head imports, with their lines.
    assert!(v.imports.iter().any(|i| i.module == "cerberus" && i.name.as_deref() == Some("errors")));
    // The API index knows the package's real names.
    assert!(ex.api.has_attr("cerberus.errors", "BAD_TYPE"));
    assert!(ex.api.has_attr("cerberus", "Validator"));
    assert!(!ex.api.has_attr("cerberus.errors", "NO_SUCH_ERROR"));
}
