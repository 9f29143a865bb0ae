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

/// Components that decide a bug-reproduction task.
const REPRODUCTION: &[&str] =
    &["answer", "parses", "defines_tests", "tampering", "not_copied", "passes_on_original", "fails_on_bug"];

/// One sandboxed run for a grade: its component, and whether it must pass.
struct Run {
    grade: usize,
    component: &'static str,
    must_pass: bool,
    deciding: &'static [&'static str],
    job: TestJob,
}

/// Grades every completion of a run. Generation tasks with execution
/// evidence get a `tests` component, bug-reproduction tasks a run of the
/// answer's tests on the original and on the bug, all through `oracle` in one
/// parallel batch; without an oracle those components fail as not run, never
/// silently.
pub fn grade_completions(set: &TaskSet, completions: &[Completion], oracle: Option<&dyn TestOracle>) -> Vec<Grade> {
    let mut grades = Vec::new();
    let mut runs: Vec<Run> = Vec::new();
    let surface = oracle.and_then(|o| o.api_surface()).unwrap_or_else(|| super::apis::stdlib_surface());
    let fail = |g: &mut Grade, name: &str, detail: String, deciding: &[&str]| {
        g.components.push(Component { name: name.into(), pass: false, detail });
        settle(g, deciding);
    };
    for c in completions {
        let Some(task) = set.task(&c.task_id) else { continue };
        let mut g = grade_completion(task, c, surface);
        let at = grades.len();
        match (task.category, &task.evidence) {
            (Category::CodeGeneration, Evidence::Execution { tests }) => {
                g.similarity = oracle.and_then(|o| recall(task, c, o));
                let job = match oracle {
                    None => Err("not run: no test environment was given for this execution-verified task".to_string()),
                    Some(o) => job(task, c, tests, o),
                };
                match job {
                    // In a renamed repository the parameter names are part of
                    // what must be written: recall gives the old ones.
                    Ok(Job::Run { job, dropped }) if set.novelty.is_some() && failed(&g, "signature") => {
                        let _ = (job, dropped);
                        let detail = g.components.iter().find(|c| c.name == "signature").map(|c| c.detail.clone());
                        fail(
                            &mut g,
                            "tests",
                            format!(
                                "not run: the signature differs from the one asked for ({})",
                                detail.unwrap_or_default()
                            ),
                            DECIDING,
                        );
                    }
                    Ok(Job::Run { job, dropped }) => {
                        if !dropped.is_empty() {
                            g.components.push(Component {
                                name: "spliced".into(),
                                pass: true,
                                detail: format!("not run: {}", dropped.join("; ")),
                            });
                        }
                        runs.push(Run { grade: at, component: "tests", must_pass: true, deciding: DECIDING, job });
                    }
                    Ok(Job::Tampering(found)) => {
                        let detail = found.join("; ");
                        g.components.push(Component { name: "tampering".into(), pass: false, detail: detail.clone() });
                        fail(&mut g, "tests", format!("not run: tampering: {detail}"), DECIDING);
                    }
                    Err(why) => fail(&mut g, "tests", why, DECIDING),
                }
            }
            (Category::BugReproduction, Evidence::Execution { tests }) if g.components.iter().all(|c| c.pass) => {
                let jobs = oracle
                    .ok_or_else(|| "not run: no test environment was given".to_string())
                    .and_then(|o| super::reproduction::jobs(task, c, tests, o));
                match jobs {
                    Ok(super::reproduction::Jobs::Run { original, mutant, checks }) => {
                        g.components.extend(checks);
                        let run = |component, must_pass, job| Run {
                            grade: at,
                            component,
                            must_pass,
                            deciding: REPRODUCTION,
                            job,
                        };
                        runs.push(run("passes_on_original", true, original));
                        runs.push(run("fails_on_bug", false, mutant));
                    }
                    Ok(super::reproduction::Jobs::Refused(checks)) => {
                        g.components.extend(checks);
                        settle(&mut g, REPRODUCTION);
                    }
                    Err(why) => fail(&mut g, "passes_on_original", why, REPRODUCTION),
                }
            }
            (Category::BugReproduction, Evidence::Execution { .. }) => settle(&mut g, REPRODUCTION),
            (Category::BugReproduction, _) => {
                fail(&mut g, "passes_on_original", "not run: no test settled this task".into(), REPRODUCTION)
            }
            _ => {}
        }
        grades.push(g);
    }
    // A bug-reproduction answer runs on the original only when it fails on
    // the bug: most answers that understand nothing pass everywhere, and one
    // run tells.
    let (later, now): (Vec<Run>, Vec<Run>) = runs.into_iter().partition(|r| r.component == "passes_on_original");
    for (phase, runs) in [now, later].into_iter().enumerate() {
        let runs: Vec<&Run> = runs
            .iter()
            .filter(|r| phase == 0 || grades[r.grade].components.iter().any(|c| c.name == "fails_on_bug" && c.pass))
            .collect();
        let Some(oracle) = oracle.filter(|_| !runs.is_empty()) else { continue };
        let batch: Vec<TestJob> = runs.iter().map(|r| r.job.clone()).collect();
        for (r, outcome) in runs.iter().zip(oracle.run(&batch)) {
            let n = outcome.failed.len();
            let shown: Vec<&str> = outcome.failed.iter().take(3).map(String::as_str).collect();
            let more = if n > 3 { format!(" (+{} more)", n - 3) } else { String::new() };
            let (pass, detail) = match (&outcome.aborted, n, r.must_pass) {
                (Some(why), _, _) => (false, why.clone()),
                (None, 0, true) => (true, "every test passed".to_string()),
                (None, 0, false) => (false, "every test passed: the bug goes unnoticed".to_string()),
                (None, n, true) => (false, format!("{n} tests failed: {}{more}", shown.join(", "))),
                (None, n, false) => (true, format!("{n} tests failed, as they should: {}{more}", shown.join(", "))),
            };
            let g = &mut grades[r.grade];
            if !outcome.tampering.is_empty() && !g.components.iter().any(|c| c.name == "tampering") {
                let detail = outcome.tampering.join("; ");
                g.components.push(Component { name: "tampering".into(), pass: false, detail });
            }
            g.components.push(Component {
                name: r.component.into(),
                pass: pass && outcome.tampering.is_empty(),
                detail,
            });
            settle(g, r.deciding);
        }
    }
    // Not run on the original because the bug went unnoticed: say so.
    for g in grades.iter_mut() {
        let bugged = g.components.iter().any(|c| c.name == "fails_on_bug");
        if bugged && !g.components.iter().any(|c| c.name == "passes_on_original") {
            g.components.push(Component {
                name: "passes_on_original".into(),
                pass: false,
                detail: "not run: the tests do not fail on the bug".into(),
            });
            settle(g, REPRODUCTION);
        }
    }
    grades
}

/// Whether `g` has a component `name` that failed.
fn failed(g: &Grade, name: &str) -> bool {
    g.components.iter().any(|c| c.name == name && !c.pass)
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
    let job = TestJob {
        file: task.file.clone(),
        text: s.text,
        tests: tests.to_vec(),
        answer_lines: s.answer_lines,
        added: None,
    };
    Ok(Job::Run { job, dropped: s.dropped })
}
