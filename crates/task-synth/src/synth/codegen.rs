//! `code_generation`: write a real function from its requirement, signature and
//! the module's head imports.

use bench_core::{Category, Expected, Prompt, Tier};
use py_ast_meta::{ClassSig, FunctionSig, Import, ModuleMeta};

use super::context::Context;
use super::select::Candidate;
use crate::draft::{Check, Draft, Pending};
use crate::sinks::find_sinks;
use crate::text::{indent_of, line, replace_lines, snippet};

const SYSTEM: &str = "You are an expert Python developer working inside an existing repository. \
Answer with exactly one fenced ```python code block containing the requested function, and nothing else.";

pub(crate) fn candidates(cx: &Context<'_>) -> Vec<Candidate<Vec<Pending>>> {
    let rules = &cx.rules.code_generation;
    let mut out = Vec::new();
    for m in cx.library_modules() {
        let repo_names = cx.repo_names(m);
        let text = cx.text(&m.path);
        for (symbol, class, f) in m.callables() {
            let dunder = f.name.starts_with("__") && f.name.ends_with("__");
            if f.statements < rules.min_statements || (dunder && f.name != "__init__") {
                continue;
            }
            let used: Vec<&String> = f
                .names_used
                .iter()
                .filter(|n| {
                    repo_names.contains(n.as_str())
                        || class.is_some_and(|c| {
                            n.strip_prefix("self.")
                                .or(n.strip_prefix("cls."))
                                .is_some_and(|a| c.methods.iter().any(|x| x.name == a))
                        })
                })
                .collect();
            // Without a requirement in words there is nothing to implement
            // from but the name: not a generation task.
            let Some(doc) = f.docstring.as_deref().filter(|d| usable_requirement(d)) else { continue };
            let doc = Some(doc);
            let score = f.statements + 3 * used.len() + if doc.is_some() { 0 } else { 8 };
            let tier = Tier::from_index(rules.tier_thresholds.iter().filter(|t| score >= **t).count());
            let tier_rule = format!(
                "score {score} = {} statements + 3 x {} repository names + {} (docstring {}); thresholds {:?}",
                f.statements,
                used.len(),
                if doc.is_some() { 0 } else { 8 },
                if doc.is_some() { "present" } else { "absent" },
                rules.tier_thresholds
            );
            let original = snippet(text, f.start_line, f.end_line).join("\n");
            let original_sinks: Vec<String> = find_sinks(&original).into_iter().map(|s| s.name).collect();
            // The file with a `return None` body (docstring kept): a test must tell it from the real one.
            let Some(&body) = f.body_lines.first() else { continue };
            let first = line(text, body).trim_start();
            if first.starts_with("def ") || first.starts_with("async def ") {
                continue;
            }
            let stub = replace_lines(text, body, f.end_line, &[format!("{}return None", indent_of(line(text, body)))]);
            let context = class.map(|c| class_context(text, c, f));
            let prompt = prompt(m, class, context.as_deref(), f, doc, &used, rules);
            let expected = Expected::CodeGeneration {
                name: f.name.clone(),
                signature: f.signature.clone(),
                params: f
                    .params
                    .iter()
                    .map(|p| (p.name.clone(), p.kind.as_str().to_string(), p.default.is_some()))
                    .collect(),
                class: class.map(|c| c.name.clone()),
                standalone: used.is_empty(),
                api: cx.api.clone(),
                head_bindings: head_bindings(&m.imports, &m.module),
                declared_dependencies: cx.declared.clone(),
                forbidden_sinks: rules.forbidden_sinks.clone(),
                original_sinks,
            };
            out.push(Candidate {
                tier,
                file: m.path.clone(),
                symbol: symbol.clone(),
                rank: cx.rank(&m.path, &format!("code_generation|{symbol}")),
                item: vec![Pending {
                    draft: Draft {
                        category: Category::CodeGeneration,
                        tier,
                        tier_rule,
                        file: m.path.clone(),
                        symbol,
                        span: [f.start_line, f.end_line],
                        prompt,
                        expected,
                        evidence: bench_core::Evidence::Structural,
                    },
                    check: Check::StubFails { file: m.path.clone(), text: stub, def_line: f.start_line },
                }],
            });
        }
    }
    out
}

/// What each head import binds, with relative imports resolved against `module`.
pub(crate) fn head_bindings(imports: &[Import], module: &str) -> Vec<(String, String, Option<String>)> {
    imports
        .iter()
        .map(|i| {
            let absolute = if i.level > 0 {
                let parts: Vec<&str> = module.split('.').collect();
                let keep = parts.len().saturating_sub(i.level as usize);
                let base = parts[..keep].join(".");
                match (base.is_empty(), i.module.is_empty()) {
                    (true, _) => i.module.clone(),
                    (false, true) => base,
                    (false, false) => format!("{base}.{}", i.module),
                }
            } else {
                i.module.clone()
            };
            let bound = i.bound().to_string();
            let module = if i.name.is_none() && i.alias.is_none() {
                absolute.split('.').next().unwrap_or_default().to_string()
            } else {
                absolute
            };
            (bound, module, i.name.clone())
        })
        .collect()
}

