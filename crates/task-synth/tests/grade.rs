//! Graders: right answers pass and wrong ones fail, for every category, every
//! mutation operator and every CWE; hostile output never crashes them.

#![allow(clippy::unwrap_used)] // tests and benches fail loudly

mod common;

use bench_core::{Category, Expected, Prompt, Task, Tier};
use common::{fixture, synth};
use task_synth::grade;

fn task(expected: Expected) -> Task {
    let category = match &expected {
        Expected::CodeGeneration { .. } => Category::CodeGeneration,
        Expected::CodeUnderstanding { .. } => Category::CodeUnderstanding,
        Expected::SecurityAudit { .. } => Category::SecurityAudit,
        Expected::BugReproduction { .. } => Category::BugReproduction,
    };
    Task {
        id: "t".into(),
        category,
        tier: Tier::T1,
        tier_rule: String::new(),
        file: "pkg/m.py".into(),
        symbol: "f".into(),
        span: [1, 1],
        prompt: Prompt { system: String::new(), user: String::new() },
        expected,
        evidence: Default::default(),
    }
}

#[test]
fn understanding_every_operator() {
    for op in py_ast_meta::mutation::OPERATORS {
        let t = task(Expected::CodeUnderstanding {
            line: Some(7),
            operator: Some(op.to_string()),
            original_line: None,
            pair: None,
        });
        let right = grade(
            &t,
            &format!("The bug is here:\n```json\n{{\"line\": 7, \"kind\": \"{op}\"}}\n```\nHope that helps."),
        );
        assert!(right.pass, "{op}: {right:?}");
        let right_line_wrong_kind = grade(&t, "{\"line\": 7, \"kind\": \"other\"}");
        assert!(right_line_wrong_kind.pass, "kind is recorded, not required");
        assert!(right_line_wrong_kind.components.iter().any(|c| c.name == "kind" && !c.pass));
        for wrong in ["{\"line\": 6, \"kind\": \"x\"}", "{\"line\": null}", "no idea", "{\"line\": \"seven\"}"] {
            assert!(!grade(&t, wrong).pass, "{op}: {wrong} passed");
        }
    }
    let control = task(Expected::CodeUnderstanding { line: None, operator: None, original_line: None, pair: None });
    for right in ["{\"line\": null, \"kind\": null}", "{\"line\": \"none\"}", "```json\n{\"line\": null}\n```"] {
        assert!(grade(&control, right).pass, "{right}");
    }
    for wrong in ["{\"line\": 3}", "{}", "null"] {
        assert!(!grade(&control, wrong).pass, "{wrong}");
    }
}

#[test]
fn audit_every_cwe_and_the_clean_twin() {
    for cwe in ["CWE-89", "CWE-78", "CWE-22", "CWE-95", "CWE-502"] {
        let vuln = task(Expected::SecurityAudit {
            vulnerable: true,
            cwe: cwe.into(),
            line: 5,
            lines: vec![4, 5],
            pair: "p".into(),
            template: "x".into(),
        });
        let clean = task(Expected::SecurityAudit {
            vulnerable: false,
            cwe: cwe.into(),
            line: 4,
            lines: vec![4, 5, 6],
            pair: "p".into(),
            template: "x".into(),
        });
        let number = cwe.trim_start_matches("CWE-");
        for right in [
            format!("{{\"vulnerable\": true, \"cwe\": \"{cwe}\", \"line\": 5}}"),
            format!("Analysis...\n{{\"vulnerable\": true, \"cwe\": \"cwe-{number}\", \"line\": 4}} done"),
            format!("{{\"vulnerable\": \"yes\", \"cwe\": {number}, \"line\": \"5\"}}"),
        ] {
            assert!(grade(&vuln, &right).pass, "{cwe}: {right}");
        }
        for wrong in [
            "{\"vulnerable\": true, \"cwe\": \"CWE-1\", \"line\": 5}".to_string(),
            format!("{{\"vulnerable\": true, \"cwe\": \"{cwe}\", \"line\": 9}}"),
            "{\"vulnerable\": false, \"cwe\": null, \"line\": null}".to_string(),
            "vulnerable".to_string(),
        ] {
            assert!(!grade(&vuln, &wrong).pass, "{cwe}: {wrong} passed");
        }
        assert!(grade(&clean, "{\"vulnerable\": false, \"cwe\": null, \"line\": null}").pass);
        assert!(!grade(&clean, &format!("{{\"vulnerable\": true, \"cwe\": \"{cwe}\", \"line\": 5}}")).pass);
    }
}

#[test]
fn pair_scores_count_only_both_halves() {
    let set = synth(&fixture(), None);
    let grades: Vec<_> =
        set.tasks.iter().map(|t| grade(t, "{\"vulnerable\": true, \"cwe\": \"CWE-78\", \"line\": 1}")).collect();
    let pairs = task_synth::pair_scores(&set.tasks, &grades);
    assert!(!pairs.is_empty());
    // Calling everything vulnerable wins no pair.
    assert!(pairs.iter().all(|p| !p.pass && !p.clean_pass));
}

