//! Consistent renaming of identifiers across a repository (decision 0024):
//! what each module defines and what it must leave spelled as it is
//! ([`inventory`]), and the rewrite itself ([`apply`]): every name token,
//! names inside f-string expressions, and whole words in comments and
//! docstrings. Strings that code reads stay as they are; names that code
//! reaches through strings are left out by the caller, from the strings the
//! inventory lists.

use std::collections::{BTreeMap, BTreeSet};

use rustpython_ast::{self as ast, Ranged, Visitor};
use rustpython_parser::{lexer::lex, Mode, Parse, StringKind, Tok};

use crate::visit::dotted;
use crate::ParseFailure;

/// What one module defines, what it must leave alone, and what it spells.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Inventory {
    /// Names the module binds: functions, classes, methods, parameters,
    /// assignment and loop targets, attributes it assigns (`self.x = ...`).
    pub defined: BTreeSet<String>,
    /// Names it takes from outside the repository and must keep: what it
    /// imports from other distributions, and every attribute of a chain
    /// rooted at such an import.
    pub external: BTreeSet<String>,
    /// Keyword arguments by the last part of the callee's name
    /// (`("dumps", "indent")`): the caller decides which callees are outside.
    pub keywords: BTreeSet<(String, String)>,
    /// Every string literal's value.
    pub strings: BTreeSet<String>,
    /// Every identifier it spells.
    pub identifiers: BTreeSet<String>,
}

/// The inventory of one module; `local_roots` are the top-level package and
/// module names of the repository itself (an import of one is not external).
pub fn inventory(path: &str, text: &str, local_roots: &BTreeSet<String>) -> Result<Inventory, ParseFailure> {
    crate::guard::guarded(path, text, || {
        let suite = ast::Suite::parse(text, path).map_err(|e| ParseFailure::from_parser(path, text, &e))?;
        let mut v = Collect { inv: Inventory::default(), bound_external: BTreeSet::new(), local_roots };
        for s in &suite {
            v.imports(s);
        }
        for s in suite {
            v.visit_stmt(s);
        }
        Ok(v.inv)
    })
}

struct Collect<'r> {
    inv: Inventory,
    /// Names bound by imports from outside the repository.
    bound_external: BTreeSet<String>,
    local_roots: &'r BTreeSet<String>,
}

impl Collect<'_> {
    /// Imports anywhere in `s`, first, so chains resolve wherever they are.
    fn imports(&mut self, s: &ast::Stmt) {
        struct Imports<'c, 'r>(&'c mut Collect<'r>);
        impl Visitor for Imports<'_, '_> {
            fn visit_stmt(&mut self, node: ast::Stmt) {
                let c = &mut *self.0;
                match &node {
                    ast::Stmt::Import(i) => {
                        for a in &i.names {
                            let root = a.name.split('.').next().unwrap_or_default().to_string();
                            if !c.local_roots.contains(&root) {
                                c.inv.external.extend(a.name.split('.').map(String::from));
                                let bound = a.asname.as_ref().map_or(root, |n| n.to_string());
                                c.inv.external.insert(bound.clone());
                                c.bound_external.insert(bound);
                            }
                        }
                    }
                    ast::Stmt::ImportFrom(i) => {
                        let module = i.module.as_ref().map(|m| m.to_string()).unwrap_or_default();
                        let root = module.split('.').next().unwrap_or_default().to_string();
                        let local = i.level.is_some_and(|l| l.to_u32() > 0) || c.local_roots.contains(&root);
                        if !local {
                            c.inv.external.extend(module.split('.').map(String::from));
                            for a in &i.names {
                                c.inv.external.insert(a.name.to_string());
                                let bound = a.asname.as_ref().unwrap_or(&a.name).to_string();
                                c.inv.external.insert(bound.clone());
                                c.bound_external.insert(bound);
                            }
                        }
                    }
                    _ => {}
                }
                self.generic_visit_stmt(node)
            }
        }
        Imports(self).visit_stmt(s.clone());
    }

    fn params(&mut self, args: &ast::Arguments) {
        for a in args.posonlyargs.iter().chain(&args.args).chain(&args.kwonlyargs) {
            self.inv.defined.insert(a.def.arg.to_string());
        }
        for a in args.vararg.iter().chain(args.kwarg.iter()) {
            self.inv.defined.insert(a.arg.to_string());
        }
    }
}

