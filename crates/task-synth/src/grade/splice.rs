//! Putting a generation answer in place of the original, so that only the
//! function runs (decision 0020): the wanted function takes the original's
//! place under the original's decorators; its imports, literal constants and
//! helper functions whose definitions cannot run code go to module level;
//! everything else the answer wrote at module level is dropped unrun and
//! recorded. Module-level code would run when the module is imported, before
//! any test, where nothing in the answer has any business running.

use py_ast_meta::answer::{layout, tampering, Def, Item, ItemKind};
use py_ast_meta::ExtractRules;

use crate::text::{indent_of, line, replace_lines, snippet};

/// Decorators a helper may keep: they wrap, they do not run the helper.
const HELPER_DECORATORS: &[&str] =
    &["staticmethod", "classmethod", "property", "cache", "lru_cache", "cached_property", "wraps", "total_ordering"];

/// The file with the answer in place.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Spliced {
    /// The new file text.
    pub text: String,
    /// Lines of `text` that came from the answer (first, last).
    pub answer_lines: Vec<[u32; 2]>,
    /// What of the answer was not spliced, one phrase each.
    pub dropped: Vec<String>,
    /// What in the kept code attacks the grader (`line N: ...`, answer lines).
    pub tampering: Vec<String>,
}

/// Splices the answer `code`'s definition of `name` (a method of `class`
/// when given) over lines `span` of `original`.
pub(crate) fn splice(
    original: &str,
    span: [u32; 2],
    code: &str,
    name: &str,
    class: Option<&str>,
) -> Result<Spliced, String> {
    let items =
        layout(code).map_err(|e| format!("not run: the answer does not parse (line {}: {})", e.line, e.error))?;
    let answer: Vec<&str> = code.lines().collect();
    let text_of = |start: u32, end: u32| -> Vec<String> {
        answer[start as usize - 1..(end as usize).min(answer.len())].iter().map(|l| l.to_string()).collect()
    };
    let (target_item, target, siblings) =
        find(&items, name, class).ok_or_else(|| format!("not run: the answer defines no `{name}`"))?;

    // What the original's definition evaluates itself may stay as it is.
    let original_snippet = snippet(original, span[0], span[1]).join("\n") + "\n";
    let original_def = layout(&original_snippet).ok().and_then(|items| {
        items.into_iter().find_map(|it| match it.kind {
            ItemKind::Function(d) => Some(d),
            _ => None,
        })
    });
    let allowed_live = original_def.as_ref().map(|d| d.live.clone()).unwrap_or_default();
    if let Some((what, src)) = target.live.iter().find(|l| !allowed_live.contains(l)) {
        return Err(format!(
            "not run: the {what} (`{src}`) would run when the module is imported; keep the original signature"
        ));
    }
    let mut dropped = Vec::new();
    let original_decorators: Vec<String> = original
        .lines()
        .skip(span[0] as usize - 1)
        .take_while(|l| l.trim_start().starts_with('@'))
        .map(str::to_string)
        .collect();
    if !target.decorators.is_empty() && original_def.as_ref().is_none_or(|d| d.decorators != target.decorators) {
        dropped.push(format!("its decorators ({}), replaced by the original's", target.decorators.join(", ")));
    }
    let indent = indent_of(line(original, span[0]));
    let reindent = |lines: Vec<String>| -> Vec<String> {
        let cut =
            lines.iter().filter(|l| !l.trim().is_empty()).map(|l| l.len() - l.trim_start().len()).min().unwrap_or(0);
        lines
            .into_iter()
            .map(|l| if l.trim().is_empty() { String::new() } else { format!("{indent}{}", &l[cut.min(l.len())..]) })
            .collect()
    };
    // The method's own lines, then helper methods the class does not have yet.
    let mut kept_spans: Vec<[u32; 2]> = vec![[target.def_line, target.end_line]];
    let mut new_lines: Vec<String> = original_decorators.clone();
    let def_at = new_lines.len();
    new_lines.extend(reindent(text_of(target.def_line, target.end_line)));
    let mut answer_rel: Vec<[usize; 2]> = vec![[def_at, new_lines.len()]];
    if let (Some(siblings), Some(k)) = (&siblings, class) {
        let existing = existing_members(original, k);
        for m in siblings.iter().filter(|m| m.name != name) {
            match helper_ok(m) {
                Err(why) => dropped.push(format!("method `{}` ({why})", m.name)),
                Ok(()) if existing.contains(&m.name) => {
                    dropped.push(format!("method `{}` (the class already has one; it stays the original)", m.name))
                }
                Ok(()) => {
                    new_lines.push(String::new());
                    let from = new_lines.len();
                    new_lines.extend(reindent(text_of(m.start_line, m.end_line)));
                    answer_rel.push([from, new_lines.len()]);
                    kept_spans.push([m.start_line, m.end_line]);
                }
            }
        }
    }
    let mut out = replace_lines(original, span[0], span[1], &new_lines);
    let mut answer_lines: Vec<[u32; 2]> =
        answer_rel.iter().filter(|[a, b]| b > a).map(|[a, b]| [span[0] + *a as u32, span[0] + *b as u32 - 1]).collect();

    // Module level: imports, literal constants and inert helpers, in the answer's order.
    let mut tail: Vec<String> = Vec::new();
    for (i, it) in items.iter().enumerate() {
        if i == target_item {
            if let (ItemKind::Class { name: c, .. }, Some(_)) = (&it.kind, &siblings) {
                if class.is_none_or(|k| k == c) {
                    continue;
                }
            }
            if matches!(it.kind, ItemKind::Function(_)) {
                continue;
            }
        }
        let keep = match &it.kind {
            ItemKind::Import { .. } | ItemKind::Constant { .. } => true,
            ItemKind::Function(d) => match helper_ok(d) {
                Ok(()) => true,
                Err(why) => {
                    dropped.push(format!("function `{}` ({why})", d.name));
                    false
                }
            },
            ItemKind::Class { name, .. } => {
                dropped.push(format!("class `{name}` (a class body runs when the module is imported)"));
                false
            }
            ItemKind::Other { what } => {
                dropped.push(format!("line {}: {what}", it.start_line));
                false
            }
        };
        if keep {
            tail.extend(text_of(it.start_line, it.end_line));
            kept_spans.push([it.start_line, it.end_line]);
        }
    }
    if !tail.is_empty() {
        out.push_str("\n\n# The answer's imports, constants and helpers, at module level.\n");
        let first = out.lines().count() as u32 + 1;
        out.push_str(&tail.join("\n"));
        out.push('\n');
        answer_lines.push([first, first + tail.len() as u32 - 1]);
    }

    // Tampering in what is kept, less what the original itself does.
    let own: Vec<String> = tampering(&original_snippet).unwrap_or_default().into_iter().map(|(_, w)| w).collect();
    let tampering = tampering(code)
        .unwrap_or_default()
        .into_iter()
        .filter(|(l, w)| kept_spans.iter().any(|[a, b]| a <= l && l <= b) && !own.contains(w))
        .map(|(l, w)| format!("line {l}: {w}"))
        .collect();
    Ok(Spliced { text: out, answer_lines, dropped, tampering })
}

