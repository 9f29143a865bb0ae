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
            let needed = needed_names(m, class, f, &repo_names, text);
            let prompt = prompt(m, class, context.as_deref(), &needed, f, doc, &used, rules);
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

/// The repository names `f`'s body uses beyond its own parameters and the
/// module's imports: attributes of the class (`self.x`, `cls.x`) other than
/// its methods and what `__init__` sets, attributes of the repository's
/// modules (`errors.X`), and the module's other functions (by signature),
/// classes and globals. A prompt shows what the context does not, so that a
/// task asks for the logic, not for the names: on a renamed set nobody could
/// guess them, and on a private repository a new colleague could not either.
pub(super) fn needed_names(
    m: &ModuleMeta,
    class: Option<&ClassSig>,
    f: &FunctionSig,
    repo_names: &std::collections::BTreeSet<String>,
    text: &str,
) -> Vec<String> {
    let init_attributes = class.map(|c| class_context(text, c, f)).unwrap_or_default();
    let mut out = Vec::new();
    for n in &f.names_used {
        match n.split_once('.') {
            Some((root @ ("self" | "cls"), attr)) => {
                let Some(c) = class else { continue };
                let method = c.methods.iter().any(|x| x.name == attr);
                let set_in_init = init_attributes.contains(&format!("self.{attr}"));
                if !(method || set_in_init || attr.starts_with("__") && attr.ends_with("__")) {
                    out.push(format!("{root}.{attr}"));
                }
            }
            Some((root, attr)) => {
                let imported = m.imports.iter().any(|i| i.bound() == root);
                if imported && repo_names.contains(root) && !attr.starts_with("__") {
                    out.push(n.clone());
                }
            }
            None if *n == f.name => {}
            None => {
                if let Some(g) = m.functions.iter().find(|g| g.name == *n) {
                    out.push(format!("{} ...", g.signature));
                } else if m.classes.iter().any(|c| c.name == *n) || m.assignments.contains(n) {
                    out.push(n.clone());
                }
            }
        }
    }
    out
}

/// What a method's code needs of its class: the class line, the attributes
/// `__init__` sets, and the other methods' signatures (bodies elided).
pub(super) fn class_context(text: &str, c: &ClassSig, f: &FunctionSig) -> String {
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

#[allow(clippy::too_many_arguments)]
fn prompt(
    m: &ModuleMeta,
    class: Option<&ClassSig>,
    context: Option<&str>,
    needed: &[String],
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
    // Only the names nothing above shows yet (the last part of a dotted name
    // standing as a whole word anywhere counts as shown).
    let shown = |n: &str| {
        let name = n.trim_start_matches("def ").trim_start_matches("async def ");
        let name = name.split(['(', ' ']).next().unwrap_or(name);
        let last = name.rsplit('.').next().unwrap_or(name);
        u.match_indices(last).any(|(at, _)| {
            let before = u[..at].chars().next_back().is_some_and(|c| c.is_alphanumeric() || c == '_');
            let after = u[at + last.len()..].chars().next().is_some_and(|c| c.is_alphanumeric() || c == '_');
            !before && !after
        })
    };
    let unshown: Vec<&String> = needed.iter().filter(|n| !shown(n)).collect();
    if !unshown.is_empty() {
        u.push_str("Repository names the real implementation uses that the context above does not show:\n```python\n");
        for n in unshown {
            u.push_str(n);
            u.push('\n');
        }
        u.push_str("```\n\n");
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