impl Visitor for Collect<'_> {
    fn visit_stmt(&mut self, node: ast::Stmt) {
        match &node {
            ast::Stmt::FunctionDef(f) => {
                self.inv.defined.insert(f.name.to_string());
                self.params(&f.args);
            }
            ast::Stmt::AsyncFunctionDef(f) => {
                self.inv.defined.insert(f.name.to_string());
                self.params(&f.args);
            }
            ast::Stmt::ClassDef(c) => {
                self.inv.defined.insert(c.name.to_string());
            }
            ast::Stmt::Try(t) => {
                for h in &t.handlers {
                    let ast::ExceptHandler::ExceptHandler(h) = h;
                    if let Some(n) = &h.name {
                        self.inv.defined.insert(n.to_string());
                    }
                }
            }
            _ => {}
        }
        self.generic_visit_stmt(node)
    }

    fn visit_expr(&mut self, node: ast::Expr) {
        match &node {
            ast::Expr::Name(n) => {
                self.inv.identifiers.insert(n.id.to_string());
                if n.ctx == ast::ExprContext::Store {
                    self.inv.defined.insert(n.id.to_string());
                }
            }
            ast::Expr::Attribute(a) => {
                self.inv.identifiers.insert(a.attr.to_string());
                if a.ctx == ast::ExprContext::Store {
                    self.inv.defined.insert(a.attr.to_string());
                }
                if let Some(chain) = dotted(&node) {
                    let mut parts = chain.split('.');
                    if parts.next().is_some_and(|root| self.bound_external.contains(root)) {
                        self.inv.external.extend(parts.map(String::from));
                    }
                }
            }
            ast::Expr::Call(c) => {
                let callee = dotted(&c.func).unwrap_or_default();
                let last = callee.rsplit('.').next().unwrap_or_default().to_string();
                for k in &c.keywords {
                    if let Some(arg) = &k.arg {
                        self.inv.keywords.insert((last.clone(), arg.to_string()));
                    }
                }
            }
            ast::Expr::Lambda(l) => self.params(&l.args),
            ast::Expr::Constant(ast::ExprConstant { value: ast::Constant::Str(s), .. }) => {
                self.inv.strings.insert(s.clone());
            }
            _ => {}
        }
        self.generic_visit_expr(node)
    }

    crate::visit::visit_the_gaps!();

    fn visit_arguments(&mut self, node: ast::Arguments) {
        for a in node.posonlyargs.into_iter().chain(node.args).chain(node.kwonlyargs) {
            if let Some(d) = a.default {
                self.visit_expr(*d);
            }
        }
    }
}

/// `text` with every identifier in `map` renamed: name tokens, names in
/// f-string expressions, and whole words in comments and docstrings.
pub fn apply(text: &str, map: &BTreeMap<String, String>) -> Result<String, ParseFailure> {
    crate::guard::guarded("<rename>", text, || {
        let suite = ast::Suite::parse(text, "<rename>").map_err(|e| ParseFailure::from_parser("<rename>", text, &e))?;
        let mut docs = Vec::new();
        docstrings(&suite, &mut docs);
        let mut out = String::with_capacity(text.len());
        let mut at = 0;
        for t in lex(text, Mode::Module) {
            let (tok, range) = t.map_err(|e| ParseFailure {
                path: "<rename>".into(),
                line: crate::lines::Lines::new(text).line(e.location.to_usize()),
                error: e.error.to_string(),
            })?;
            let (start, end) = (range.start().to_usize(), range.end().to_usize());
            // Between tokens: whitespace and comments.
            out.push_str(&words(&text[at..start.max(at)], map));
            let raw = &text[start..end];
            match &tok {
                Tok::Name { name } => out.push_str(map.get(name).map_or(raw, String::as_str)),
                Tok::String { kind: StringKind::FString | StringKind::RawFString, .. } => {
                    out.push_str(&fstring(raw, map))
                }
                Tok::String { .. } if docs.contains(&start) => out.push_str(&words(raw, map)),
                _ => out.push_str(raw),
            }
            at = end.max(at);
        }
        out.push_str(&words(&text[at.min(text.len())..], map));
        Ok(out)
    })
}

/// Start offsets of every docstring's string token.
fn docstrings(body: &[ast::Stmt], out: &mut Vec<usize>) {
    if let Some(ast::Stmt::Expr(e)) = body.first() {
        if let ast::Expr::Constant(ast::ExprConstant { value: ast::Constant::Str(_), .. }) = e.value.as_ref() {
            out.push(e.range().start().to_usize());
        }
    }
    for s in body {
        match s {
            ast::Stmt::FunctionDef(f) => docstrings(&f.body, out),
            ast::Stmt::AsyncFunctionDef(f) => docstrings(&f.body, out),
            ast::Stmt::ClassDef(c) => docstrings(&c.body, out),
            _ => {}
        }
    }
}