/// The wanted definition: a top-level function, or a method of the class
/// (with the class's other methods), and the item it is in.
fn find(items: &[Item], name: &str, class: Option<&str>) -> Option<(usize, Def, Option<Vec<Def>>)> {
    let top = items.iter().enumerate().find_map(|(i, it)| match &it.kind {
        ItemKind::Function(d) if d.name == name => Some((i, d.clone(), None)),
        _ => None,
    });
    top.or_else(|| {
        items.iter().enumerate().find_map(|(i, it)| match &it.kind {
            ItemKind::Class { name: c, methods } if class.is_none_or(|k| k == c) => {
                methods.iter().find(|m| m.name == name).map(|m| (i, m.clone(), Some(methods.clone())))
            }
            _ => None,
        })
    })
}

/// The token similarity of the answer's definition of `name` to the
/// original's (lines `span` of `original`), decorators left out of both.
pub(crate) fn similarity(original: &str, span: [u32; 2], code: &str, name: &str, class: Option<&str>) -> Option<f64> {
    let own = |text: &str, name: &str, class: Option<&str>| -> Option<String> {
        let items = layout(text).ok()?;
        let (_, d, _) = find(&items, name, class)?;
        let lines: Vec<&str> = text.lines().collect();
        let def: Vec<String> = lines
            .get(d.def_line as usize - 1..(d.end_line as usize).min(lines.len()))?
            .iter()
            .map(|l| l.to_string())
            .collect();
        let cut =
            def.iter().filter(|l| !l.trim().is_empty()).map(|l| l.len() - l.trim_start().len()).min().unwrap_or(0);
        Some(def.iter().map(|l| l.get(cut..).unwrap_or("")).collect::<Vec<_>>().join("\n") + "\n")
    };
    let original_snippet = snippet(original, span[0], span[1]).join("\n") + "\n";
    let theirs = own(code, name, class)?;
    let ours = own(&original_snippet, name, None)?;
    py_ast_meta::similarity::code_similarity(&ours, &theirs)
}

/// Whether a helper's definition runs nothing of the answer's when the
/// module (or class) is imported.
fn helper_ok(d: &Def) -> Result<(), String> {
    if let Some((what, src)) = d.live.first() {
        return Err(format!("its {what} `{src}` would run at import"));
    }
    for dec in &d.decorators {
        let callee = dec.split('(').next().unwrap_or(dec).trim();
        let last = callee.rsplit('.').next().unwrap_or(callee);
        if !d.decorators_plain || !HELPER_DECORATORS.contains(&last) {
            return Err(format!("decorator `@{dec}` would run at import"));
        }
    }
    Ok(())
}

