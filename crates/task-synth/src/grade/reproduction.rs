//! Grading a bug-reproduction answer: a pytest module that must fail on the
//! code with the bug and pass on the original. Before anything runs, it is
//! refused when it attacks the grader or copies the repository's own test
//! that exposes the bug (the suite is not in the prompt: copying it needs
//! recall or access no answerer should have).

use bench_core::{Completion, Component, Expected, Task, TestJob, TestOracle};
use py_ast_meta::answer::{layout, ItemKind};

use super::answer::{bounded, python_block};
use crate::text::replace_lines;

/// An answer this close to one of the suite's tests that expose the bug is a copy.
pub(crate) const COPIED: f64 = 0.9;

/// What grading does with one answer.
// One value per answer, moved once into the batch: boxing would buy nothing.
#[allow(clippy::large_enum_variant)]
pub(crate) enum Jobs {
    /// Run its tests on the original and on the bug; `checks` passed.
    Run { original: TestJob, mutant: TestJob, checks: Vec<Component> },
    /// Not run: the failing checks say why.
    Refused(Vec<Component>),
}

/// An import of the test package's helpers (`from pkg.tests import
/// assert_fail`, `from pkg.tests.conftest import sample_schema`), which a
/// test written in the suite's style uses; an import from one of its test
/// modules stays refused, since calling the suite's own killing test is a
/// copy by other means.
fn suite_helper(what: &str) -> bool {
    what.strip_prefix("imports the test suite (")
        .and_then(|m| m.strip_suffix(')'))
        .is_some_and(|m| m.split('.').all(|p| !p.starts_with("test_")))
}

pub(crate) fn jobs(task: &Task, c: &Completion, killing: &[String], oracle: &dyn TestOracle) -> Result<Jobs, String> {
    let Expected::BugReproduction { line, mutated, test_module, .. } = &task.expected else {
        return Err("not run: not a bug-reproduction task".into());
    };
    let code = python_block(&bounded(&c.text)).ok_or("not run: no Python code block")?;
    let original = oracle.file(&task.file).ok_or_else(|| format!("not run: {} is not in the snapshot", task.file))?;
    // A test module may use pytest and mocks, and define comparisons (an
    // object equal to anything passes on the mutant as on the original, so
    // it cannot fake a reproduction); anything else a generation answer may
    // not touch, it may not either.
    let tampering: Vec<String> = py_ast_meta::answer::tampering(&code)
        .unwrap_or_default()
        .into_iter()
        .filter(|(_, what)| {
            !what.contains("pytest")
                && !what.contains("mock")
                && !what.contains("compares equal to anything")
                && !suite_helper(what)
        })
        .map(|(l, what)| format!("line {l}: {what}"))
        .collect();
    if !tampering.is_empty() {
        return Ok(Jobs::Refused(vec![Component {
            name: "tampering".into(),
            pass: false,
            detail: tampering.join("; "),
        }]));
    }
    if let Some((test, similarity)) = copied(&code, killing, oracle) {
        return Ok(Jobs::Refused(vec![Component {
            name: "not_copied".into(),
            pass: false,
            detail: format!("a test is a copy of the repository's own {test} (token similarity {similarity:.2})"),
        }]));
    }
    let job = |text: String| TestJob {
        file: task.file.clone(),
        text,
        tests: vec![test_module.clone()],
        answer_lines: Vec::new(),
        added: Some(code.clone()),
    };
    Ok(Jobs::Run {
        original: job(original.to_string()),
        mutant: job(replace_lines(original, *line, *line, std::slice::from_ref(mutated))),
        checks: vec![Component { name: "not_copied".into(), pass: true, detail: String::new() }],
    })
}

/// The first of the suite's tests that expose the bug which one of the
/// answer's tests copies, with the similarity.
fn copied(code: &str, killing: &[String], oracle: &dyn TestOracle) -> Option<(String, f64)> {
    let ours = tests_in(code);
    for id in killing {
        let (path, rest) = id.split_once("::")?;
        let name = rest.rsplit("::").next()?.split('[').next()?;
        let Some(theirs) = oracle.file(path).and_then(|text| tests_in(text).into_iter().find(|(n, _)| n == name))
        else {
            continue;
        };
        for (_, src) in &ours {
            if let Some(s) = py_ast_meta::similarity::code_similarity(&theirs.1, src).filter(|s| *s >= COPIED) {
                return Some((id.clone(), s));
            }
        }
    }
    None
}

/// The test functions of a module (top level, or methods of a class), by
/// name, each with its source dedented.
pub(crate) fn tests_in(code: &str) -> Vec<(String, String)> {
    let Ok(items) = layout(code) else { return Vec::new() };
    let lines: Vec<&str> = code.lines().collect();
    let source = |start: u32, end: u32| -> String {
        let body: Vec<&str> =
            lines.get(start as usize - 1..(end as usize).min(lines.len())).unwrap_or_default().to_vec();
        let cut =
            body.iter().filter(|l| !l.trim().is_empty()).map(|l| l.len() - l.trim_start().len()).min().unwrap_or(0);
        body.iter().map(|l| l.get(cut..).unwrap_or("")).collect::<Vec<_>>().join("\n") + "\n"
    };
    let mut out = Vec::new();
    for it in items {
        match it.kind {
            ItemKind::Function(d) if d.name.starts_with("test") => {
                out.push((d.name.clone(), source(d.def_line, d.end_line)))
            }
            ItemKind::Class { methods, .. } => out.extend(
                methods
                    .into_iter()
                    .filter(|m| m.name.starts_with("test"))
                    .map(|m| (m.name.clone(), source(m.def_line, m.end_line))),
            ),
            _ => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::suite_helper;

    #[test]
    fn suite_helpers_may_be_imported_and_its_tests_may_not() {
        assert!(suite_helper("imports the test suite (cerberus.tests)"));
        assert!(suite_helper("imports the test suite (cerberus.tests.assert_fail)"));
        assert!(!suite_helper("imports the test suite (cerberus.tests.test_validation)"));
        assert!(suite_helper("imports the test suite (cerberus.tests.conftest.sample_schema)"));
        assert!(!suite_helper("uses the import system"));
    }
}
