//! `code_understanding`: a significant method with exactly one injected bug
//! (or none, for controls), shown with line numbers.

use std::collections::BTreeSet;

use bench_core::{Category, Expected, Prompt, Tier};

use super::context::Context;
use super::select::Candidate;
use crate::draft::{Check, Draft, Pending};
use crate::text::{common_indent, indent_of, line as file_line, numbered, replace_lines, snippet};

const SYSTEM: &str = "You are a careful Python code reviewer. Answer with exactly one JSON object and nothing else.";

/// Decoy comments: some vouch for a line, some raise doubt. One goes on a
/// line chosen by hash, so it sits on the bug only as often as chance puts it
/// there, and its wording says nothing about where the bug is.
const DECOYS: &[&str] = &[
    "# Reviewed: this line is intentional and covered by tests.",
    "# FIXME: this condition looks inverted?",
    "# Checked against the spec; do not change.",
    "# TODO: double-check this boundary.",
    "# NOTE: deliberate, see the tests.",
    "# XXX: suspicious, but the tests pass.",
];

/// A unit of selection: one task, or a no-bug control with the mutant of
/// the same function it is paired with.
type Unit = Vec<Pending>;

/// A mutant of one function, before it is placed in units.
pub(super) struct Mutant {
    pub tier: Tier,
    pub rule: String,
    /// The function's lines with the bug, dedented.
    pub lines: Vec<String>,
    /// The bug's line in `lines` (1-based).
    pub line: u32,
    /// The bug's line in the file, and that line as the file then holds it.
    pub at_file: u32,
    pub mutated: String,
    pub operator: String,
    pub expected: Expected,
    pub killed: Check,
    pub purpose: String,
}

/// The significant functions of `m` that mutants are made of, as the rules
/// take them.
pub(super) fn significant<'m>(
    cx: &Context<'_>,
    m: &'m py_ast_meta::ModuleMeta,
) -> impl Iterator<Item = (String, Option<&'m py_ast_meta::ClassSig>, &'m py_ast_meta::FunctionSig)> {
    let admits = cx.rules.extract.significant.clone();
    let take = cx.rules.code_understanding.methods_per_file;
    m.callables().into_iter().filter(move |(_, _, f)| admits.admits(f)).take(take)
}

/// Every distinct one-line mutant of `f` (of module `m`) under the rules'
/// operators, each with its tier and the check that the tests kill it.
pub(super) fn mutants(
    cx: &Context<'_>,
    m: &py_ast_meta::ModuleMeta,
    symbol: &str,
    f: &py_ast_meta::FunctionSig,
) -> Vec<Mutant> {
    let rules = &cx.rules.code_understanding;
    let text = cx.text(&m.path);
    let lines = snippet(text, f.start_line, f.end_line);
    let indent = common_indent(text, f.start_line, f.end_line);
    let source = lines.join("\n") + "\n";
    let Ok(original_ast) = py_ast_meta::mutation::normalized_ast(&source) else { return Vec::new() };
    let Ok(sites) = py_ast_meta::mutation::mutation_sites(&source) else { return Vec::new() };
    let mut seen = BTreeSet::from([original_ast]);
    let n = lines.len();
    let mut mutants = Vec::new();
    for site in sites.iter().filter(|s| rules.operators.contains(&s.operator)) {
        if source[site.start..site.end].contains('\n') || site.replacement.contains('\n') {
            continue;
        }
        let mutant = site.apply(&source);
        let Ok(ast) = py_ast_meta::mutation::normalized_ast(&mutant) else { continue };
        if !seen.insert(ast) {
            continue;
        }
        let mutant_lines: Vec<String> = mutant.lines().map(str::to_string).collect();
        let line = site.line;
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
            (Tier::T4, format!("T4: non-local operator {}", site.operator))
        };
        // The whole file with the mutated line, for the tests to judge.
        let at_file = f.start_line + line - 1;
        let mutated = format!("{}{}", &file_line(text, at_file)[..indent], mutant_lines[line as usize - 1]);
        mutants.push(Mutant {
            tier,
            rule,
            line,
            at_file,
            mutated: mutated.clone(),
            operator: site.operator.clone(),
            expected: Expected::CodeUnderstanding {
                line: Some(line),
                operator: Some(site.operator.clone()),
                original_line: lines.get(line as usize - 1).cloned(),
                pair: None,
            },
            killed: Check::Killed {
                file: m.path.clone(),
                text: replace_lines(text, at_file, at_file, &[mutated]),
                def_line: f.start_line,
            },
            purpose: format!("code_understanding|{symbol}|{}|{}", site.operator, site.start),
            lines: mutant_lines,
        });
    }
    mutants
}

