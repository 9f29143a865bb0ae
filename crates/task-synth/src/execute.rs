//! Grading by execution: a generation answer is spliced in place of the
//! original function in a fresh copy of the snapshot, and the tests that
//! execute the original must all pass.

use bench_core::{Category, Completion, Component, Evidence, Expected, Grade, Task, TaskSet, TestJob, TestOracle};
use py_ast_meta::ExtractRules;

use crate::answer::{bounded, python_block};
use crate::context::{indent_of, line, replace_lines};
use crate::grade::{grade_completion, settle};

/// Components that decide an execution-graded generation task; the other
/// structural components stay as diagnostics.
const DECIDING: &[&str] = &["answer", "parses", "defines_name", "tests", "no_forbidden_sink"];

/// Grades every completion of a run. Generation tasks with execution
/// evidence get a `tests` component, run through `oracle` in one parallel
/// batch; without an oracle that component fails as not run, never silently.
pub fn grade_completions(set: &TaskSet, completions: &[Completion], oracle: Option<&dyn TestOracle>) -> Vec<Grade> {
    let mut grades = Vec::new();
    let mut jobs: Vec<(usize, TestJob)> = Vec::new();
    let surface = oracle.and_then(|o| o.api_surface()).unwrap_or_else(|| crate::apis::stdlib_surface());
    for c in completions {
        let Some(task) = set.task(&c.task_id) else { continue };
        let mut g = grade_completion(task, c, surface);
        if let (Category::CodeGeneration, Evidence::Execution { tests }) = (task.category, &task.evidence) {
            let job = match oracle {
                None => Err("not run: no test environment was given for this execution-verified task".to_string()),
                Some(o) => job(task, c, tests, o),
            };
            match job {
                Ok(job) => jobs.push((grades.len(), job)),
                Err(why) => {
                    g.components.push(Component { name: "tests".into(), pass: false, detail: why });
                    settle(&mut g, DECIDING);
                }
            }
        }
        grades.push(g);
    }
    if let Some(oracle) = oracle.filter(|_| !jobs.is_empty()) {
        let batch: Vec<TestJob> = jobs.iter().map(|(_, j)| j.clone()).collect();
        for ((i, job), outcome) in jobs.iter().zip(oracle.run(&batch)) {
            let detail = match (&outcome.aborted, outcome.failed.len()) {
                (Some(why), _) => why.clone(),
                (None, 0) => format!("{} tests passed", job.tests.len()),
                (None, n) => {
                    let shown: Vec<&str> = outcome.failed.iter().take(3).map(String::as_str).collect();
                    let more = if n > 3 { format!(" (+{} more)", n - 3) } else { String::new() };
                    format!("{n} of {} tests failed: {}{more}", job.tests.len(), shown.join(", "))
                }
            };
            let g = &mut grades[*i];
            g.components.push(Component { name: "tests".into(), pass: outcome.passed(), detail });
            settle(g, DECIDING);
        }
    }
    grades
}

fn job(task: &Task, c: &Completion, tests: &[String], oracle: &dyn TestOracle) -> Result<TestJob, String> {
    if let Some(e) = &c.error {
        return Err(format!("not run: no answer ({e})"));
    }
    let Expected::CodeGeneration { name, class, .. } = &task.expected else {
        return Err("not run: not a generation task".into());
    };
    let original = oracle.file(&task.file).ok_or_else(|| format!("not run: {} is not in the snapshot", task.file))?;
    let code = python_block(&bounded(&c.text)).ok_or("not run: no Python code block")?;
    let text = splice(original, task.span, &code, name, class.as_deref())?;
    Ok(TestJob { file: task.file.clone(), text, tests: tests.to_vec() })
}

/// `original` with lines `span` replaced by the answer's definition of
/// `name` (re-indented to the original's place; the original's decorators
/// kept when the answer gives none), and the rest of the answer (its imports
/// and helpers) appended at module level.
pub(crate) fn splice(
    original: &str,
    span: [u32; 2],
    code: &str,
    name: &str,
    class: Option<&str>,
) -> Result<String, String> {
    let meta = py_ast_meta::parse_module("<answer>", code, &ExtractRules::default())
        .map_err(|e| format!("not run: the answer does not parse (line {})", e.line))?;
    let top = meta.functions.iter().find(|f| f.name == name).map(|f| (f, [f.start_line, f.end_line]));
    let (f, taken) = top
        .or_else(|| {
            meta.classes
                .iter()
                .filter(|c| class.is_none_or(|n| c.name == n))
                .find_map(|c| c.methods.iter().find(|m| m.name == name).map(|m| (m, [c.start_line, c.end_line])))
        })
        .ok_or_else(|| format!("not run: the answer defines no `{name}`"))?;
    let answer: Vec<&str> = code.lines().collect();
    let def: Vec<&str> = answer[f.start_line as usize - 1..(f.end_line as usize).min(answer.len())].to_vec();
    let cut = def.iter().filter(|l| !l.trim().is_empty()).map(|l| l.len() - l.trim_start().len()).min().unwrap_or(0);
    let indent = indent_of(line(original, span[0]));
    let mut new: Vec<String> = Vec::new();
    if f.decorators.is_empty() {
        let decorators = original.lines().skip(span[0] as usize - 1).take_while(|l| l.trim_start().starts_with('@'));
        new.extend(decorators.map(str::to_string));
    }
    new.extend(def.iter().map(|l| {
        if l.trim().is_empty() {
            String::new()
        } else {
            format!("{indent}{}", &l[cut.min(l.len())..])
        }
    }));
    let mut out = replace_lines(original, span[0], span[1], &new);
    let rest: Vec<&str> = answer
        .iter()
        .enumerate()
        .filter(|(i, _)| !(taken[0] as usize - 1..taken[1] as usize).contains(i))
        .map(|(_, l)| *l)
        .collect();
    if rest.iter().any(|l| !l.trim().is_empty()) {
        out.push_str("\n\n# The rest of the answer (imports and helpers), at module level.\n");
        out.push_str(&rest.join("\n"));
        out.push('\n');
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const ORIGINAL: &str = "import os\n\nclass A:\n    @staticmethod\n    def f(x):\n        return x + 1\n\n    def g(self):\n        return 2\n";

    #[test]
    fn splices_a_method_given_as_a_function_with_helpers() {
        let code = "import math\n\ndef helper(y):\n    return y * 2\n\ndef f(x):\n    return helper(x)\n";
        let out = splice(ORIGINAL, [4, 6], code, "f", Some("A")).unwrap();
        assert!(
            out.contains("    @staticmethod\n    def f(x):\n        return helper(x)\n\n    def g(self):"),
            "{out}"
        );
        assert!(out.ends_with("import math\n\ndef helper(y):\n    return y * 2\n\n"), "{out}");
    }

    #[test]
    fn splices_a_method_inside_its_class_and_drops_the_class() {
        let code = "class A:\n    @staticmethod\n    def f(x):\n        return x - 1\n";
        let out = splice(ORIGINAL, [4, 6], code, "f", Some("A")).unwrap();
        assert_eq!(out, ORIGINAL.replace("x + 1", "x - 1"));
        assert!(splice(ORIGINAL, [4, 6], "def h():\n    pass\n", "f", Some("A")).unwrap_err().contains("no `f`"));
    }
}