fn real_function_task() -> Task {
    let set = synth(&fixture(), None);
    set.tasks
        .into_iter()
        .find(|t| t.symbol == "check_range" && t.category == Category::CodeGeneration)
        .expect("check_range is a generation task")
}

#[test]
fn code_generation_right_and_wrong_answers() {
    let t = real_function_task();
    let right = "Here you go:\n```python\nfrom tinyvalidator.errors import ValidationError\n\n\
def check_range(field, value, minimum=None, maximum=None):\n    if minimum is not None and value < minimum:\n        return ValidationError(field, \"min\")\n    if maximum is not None and value > maximum:\n        return ValidationError(field, \"max\")\n    return None\n```\nThat's all.";
    let g = grade(&t, right);
    assert!(g.pass, "{g:?}");

    let cases = [
        ("unparseable", "I cannot do that."),
        ("unparseable", "```python\ndef check_range(field, value:\n```"),
        ("defines_name", "```python\ndef other(field, value, minimum=None, maximum=None):\n    return None\n```"),
        ("signature", "```python\ndef check_range(field, value, minimum, maximum=None):\n    return None\n```"),
        ("signature", "```python\ndef check_range(value, field, minimum=None, maximum=None):\n    return None\n```"),
        ("invented_modules", "```python\nimport validatorkit\ndef check_range(field, value, minimum=None, maximum=None):\n    return validatorkit.check(value)\n```"),
        ("invented_attributes", "```python\nfrom tinyvalidator.errors import RangeError\ndef check_range(field, value, minimum=None, maximum=None):\n    return RangeError(field)\n```"),
        ("invented_attributes", "```python\nfrom tinyvalidator import rules\ndef check_range(field, value, minimum=None, maximum=None):\n    return rules.check_bounds(field, value)\n```"),
        ("no_forbidden_sink", "```python\ndef check_range(field, value, minimum=None, maximum=None):\n    return eval('value < minimum')\n```"),
    ];
    for (component, answer) in cases {
        let g = grade(&t, answer);
        assert!(!g.pass, "{component}: passed: {answer}");
        let failed: Vec<&str> = g.components.iter().filter(|c| !c.pass).map(|c| c.name.as_str()).collect();
        let reason = g.reason.clone().unwrap_or_default();
        assert!(failed.contains(&component) || reason == component, "{component}: failed {failed:?}, reason {reason}");
    }
    let g = grade(&t, cases[7].1);
    assert_eq!(g.invented, ["tinyvalidator.rules.check_bounds"]);
    let g = grade(&t, cases[5].1);
    assert_eq!(g.invented, ["validatorkit"]);
    // Declared dependencies and the standard library resolve.
    let ok = "```python\nimport yaml\nimport json\ndef check_range(field, value, minimum=None, maximum=None):\n    return None\n```";
    assert!(grade(&t, ok).pass, "{:?}", grade(&t, ok));
}

#[test]
fn hostile_output_is_bounded_and_never_crashes() {
    let t = real_function_task();
    let u = task(Expected::CodeUnderstanding { line: Some(2), operator: None, original_line: None, pair: None });
    let huge = "{".repeat(5_000_000);
    let binary: String = (0..100_000u32).map(|i| char::from_u32(i % 0xD7FF).unwrap_or('?')).collect();
    let nested = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    for text in [huge.as_str(), binary.as_str(), nested.as_str(), "```python\n", "```", "\0\0\0", ""] {
        for task in [&t, &u] {
            let g = grade(task, text);
            assert!(!g.pass);
        }
    }
    // An answer past the bound is cut, so a late right answer does not count.
    let late = format!("{}{{\"line\": 2}}", " ".repeat(70 * 1024));
    assert!(!grade(&u, &late).pass);
}

/// Real outputs of Gemma 3 270M (llama.cpp, temperature 0) on the fixture
/// task set, recorded by `scripts/record-gemma-fixture.sh`; their grades are
/// snapshotted so grader changes show up as reviewable diffs.
#[test]
fn recorded_gemma_outputs_grade_stably() {
    let path = test_support::tools::workspace_root().join("tests/fixtures/gemma3-tinyvalidator-completions.json");
    let recorded: Vec<(String, String)> = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let set = synth(&fixture(), None);
    let grades: Vec<_> = recorded
        .iter()
        .map(|(id, text)| {
            grade(set.task(id).unwrap_or_else(|| panic!("recorded task {id} is not in the fixture set")), text)
        })
        .collect();
    assert_eq!(grades.len(), set.tasks.len());
    insta::assert_json_snapshot!("gemma3_fixture_grades", grades);
}