/// Whole identifier-shaped words of `text` renamed.
fn words(text: &str, map: &BTreeMap<String, String>) -> String {
    if map.is_empty() || text.is_empty() {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len());
    let mut word = String::new();
    let flush = |word: &mut String, out: &mut String| {
        out.push_str(map.get(word.as_str()).map_or(word.as_str(), String::as_str));
        word.clear();
    };
    for c in text.chars() {
        if c.is_alphanumeric() || c == '_' {
            word.push(c);
        } else {
            flush(&mut word, &mut out);
            out.push(c);
        }
    }
    flush(&mut word, &mut out);
    out
}

/// An f-string literal with the names inside its `{...}` expressions
/// renamed (not in its literal text, and not in a format spec after a
/// top-level `:`). Nested string literals inside an expression are kept.
fn fstring(raw: &str, map: &BTreeMap<String, String>) -> String {
    let chars: Vec<char> = raw.chars().collect();
    let mut out = String::with_capacity(raw.len());
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '{' && chars.get(i + 1) == Some(&'{') {
            out.push_str("{{");
            i += 2;
            continue;
        }
        if c != '{' {
            out.push(c);
            i += 1;
            continue;
        }
        // One replacement field: names renamed until a top-level `!` or `:`.
        out.push('{');
        i += 1;
        let (mut depth, mut quote, mut in_expr) = (0usize, None::<char>, true);
        let mut word = String::new();
        while i < chars.len() {
            let c = chars[i];
            if let Some(q) = quote {
                out.push(c);
                if c == q {
                    quote = None;
                }
                i += 1;
                continue;
            }
            let ident = c.is_alphanumeric() || c == '_';
            if in_expr && ident {
                word.push(c);
                i += 1;
                continue;
            }
            if !word.is_empty() {
                // A plain name or an attribute after a dot: both renamed.
                out.push_str(map.get(word.as_str()).map_or(word.as_str(), String::as_str));
                word.clear();
            }
            match c {
                '\'' | '"' => quote = Some(c),
                '(' | '[' | '{' => depth += 1,
                ')' | ']' => depth = depth.saturating_sub(1),
                '}' if depth > 0 => depth -= 1,
                '}' => {
                    out.push('}');
                    i += 1;
                    break;
                }
                '!' if depth == 0 && chars.get(i + 1) != Some(&'=') => in_expr = false,
                ':' if depth == 0 => in_expr = false,
                _ => {}
            }
            out.push(c);
            i += 1;
        }
        if !word.is_empty() {
            out.push_str(map.get(word.as_str()).map_or(word.as_str(), String::as_str));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect()
    }

    #[test]
    fn inventory_tells_own_names_from_outside_ones() {
        let src = "import os\nfrom json import dumps as jd\nfrom .util import helper\n\nclass Box:\n    def put(self, item, *rest, **kw):\n        self.items = [item]\n        for n in rest:\n            total = n\n        return os.path.join(jd(item, indent=2), helper(x=1), 'put_')\n";
        let local = BTreeSet::from(["pkg".to_string()]);
        let inv = inventory("pkg/m.py", src, &local).unwrap();
        for name in ["Box", "put", "self", "item", "rest", "kw", "items", "n", "total"] {
            assert!(inv.defined.contains(name), "{name}: {:?}", inv.defined);
        }
        for name in ["os", "path", "join", "json", "dumps", "jd"] {
            assert!(inv.external.contains(name), "{name}: {:?}", inv.external);
        }
        assert!(!inv.external.contains("helper") && !inv.external.contains("util"));
        assert!(inv.keywords.contains(&("jd".into(), "indent".into())));
        assert!(inv.strings.contains("put_"));
    }

    #[test]
    fn apply_renames_tokens_fstrings_comments_and_docstrings_only() {
        let src = "def put(item):\n    \"\"\"Put an item; see put.\"\"\"\n    # put it here\n    label = 'put item'\n    return f\"{item!r}: {put.__name__:>10} {{item}}\"\n";
        let m = map(&[("put", "stow"), ("item", "thing")]);
        let out = apply(src, &m).unwrap();
        assert_eq!(
            out,
            "def stow(thing):\n    \"\"\"Put an thing; see stow.\"\"\"\n    # stow it here\n    label = 'put item'\n    return f\"{thing!r}: {stow.__name__:>10} {{item}}\"\n"
        );
        // It still parses, and an empty map changes nothing.
        assert!(crate::parse_module("x.py", &out, &crate::ExtractRules::default()).is_ok());
        assert_eq!(apply(src, &BTreeMap::new()).unwrap(), src);
    }
}
