//! The recall probe (decision 0022): how much of the repository a model
//! remembers, measured before any score is read. For each generation target
//! the model sees only the file's path and the lines just before the
//! function, no docstring and no requirement, and is asked to continue the
//! file; what it writes is compared with the original function.

use std::collections::{BTreeMap, BTreeSet};

use bench_core::{Category, Expected, TaskSet};
use ollama_runner::{Backend, Request, RunSpec};
use result_store::{Probe, Store};

use crate::EvalError;

/// Lines of the file shown before the function.
const CONTEXT_LINES: usize = 40;

const SYSTEM: &str = "You continue source files exactly as they are in their repository. \
Answer with one fenced ```python code block holding the next lines of the file, and nothing else.";

/// The probe's prompt for the function at lines `span` of `text`.
pub fn prompt(path: &str, text: &str, span: [u32; 2]) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let end = (span[0] as usize).saturating_sub(1).min(lines.len());
    let start = end.saturating_sub(CONTEXT_LINES);
    let n = (span[1] + 1 - span[0]) as usize;
    format!(
        "This is `{path}` of a Python repository, from line {} to line {end}:\n\n```python\n{}\n```\n\n\
         Continue the file: write the next {n} lines exactly as they appear in the repository.\n",
        start + 1,
        lines[start..end].join("\n")
    )
}

/// Probes every generation task of `set` not yet probed in `run`, one
/// request at a time under the run's options, and stores each continuation
/// with its similarity to the original function. `files` holds the
/// snapshot's text by path. Returns the probes of the run.
pub async fn probe_recall<B: Backend + Sync>(
    backend: &B,
    set: &TaskSet,
    spec: &RunSpec,
    store: &Store,
    run: i64,
    files: &BTreeMap<String, String>,
) -> Result<Vec<Probe>, EvalError> {
    let done: BTreeSet<String> = store.probes(run).await?.into_iter().map(|p| p.task_id).collect();
    for t in set.tasks.iter().filter(|t| t.category == Category::CodeGeneration && !done.contains(&t.id)) {
        let Expected::CodeGeneration { name, .. } = &t.expected else { continue };
        let Some(text) = files.get(&t.file) else {
            return Err(EvalError::Probe { task: t.id.clone(), reason: format!("{} is not in the snapshot", t.file) });
        };
        let request = Request::new(&spec.model, SYSTEM, &prompt(&t.file, text, t.span), &spec.options);
        let original = text
            .lines()
            .skip(t.span[0] as usize - 1)
            .take((t.span[1] + 1 - t.span[0]) as usize)
            .collect::<Vec<_>>()
            .join("\n");
        let probe = match backend.complete(&request, spec.timeout).await {
            Ok(reply) => {
                let code = fenced(&reply.text).unwrap_or(&reply.text);
                let similarity =
                    py_ast_meta::similarity::continuation_similarity(&dedent(&original), &dedent(code), name);
                Probe { task_id: t.id.clone(), text: reply.text, similarity: Some(similarity), error: None }
            }
            Err(e) => Probe {
                task_id: t.id.clone(),
                text: String::new(),
                similarity: None,
                error: Some(bench_core::error_chain(&e)),
            },
        };
        store.put_probe(run, &probe).await?;
    }
    Ok(store.probes(run).await?)
}

/// The body of the first fenced block, if any (an unclosed one runs to the end).
fn fenced(text: &str) -> Option<&str> {
    let open = text.find("```")?;
    let body = &text[open + 3..];
    let body = &body[body.find('\n')? + 1..];
    Some(body.find("```").map_or(body, |close| &body[..close]))
}

/// `code` with the indentation of its first code line removed from every line.
fn dedent(code: &str) -> String {
    let indent = code.lines().find(|l| !l.trim().is_empty()).map_or(0, |l| l.len() - l.trim_start().len());
    code.lines().map(|l| l.get(indent..).unwrap_or(l.trim_start())).collect::<Vec<_>>().join("\n") + "\n"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_prompt_shows_only_the_lines_before_the_function() {
        let text = "import os\n\n\ndef f(x):\n    \"\"\"Doc.\"\"\"\n    return x\n";
        let p = prompt("pkg/m.py", text, [4, 6]);
        assert!(p.contains("from line 1 to line 3") && p.contains("import os") && !p.contains("def f"), "{p}");
        assert!(p.contains("next 3 lines"), "{p}");
        assert_eq!(fenced("ok\n```python\ndef f():\n    pass\n```\n"), Some("def f():\n    pass\n"));
        assert_eq!(dedent("    def f():\n        pass"), "def f():\n    pass\n");
    }
}