pub(crate) fn render_import(i: &Import) -> String {
    let alias = i.alias.as_ref().map(|a| format!(" as {a}")).unwrap_or_default();
    match &i.name {
        None => format!("import {}{alias}", i.module),
        Some(n) => format!("from {}{} import {n}{alias}", ".".repeat(i.level as usize), i.module),
    }
}

/// Whether a docstring states a requirement in words: at least four words
/// once literal schemas (`{...}`, `[...]`) are taken out.
fn usable_requirement(doc: &str) -> bool {
    let mut depth = 0usize;
    let prose: String = doc
        .chars()
        .filter(|c| {
            match c {
                '{' | '[' => depth += 1,
                '}' | ']' => depth = depth.saturating_sub(1),
                _ => return depth == 0,
            }
            false
        })
        .collect();
    prose.split_whitespace().filter(|w| w.chars().filter(|c| c.is_alphabetic()).count() >= 2).count() >= 4
}

/// What a method's code needs of its class: the class line, the attributes
/// `__init__` sets, and the other methods' signatures (bodies elided).
fn class_context(text: &str, c: &ClassSig, f: &FunctionSig) -> String {
    let mut out = vec![c.signature.clone()];
    let attributes: Vec<String> = c
        .methods
        .iter()
        .filter(|m| m.name == "__init__")
        .flat_map(|init| snippet(text, init.start_line, init.end_line))
        .filter_map(|l| {
            let rest = l.trim_start().strip_prefix("self.")?;
            let name: String = rest.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
            let after = rest[name.len()..].trim_start();
            (!name.is_empty() && (after.starts_with(':') || (after.starts_with('=') && !after.starts_with("=="))))
                .then_some(name)
        })
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .map(|a| format!("self.{a}"))
        .collect();
    if !attributes.is_empty() {
        out.push(format!("    # set in __init__: {}", attributes.join(", ")));
    }
    for sibling in c.methods.iter().filter(|m| m.start_line != f.start_line).take(60) {
        for d in &sibling.decorators {
            out.push(format!("    {d}"));
        }
        out.push(format!("    {} ...", sibling.signature));
    }
    out.join("\n")
}

fn prompt(
    m: &ModuleMeta,
    class: Option<&ClassSig>,
    context: Option<&str>,
    f: &FunctionSig,
    doc: Option<&str>,
    used: &[&String],
    rules: &crate::rules::CodegenRules,
) -> Prompt {
    let mut u = String::new();
    u.push_str(&format!("Repository file: `{}` (module `{}`).\n\n", m.path, m.module));
    if m.imports.is_empty() {
        u.push_str("The module has no imports at its head.\n\n");
    } else {
        u.push_str("The module's head imports (in scope for your code):\n```python\n");
        for i in &m.imports {
            u.push_str(&render_import(i));
            u.push('\n');
        }
        u.push_str("```\n\n");
    }
    if let Some(context) = context {
        u.push_str("The class it belongs to, as far as your code needs it (other bodies elided):\n```python\n");
        u.push_str(context);
        u.push_str("\n```\n\n");
    }
    match class {
        Some(c) => u.push_str(&format!(
            "Implement the method `{}` of `{}` with exactly this signature (write it inside `{}` or as a top-level function with the same parameters):\n",
            f.name, c.signature, format_args!("class {}:", c.name)
        )),
        None => u.push_str(&format!("Implement the function `{}` with exactly this signature:\n", f.name)),
    }
    u.push_str("```python\n");
    for d in &f.decorators {
        u.push_str(d);
        u.push('\n');
    }
    u.push_str(&f.signature);
    u.push_str("\n```\n\n");
    match doc {
        Some(d) => {
            u.push_str("Requirement (the function's docstring):\n\"\"\"\n");
            u.push_str(d);
            u.push_str("\n\"\"\"\n\n");
        }
        None => {
            u.push_str(&format!(
                "Requirement: the function has no docstring. Write `{}` so that it does what its name, its parameters and its module imply",
                f.name
            ));
            if used.is_empty() {
                u.push_str(".\n\n");
            } else {
                let names: Vec<&str> = used.iter().map(|s| s.as_str()).collect();
                u.push_str(&format!(
                    "; the real implementation uses these repository names: {}.\n\n",
                    names.join(", ")
                ));
            }
        }
    }
    let sinks: Vec<String> = rules
        .forbidden_sinks
        .iter()
        .map(|s| if s == "subprocess-shell" { "subprocess with shell=True".to_string() } else { format!("`{s}`") })
        .collect();
    u.push_str("Constraints:\n");
    u.push_str(
        "- Import only the standard library, this repository's own modules, or the project's declared dependencies.\n",
    );
    u.push_str("- Use only functions and attributes that really exist in those modules; do not invent APIs.\n");
    u.push_str(&format!("- Do not use {}.\n", sinks.join(", ")));
    u.push_str("- Keep the exact signature above.\n");
    Prompt { system: SYSTEM.to_string(), user: u }
}