/// The names class `name` of `original` defines as methods.
fn existing_members(original: &str, name: &str) -> Vec<String> {
    py_ast_meta::parse_module("<original>", original, &ExtractRules::default())
        .ok()
        .and_then(|m| m.classes.into_iter().find(|c| c.name == name))
        .map(|c| c.methods.into_iter().map(|m| m.name).collect())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    const ORIGINAL: &str = "import os\n\nclass A:\n    @staticmethod\n    def f(x):\n        return x + 1\n\n    def g(self):\n        return 2\n";

    #[test]
    fn splices_a_method_given_as_a_function_with_helpers() {
        let code = "import math\n\ndef helper(y):\n    return y * 2\n\ndef f(x):\n    return helper(x)\n";
        let s = splice(ORIGINAL, [4, 6], code, "f", Some("A")).unwrap();
        assert!(
            s.text.contains("    @staticmethod\n    def f(x):\n        return helper(x)\n\n    def g(self):"),
            "{}",
            s.text
        );
        assert!(s.text.ends_with("import math\ndef helper(y):\n    return y * 2\n"), "{}", s.text);
        assert!(s.dropped.is_empty() && s.tampering.is_empty(), "{s:?}");
        let lines: Vec<&str> = s.text.lines().collect();
        for [a, b] in &s.answer_lines {
            assert!(a <= b && (*b as usize) <= lines.len(), "{s:?}");
        }
        assert_eq!(lines[s.answer_lines[0][0] as usize - 1], "    def f(x):");
    }

    #[test]
    fn splices_a_method_inside_its_class_and_drops_the_class() {
        let code = "class A:\n    @staticmethod\n    def f(x):\n        return x - 1\n";
        let s = splice(ORIGINAL, [4, 6], code, "f", Some("A")).unwrap();
        assert_eq!(s.text, ORIGINAL.replace("x + 1", "x - 1"));
        assert!(splice(ORIGINAL, [4, 6], "def h():\n    pass\n", "f", Some("A")).unwrap_err().contains("no `f`"));
    }

    #[test]
    fn module_level_code_is_dropped_and_recorded() {
        let code = "import sys\nsys.modules['x'] = None\nprint('patched')\n\n@register\ndef helper():\n    pass\n\ndef f(x):\n    return x\n";
        let s = splice(ORIGINAL, [4, 6], code, "f", Some("A")).unwrap();
        assert!(!s.text.contains("patched") && !s.text.contains("sys.modules") && !s.text.contains("register"));
        assert!(s.dropped.iter().any(|d| d.starts_with("line 2: an assignment")), "{:?}", s.dropped);
        assert!(s.dropped.iter().any(|d| d.starts_with("line 3: an expression")), "{:?}", s.dropped);
        assert!(s.dropped.iter().any(|d| d.contains("`@register`")), "{:?}", s.dropped);
        // What was dropped never runs, so it is not counted as tampering.
        assert!(s.tampering.is_empty(), "{s:?}");
    }

    #[test]
    fn a_default_that_runs_code_is_refused_unless_the_original_has_it() {
        let code = "def f(x=__import__('os')._exit(0)):\n    return x\n";
        let e = splice(ORIGINAL, [4, 6], code, "f", Some("A")).unwrap_err();
        assert!(e.contains("default of `x`"), "{e}");
        let original = "def f(x=make()):\n    return x\n";
        assert!(splice(original, [1, 2], "def f(x=make()):\n    return 2\n", "f", None).is_ok());
    }

    #[test]
    fn similarity_compares_the_definitions_alone() {
        let copy = "import os\n\nclass A:\n    @staticmethod\n    def f(x):\n        \"\"\"Doc.\"\"\"\n        return x + 1  # same\n";
        assert_eq!(similarity(ORIGINAL, [4, 6], copy, "f", Some("A")), Some(1.0));
        let other = "def f(x):\n    return x - 2\n";
        let s = similarity(ORIGINAL, [4, 6], other, "f", Some("A")).unwrap();
        assert!(s < 1.0 && s > 0.5, "{s}");
        assert_eq!(similarity(ORIGINAL, [4, 6], "def g():\n    pass\n", "f", None), None);
    }

    #[test]
    fn kept_code_that_attacks_the_grader_is_tampering() {
        let code = "import sys\n\ndef f(x):\n    sys.modules['_pytest.reports'].TestReport = None\n    return x\n";
        let s = splice(ORIGINAL, [4, 6], code, "f", Some("A")).unwrap();
        assert!(s.tampering.iter().any(|t| t.starts_with("line 4: uses the module table")), "{s:?}");
    }
}
