//! `bug_reproduction` (SWT-bench style): a significant function with one
//! injected bug, shown in its module and class context; the answer is a
//! pytest module that fails on the code shown and passes on the intended
//! behaviour. There is no line to point at: the model must find the bug and
//! drive the package to expose it. Ground truth is the repository's own
//! tests killing the mutant; grading runs the answer's tests on the original
//! and on the mutant.

use bench_core::{Category, Expected, Prompt, Tier};

use super::codegen::{class_context, render_import};
use super::context::Context;
use super::select::Candidate;
use super::understanding::{mutants, significant};
use crate::draft::{Draft, Pending};

const SYSTEM: &str = "You are an expert Python developer who writes precise regression tests. \
Answer with exactly one fenced ```python code block containing a pytest test module, and nothing else.";

/// Candidates, one per killable mutant; `test_module` is where the answer
/// goes (the suite's test directory).
pub(crate) fn candidates(cx: &Context<'_>, test_module: &str) -> Vec<Candidate<Vec<Pending>>> {
    let mut out = Vec::new();
    for m in cx.library_modules() {
        let text = cx.text(&m.path);
        for (symbol, class, f) in significant(cx, m) {
            for mu in mutants(cx, m, &symbol, f) {
                // Local one-token bugs are T4; bugs that change the flow are T5.
                let (tier, rule) = if mu.tier == Tier::T4 {
                    (Tier::T5, format!("T5: write the test that exposes a non-local bug ({})", mu.operator))
                } else {
                    (Tier::T4, format!("T4: write the test that exposes a local bug ({})", mu.operator))
                };
                let context = class.map(|c| class_context(text, c, f));
                let mut u = format!("Repository file: `{}` (module `{}`).\n\n", m.path, m.module);
                if !m.imports.is_empty() {
                    u.push_str("The module's head imports:\n```python\n");
                    for i in &m.imports {
                        u.push_str(&render_import(i));
                        u.push('\n');
                    }
                    u.push_str("```\n\n");
                }
                if let Some(context) = &context {
                    u.push_str("The class it belongs to (other bodies elided):\n```python\n");
                    u.push_str(context);
                    u.push_str("\n```\n\n");
                }
                u.push_str(&format!(
                    "The function `{}` below has one injected bug: a small change to one line that alters its behaviour. \
                     It is shown as the repository now holds it, bug included:\n```python\n{}\n```\n\n\
                     Write a pytest test module that exposes the bug: at least one of its tests must fail on the code as \
                     shown, and every one must pass once the bug is fixed. The module is placed in the repository's test \
                     directory (`{}`) and run by pytest there; import what you need from the package (`{}`). Do not \
                     change the package, and do not rely on anything but its public behaviour.\n",
                    f.name,
                    mu.lines.join("\n"),
                    test_module.rsplit_once('/').map_or(".", |(d, _)| d),
                    m.module
                ));
                let purpose = format!("bug_reproduction|{}", mu.purpose);
                let draft = Draft {
                    category: Category::BugReproduction,
                    tier,
                    tier_rule: rule,
                    file: m.path.clone(),
                    symbol: symbol.clone(),
                    span: [f.start_line, f.end_line],
                    prompt: Prompt { system: SYSTEM.to_string(), user: u },
                    expected: Expected::BugReproduction {
                        name: f.name.clone(),
                        class: class.map(|c| c.name.clone()),
                        line: mu.at_file,
                        mutated: mu.mutated.clone(),
                        operator: mu.operator.clone(),
                        test_module: test_module.to_string(),
                    },
                    evidence: bench_core::Evidence::Structural,
                };
                out.push(Candidate {
                    tier,
                    file: m.path.clone(),
                    symbol: symbol.clone(),
                    rank: cx.rank(&m.path, &purpose),
                    item: vec![Pending { draft, check: mu.killed }],
                });
            }
        }
    }
    out
}
