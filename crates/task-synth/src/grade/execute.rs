//! Grading by execution: a generation answer is spliced in place of the
//! original function in a fresh copy of the snapshot, and the tests that
//! execute the original must all pass.

use bench_core::{Category, Completion, Component, Evidence, Expected, Grade, Task, TaskSet, TestJob, TestOracle};

use super::answer::{bounded, python_block};
use super::splice::splice;
use super::{grade_completion, settle};

/// Components that decide an execution-graded generation task; the other
/// structural components stay as diagnostics.
const DECIDING: &[&str] = &["answer", "parses", "defines_name", "tests", "no_forbidden_sink", "tampering"];

/// Grades every completion of a run. Generation tasks with execution
/// evidence get a `tests` component, run through `oracle` in one parallel
/// batch; without an oracle that component fails as not run, never silently.
pub fn grade_completions(set: &TaskSet, completions: &[Completion], oracle: Option<&dyn TestOracle>) -> Vec<Grade> {
    let mut grades = Vec::new();
    let mut jobs: Vec<(usize, TestJob)> = Vec::new();
    let surface = oracle.and_then(|o| o.api_surface()).unwrap_or_else(|| super::apis::stdlib_surface());
    for c in completions {
        let Some(task) = set.task(&c.task_id) else { continue };
        let mut g = grade_completion(task, c, surface);
        if let (Category::CodeGeneration, Evidence::Execution { tests }) = (task.category, &task.evidence) {
            g.similarity = oracle.and_then(|o| recall(task, c, o));
            let job = match oracle {
                None => Err("not run: no test environment was given for this execution-verified task".to_string()),
                Some(o) => job(task, c, tests, o),
            };
            match job {
                Ok(Job::Run { job, dropped }) => {
                    if !dropped.is_empty() {
                        g.components.push(Component {
                            name: "spliced".into(),
                            pass: true,
                            detail: format!("not run: {}", dropped.join("; ")),
                        });
                    }
                    jobs.push((grades.len(), job));
                }
                Ok(Job::Tampering(found)) => {
                    let detail = found.join("; ");
                    g.components.push(Component { name: "tampering".into(), pass: false, detail: detail.clone() });
                    g.components.push(Component {
                        name: "tests".into(),
                        pass: false,
                        detail: format!("not run: tampering: {detail}"),
                    });
                    settle(&mut g, DECIDING);
                }
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
            if !outcome.tampering.is_empty() {
                let detail = outcome.tampering.join("; ");
                g.components.push(Component { name: "tampering".into(), pass: false, detail });
            }
            g.components.push(Component { name: "tests".into(), pass: outcome.passed(), detail });
            settle(g, DECIDING);
        }
    }
    grades
}

/// The answer's similarity to the original function, when both parse.
fn recall(task: &Task, c: &Completion, oracle: &dyn TestOracle) -> Option<f64> {
    let Expected::CodeGeneration { name, class, .. } = &task.expected else { return None };
    let code = python_block(&bounded(&c.text))?;
    super::splice::similarity(oracle.file(&task.file)?, task.span, &code, name, class.as_deref())
}

/// What grading does with one answer.
enum Job {
    /// Run the tests with the answer spliced in; `dropped` is what of it was left out.
    Run { job: TestJob, dropped: Vec<String> },
    /// Do not run it: the code that would run attacks the grader.
    Tampering(Vec<String>),
}

fn job(task: &Task, c: &Completion, tests: &[String], oracle: &dyn TestOracle) -> Result<Job, String> {
    if let Some(e) = &c.error {
        return Err(format!("not run: no answer ({e})"));
    }
    let Expected::CodeGeneration { name, class, .. } = &task.expected else {
        return Err("not run: not a generation task".into());
    };
    let original = oracle.file(&task.file).ok_or_else(|| format!("not run: {} is not in the snapshot", task.file))?;
    let code = python_block(&bounded(&c.text)).ok_or("not run: no Python code block")?;
    let s = splice(original, task.span, &code, name, class.as_deref())?;
    if !s.tampering.is_empty() {
        return Ok(Job::Tampering(s.tampering));
    }
    let job = TestJob { file: task.file.clone(), text: s.text, tests: tests.to_vec(), answer_lines: s.answer_lines };
    Ok(Job::Run { job, dropped: s.dropped })
}
