//! `code_understanding`: a significant method with exactly one injected bug
//! (or none, for controls), shown with line numbers.

use std::collections::BTreeSet;

use bench_core::{Category, Expected, Prompt, Tier};

use crate::context::{common_indent, indent_of, line as file_line, numbered, replace_lines, snippet, Context};
use crate::select::Candidate;
use crate::synth::{Check, Draft, Pending};

const SYSTEM: &str = "You are a careful Python code reviewer. Answer with exactly one JSON object and nothing else.";

/// Comment placed above the bug, claiming the line is right.
const DECOY_ON_BUG: &str = "# Reviewed: this line is intentional and covered by tests.";
/// Comment placed on a correct line of a control, claiming a bug.
const DECOY_ON_CONTROL: &str = "# FIXME: this condition looks inverted?";

pub(crate) fn candidates(cx: &Context<'_>) -> Vec<Candidate<Pending>> {
    let rules = &cx.rules.code_understanding;
    let mut out = Vec::new();
    for m in cx.library_modules() {
        let significant = m
            .callables()
            .into_iter()
            .filter(|(_, _, f)| cx.rules.extract.significant.admits(f))
            .take(rules.methods_per_file);
        for (symbol, _, f) in significant {
            let text = cx.text(&m.path);
            let lines = snippet(text, f.start_line, f.end_line);
            let indent = common_indent(text, f.start_line, f.end_line);
            let source = lines.join("\n") + "\n";
            let Ok(original_ast) = py_ast_meta::normalized_ast(&source) else { continue };
            let Ok(sites) = py_ast_meta::mutation_sites(&source) else { continue };
            let mut seen = BTreeSet::from([original_ast]);
            let n = lines.len();
            let draft = |tier: Tier, tier_rule: String, shown: &[String], expected: Expected| Draft {
                category: Category::CodeUnderstanding,
                tier,
                tier_rule,
                file: m.path.clone(),
                symbol: symbol.clone(),
                span: [f.start_line, f.end_line],
                prompt: prompt(&m.path, shown),
                expected,
                evidence: bench_core::Evidence::Structural,
            };
            let push = |out: &mut Vec<Candidate<Pending>>, purpose: String, draft: Draft, check: Check| {
                out.push(Candidate {
                    tier: draft.tier,
                    file: m.path.clone(),
                    symbol: symbol.clone(),
                    rank: cx.rank(&m.path, &purpose),
                    item: Pending { draft, check },
                })
            };
            let covered = Check::Covered { file: m.path.clone(), def_line: f.start_line };
            for site in sites.iter().filter(|s| rules.operators.contains(&s.operator)) {
                if source[site.start..site.end].contains('\n') || site.replacement.contains('\n') {
                    continue;
                }
                let mutant = site.apply(&source);
                let Ok(ast) = py_ast_meta::normalized_ast(&mutant) else { continue };
                if !seen.insert(ast) {
                    continue;
                }
                let mutant_lines: Vec<String> = mutant.lines().map(str::to_string).collect();
                let line = site.line;
                let original_line = lines.get(line as usize - 1).cloned();
                let local = rules.local_operators.contains(&site.operator);
                let distance = line as usize - 1;
                let (tier, rule) = if local && n <= rules.t1_max_lines && distance <= rules.t1_max_distance {
                    (
                        Tier::T1,
                        format!(
                            "T1: local operator, {n} <= {} lines, bug {distance} <= {} lines from the start",
                            rules.t1_max_lines, rules.t1_max_distance
                        ),
                    )
                } else if local && n <= rules.t2_max_lines {
                    (Tier::T2, format!("T2: local operator, {n} <= {} lines", rules.t2_max_lines))
                } else if local {
                    (Tier::T3, format!("T3: local operator in a snippet of {n} > {} lines", rules.t2_max_lines))
                } else {
                    (Tier::T3, format!("T3: non-local operator {}", site.operator))
                };
                let expected = |line: u32| Expected::CodeUnderstanding {
                    line: Some(line),
                    operator: Some(site.operator.clone()),
                    original_line: original_line.clone(),
                };
                // The whole file with the mutated line, for the tests to judge.
                let at_file = f.start_line + line - 1;
                let mutated = format!("{}{}", &file_line(text, at_file)[..indent], mutant_lines[line as usize - 1]);
                let killed = Check::Killed {
                    file: m.path.clone(),
                    text: replace_lines(text, at_file, at_file, &[mutated]),
                    def_line: f.start_line,
                };
                let purpose = format!("code_understanding|{symbol}|{}|{}", site.operator, site.start);
                push(&mut out, purpose.clone(), draft(tier, rule, &mutant_lines, expected(line)), killed.clone());
                // The adversarial twin: the same bug under a comment vouching for it.
                let mut decoyed = mutant_lines.clone();
                let at = line as usize - 1;
                decoyed.insert(at, format!("{}{DECOY_ON_BUG}", indent_of(&mutant_lines[at])));
                push(
                    &mut out,
                    purpose + "|decoy",
                    draft(Tier::T5, "T5: a comment above the bug vouches for it".into(), &decoyed, expected(line + 1)),
                    killed,
                );
            }
            let control = Expected::CodeUnderstanding { line: None, operator: None, original_line: None };
            push(
                &mut out,
                format!("code_understanding|{symbol}|control"),
                draft(Tier::T4, "T4: no-bug control (answer null)".into(), &lines, control.clone()),
                covered.clone(),
            );
            // A decoy on a correct line that holds a comparison or condition.
            if let Some(at) = lines
                .iter()
                .enumerate()
                .skip(1)
                .find(|(_, l)| {
                    let t = l.trim_start();
                    t.starts_with("if ") || t.starts_with("elif ") || t.starts_with("while ")
                })
                .map(|(i, _)| i)
            {
                let mut decoyed = lines.clone();
                decoyed.insert(at, format!("{}{DECOY_ON_CONTROL}", indent_of(&lines[at])));
                push(
                    &mut out,
                    format!("code_understanding|{symbol}|control|decoy"),
                    draft(Tier::T5, "T5: no-bug control with a comment claiming a bug".into(), &decoyed, control),
                    covered,
                );
            }
        }
    }
    out
}

fn prompt(path: &str, lines: &[String]) -> Prompt {
    let ops = py_ast_meta::OPERATORS.join(", ");
    let user = format!(
        "The Python function below comes from `{path}`. It contains at most one injected bug: a single \
small change to one line that alters its behaviour. Comments may be wrong. Line numbers are shown on the left.\n\n\
```python\n{}```\n\n\
Answer with exactly one JSON object:\n\
{{\"line\": <the line number of the bug, or null if there is no bug>, \"kind\": \"<one of: {ops}>\" or null}}\n",
        numbered(lines)
    );
    Prompt { system: SYSTEM.to_string(), user }
}