pub(crate) fn candidates(cx: &Context<'_>) -> Vec<Candidate<Unit>> {
    let mut out = Vec::new();
    for m in cx.library_modules() {
        for (symbol, _, f) in significant(cx, m) {
            let lines = snippet(cx.text(&m.path), f.start_line, f.end_line);
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
            let push = |out: &mut Vec<Candidate<Unit>>, purpose: &str, tier: Tier, unit: Unit| {
                out.push(Candidate {
                    tier,
                    file: m.path.clone(),
                    symbol: symbol.clone(),
                    rank: cx.rank(&m.path, purpose),
                    item: unit,
                })
            };
            let mutants = mutants(cx, m, &symbol, f);
            let covered = Check::Covered { file: m.path.clone(), def_line: f.start_line };
            // Every unit is a pair: the mutant and a no-bug control of the same
            // function, shown alike; only both right count, so neither a
            // constant "no bug" nor a line guess can collect it.
            for mu in &mutants {
                let pair = |p: &str| {
                    bench_core::Hasher::new().field(cx.snapshot_id).field(&m.path).field(p).hex()[..16].to_string()
                };
                let control = |id: &str| Expected::CodeUnderstanding {
                    line: None,
                    operator: None,
                    original_line: None,
                    pair: Some(id.to_string()),
                };
                let Expected::CodeUnderstanding { operator, original_line, .. } = &mu.expected else { continue };
                let mutant = |line: u32, id: &str| Expected::CodeUnderstanding {
                    line: Some(line),
                    operator: operator.clone(),
                    original_line: original_line.clone(),
                    pair: Some(id.to_string()),
                };
                let unit = |tier: Tier,
                            rule: String,
                            control_lines: &[String],
                            mutant_lines: &[String],
                            line: u32,
                            id: &str| {
                    vec![
                        Pending {
                            draft: draft(tier, rule.clone(), control_lines, control(id)),
                            check: covered.clone(),
                        },
                        Pending { draft: draft(tier, rule, mutant_lines, mutant(line, id)), check: mu.killed.clone() },
                    ]
                };
                let id = pair(&format!("{}|pair", mu.purpose));
                let rule = format!("{}; paired with a no-bug control of the same function", mu.rule);
                push(&mut out, &mu.purpose, mu.tier, unit(mu.tier, rule, &lines, &mu.lines, mu.line, &id));
                // The decoyed pair: one comment, on a line chosen by hash, in both halves.
                let (at, comment) = decoy(cx, &m.path, &mu.purpose, &mu.lines);
                let (mut decoyed, mut decoyed_control) = (mu.lines.clone(), lines.clone());
                decoyed.insert(at, comment.clone());
                decoyed_control.insert(at, comment);
                let shifted = if mu.line as usize > at { mu.line + 1 } else { mu.line };
                let id = pair(&format!("{}|decoy", mu.purpose));
                let rule =
                    "T5: a decoy comment (wording and line chosen by hash) in a mutant and its paired no-bug control"
                        .to_string();
                push(
                    &mut out,
                    &format!("{}|decoy", mu.purpose),
                    Tier::T5,
                    unit(Tier::T5, rule, &decoyed_control, &decoyed, shifted, &id),
                );
            }
        }
    }
    out
}

/// Where a decoy comment goes (an index into `lines`, before a code line
/// other than the first) and its text, both chosen by hash.
fn decoy(cx: &Context<'_>, path: &str, purpose: &str, lines: &[String]) -> (usize, String) {
    let rank = cx.rank(path, &format!("{purpose}|decoy-place"));
    let code: Vec<usize> =
        (1..lines.len()).filter(|i| !lines[*i].trim().is_empty() && !lines[*i].trim_start().starts_with('#')).collect();
    let at =
        if code.is_empty() { lines.len().saturating_sub(1).max(1) } else { code[(rank % code.len() as u64) as usize] };
    let at = at.min(lines.len());
    let reference = lines.get(at).or(lines.last()).map(String::as_str).unwrap_or_default();
    let wording = DECOYS[((rank >> 16) % DECOYS.len() as u64) as usize];
    (at, format!("{}{wording}", indent_of(reference)))
}

fn prompt(path: &str, lines: &[String]) -> Prompt {
    let ops = py_ast_meta::mutation::OPERATORS.join(", ");
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
