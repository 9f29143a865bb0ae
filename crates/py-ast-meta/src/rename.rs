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
    /// Keyword arguments of calls to a bare name this module does not
    /// define, by that name (`("sorted", "key")`): the caller decides which
    /// of them are outside (builtins). Keywords of calls into an outside
    /// import are in `external` already.
    pub keywords: BTreeSet<(String, String)>,
    /// String literals where code uses a string as a name: the name
    /// argument of `getattr` and its kin, dictionary keys and subscripts,
    /// comparisons, `__all__` and `__slots__`, `attrgetter`, `namedtuple`.
    pub strings: BTreeSet<String>,
    /// Literal beginnings of names built at run time: `'_validate_' + rule`,
    /// `f"_validate_{rule}"`, `'_validate_{}'.format(rule)`, `'_x_%s' % r`.
    pub prefixes: BTreeSet<String>,
    /// Every identifier it spells.
    pub identifiers: BTreeSet<String>,
    /// Every keyword argument's name, whatever the callee.
    pub keyword_names: BTreeSet<String>,
    /// Every keyword argument with the last name of its callee (`""` when
    /// the callee is not a dotted name).
    pub keyword_calls: BTreeSet<(String, String)>,
    /// Each parameter name with the functions that take it.
    pub param_owners: BTreeMap<String, BTreeSet<String>>,
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

    /// The names a string (or a tuple, list or set of strings) spells:
    /// each identifier of a dotted or space-separated string.
    fn names_in(&mut self, e: &ast::Expr) {
        match e {
            ast::Expr::Tuple(t) => t.elts.iter().for_each(|e| self.names_in(e)),
            ast::Expr::List(l) => l.elts.iter().for_each(|e| self.names_in(e)),
            ast::Expr::Set(s) => s.elts.iter().for_each(|e| self.names_in(e)),
            e => {
                if let Some(s) = str_of(e) {
                    let parts = s.split(|c: char| c == '.' || c == ',' || c.is_whitespace());
                    self.inv.strings.extend(parts.filter(|p| !p.is_empty()).map(String::from));
                }
            }
        }
    }

    /// A literal beginning of a name built at run time, when it could begin one.
    fn prefix(&mut self, s: &str) {
        let head: String = s.chars().rev().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
        let head: String = head.chars().rev().collect();
        if head.len() >= 2 && head.len() == s.len() {
            self.inv.prefixes.insert(head);
        }
    }

    fn params(&mut self, args: &ast::Arguments) {
        for a in args.posonlyargs.iter().chain(&args.args).chain(&args.kwonlyargs) {
            self.inv.defined.insert(a.def.arg.to_string());
        }
    }

    fn owned_params(&mut self, owner: &str, args: &ast::Arguments) {
        self.params(args);
        for a in args.posonlyargs.iter().chain(&args.args).chain(&args.kwonlyargs) {
            self.inv.param_owners.entry(a.def.arg.to_string()).or_default().insert(owner.to_string());
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
                self.owned_params(&f.name, &f.args);
            }
            ast::Stmt::AsyncFunctionDef(f) => {
                self.inv.defined.insert(f.name.to_string());
                self.owned_params(&f.name, &f.args);
            }
            ast::Stmt::ClassDef(c) => {
                self.inv.defined.insert(c.name.to_string());
            }
            // `__all__` is renamed with the names it lists; `__slots__` names
            // attributes and stays with them.
            ast::Stmt::Assign(a) if a.targets.iter().filter_map(dotted).any(|t| t == "__slots__") => {
                self.names_in(&a.value);
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
                let root = callee.split('.').next().unwrap_or_default().to_string();
                let last = callee.rsplit('.').next().unwrap_or_default().to_string();
                for arg in c.keywords.iter().filter_map(|k| k.arg.as_ref()) {
                    self.inv.keyword_names.insert(arg.to_string());
                    self.inv.keyword_calls.insert((last.clone(), arg.to_string()));
                    if self.bound_external.contains(&root) {
                        self.inv.external.insert(arg.to_string());
                    } else if !callee.is_empty() && !callee.contains('.') {
                        self.inv.keywords.insert((last.clone(), arg.to_string()));
                    }
                }
                let named = match last.as_str() {
                    "getattr" | "setattr" | "hasattr" | "delattr" => c.args.get(1).into_iter().collect(),
                    "attrgetter" | "methodcaller" | "itemgetter" | "namedtuple" | "NamedTuple" | "TypedDict" => {
                        c.args.iter().collect()
                    }
                    _ => Vec::new(),
                };
                for a in named {
                    self.names_in(a);
                }
                // `'_validate_{}'.format(rule)`
                if let ast::Expr::Attribute(a) = c.func.as_ref() {
                    if a.attr.as_str() == "format" {
                        if let Some(s) = str_of(&a.value) {
                            self.prefix(s.split('{').next().unwrap_or_default());
                        }
                    }
                }
            }
            ast::Expr::BinOp(b) if matches!(b.op, ast::Operator::Add | ast::Operator::Mod) => {
                if let Some(s) = str_of(&b.left) {
                    self.prefix(s.split('%').next().unwrap_or_default());
                }
            }
            ast::Expr::JoinedStr(j) => {
                if let Some(s) = j.values.first().and_then(str_of) {
                    self.prefix(s);
                }
            }
            ast::Expr::Dict(d) => {
                for k in d.keys.iter().flatten() {
                    self.names_in(k);
                }
            }
            ast::Expr::Subscript(sub) => self.names_in(&sub.slice),
            ast::Expr::Compare(cmp) => {
                for e in std::iter::once(cmp.left.as_ref()).chain(&cmp.comparators) {
                    self.names_in(e);
                }
            }
            ast::Expr::Lambda(l) => self.params(&l.args),
            _ => {}
        }
        self.generic_visit_expr(node)
    }

    crate::visit::visit_the_gaps!(defaults);
}

/// The value of a string literal.
fn str_of(e: &ast::Expr) -> Option<&str> {
    match e {
        ast::Expr::Constant(ast::ExprConstant { value: ast::Constant::Str(s), .. }) => Some(s),
        _ => None,
    }
}

/// One function's own names: its byte range, its parameters and the names
/// it assigns (not those of functions or classes nested in it), less what
/// it declares `global` or `nonlocal`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Scope {
    start: usize,
    end: usize,
    names: BTreeSet<String>,
    params: BTreeSet<String>,
    /// It reads its names through strings (`locals()`, `vars()`, `eval`,
    /// `exec`): renaming inside it is not safe.
    dynamic: bool,
}

fn scopes(suite: &[ast::Stmt]) -> Vec<Scope> {
    struct Own {
        names: BTreeSet<String>,
        declared: BTreeSet<String>,
        dynamic: bool,
        nested: Vec<Scope>,
    }
    impl Own {
        fn function(args: &ast::Arguments, body: &[ast::Stmt], start: usize, end: usize) -> Vec<Scope> {
            let mut own = Own { names: BTreeSet::new(), declared: BTreeSet::new(), dynamic: false, nested: Vec::new() };
            let mut params = BTreeSet::new();
            for a in args.posonlyargs.iter().chain(&args.args).chain(&args.kwonlyargs) {
                params.insert(a.def.arg.to_string());
                own.names.insert(a.def.arg.to_string());
                if let Some(d) = &a.default {
                    own.visit_expr(*d.clone());
                }
            }
            for a in args.vararg.iter().chain(args.kwarg.iter()) {
                own.names.insert(a.arg.to_string());
                params.insert(a.arg.to_string());
            }
            for s in body {
                own.visit_stmt(s.clone());
            }
            let names = own.names.difference(&own.declared).cloned().collect();
            let mut out = vec![Scope { start, end, names, params, dynamic: own.dynamic }];
            out.append(&mut own.nested);
            out
        }
    }
    impl Visitor for Own {
        fn visit_stmt(&mut self, node: ast::Stmt) {
            let (start, end) = (node.range().start().to_usize(), node.range().end().to_usize());
            match node {
                ast::Stmt::FunctionDef(f) => {
                    self.names.insert(f.name.to_string());
                    for d in f.decorator_list {
                        self.visit_expr(d);
                    }
                    self.nested.extend(Own::function(&f.args, &f.body, start, end));
                }
                ast::Stmt::AsyncFunctionDef(f) => {
                    self.names.insert(f.name.to_string());
                    for d in f.decorator_list {
                        self.visit_expr(d);
                    }
                    self.nested.extend(Own::function(&f.args, &f.body, start, end));
                }
                ast::Stmt::ClassDef(c) => {
                    self.names.insert(c.name.to_string());
                    // A class body's names are not the function's; its methods are scopes of their own.
                    for s in c.body {
                        let (s0, s1) = (s.range().start().to_usize(), s.range().end().to_usize());
                        match s {
                            ast::Stmt::FunctionDef(f) => self.nested.extend(Own::function(&f.args, &f.body, s0, s1)),
                            ast::Stmt::AsyncFunctionDef(f) => {
                                self.nested.extend(Own::function(&f.args, &f.body, s0, s1))
                            }
                            _ => {}
                        }
                    }
                }
                ast::Stmt::Global(g) => self.declared.extend(g.names.iter().map(|n| n.to_string())),
                ast::Stmt::Nonlocal(n) => self.declared.extend(n.names.iter().map(|n| n.to_string())),
                ast::Stmt::Try(t) => {
                    for h in &t.handlers {
                        let ast::ExceptHandler::ExceptHandler(h) = h;
                        if let Some(n) = &h.name {
                            self.names.insert(n.to_string());
                        }
                    }
                    self.generic_visit_stmt(ast::Stmt::Try(t))
                }
                node => self.generic_visit_stmt(node),
            }
        }

        fn visit_expr(&mut self, node: ast::Expr) {
            match &node {
                ast::Expr::Name(n) if n.ctx == ast::ExprContext::Store => {
                    self.names.insert(n.id.to_string());
                }
                ast::Expr::Call(c) => {
                    if let ast::Expr::Name(n) = c.func.as_ref() {
                        if matches!(n.id.as_str(), "locals" | "vars" | "eval" | "exec" | "globals") {
                            self.dynamic = true;
                        }
                    }
                }
                ast::Expr::Lambda(l) => {
                    let (start, end) = (node.range().start().to_usize(), node.range().end().to_usize());
                    let body = vec![ast::Stmt::Expr(ast::StmtExpr { value: l.body.clone(), range: l.range })];
                    self.nested.extend(Own::function(&l.args, &body, start, end));
                    return;
                }
                _ => {}
            }
            self.generic_visit_expr(node)
        }

        crate::visit::visit_the_gaps!(defaults);
    }
    let mut top = Own { names: BTreeSet::new(), declared: BTreeSet::new(), dynamic: false, nested: Vec::new() };
    for s in suite {
        top.visit_stmt(s.clone());
    }
    top.nested
}

/// The names functions of `text` own: (their parameters, their other
/// names), over every function that does not read its names through strings.
pub fn function_names(path: &str, text: &str) -> Result<(BTreeSet<String>, BTreeSet<String>), ParseFailure> {
    crate::guard::guarded(path, text, || {
        let suite = ast::Suite::parse(text, path).map_err(|e| ParseFailure::from_parser(path, text, &e))?;
        let (mut params, mut locals) = (BTreeSet::new(), BTreeSet::new());
        for s in scopes(&suite).into_iter().filter(|s| !s.dynamic) {
            locals.extend(s.names.difference(&s.params).cloned());
            params.extend(s.params);
        }
        Ok((params, locals))
    })
}

/// Which scopes' names apply at `offset`: the innermost function defining
/// `name` among those containing it (closures see their enclosing function's
/// names), unless a scope between defines it... none does: the innermost
/// that defines it wins.
fn local_at<'s>(scopes: &'s [Scope], offset: usize, name: &str) -> Option<&'s Scope> {
    scopes
        .iter()
        .filter(|s| s.start <= offset && offset < s.end && s.names.contains(name))
        .min_by_key(|s| s.end - s.start)
}

/// `text` with every identifier in `map` renamed: name tokens, names in
/// f-string expressions, and whole words in comments and docstrings.
pub fn apply(text: &str, map: &BTreeMap<String, String>) -> Result<String, ParseFailure> {
    apply_scoped(text, map, &BTreeMap::new())
}

/// Every rename of one transform.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Renames {
    /// Renamed everywhere.
    pub global: BTreeMap<String, String>,
    /// Renamed where they are a function's own.
    pub local: BTreeMap<String, String>,
    /// Of `local`, renamed only where a function assigns them, not where one
    /// takes them as a parameter.
    pub not_params: BTreeSet<String>,
    /// Keyword arguments renamed with the parameter they pass:
    /// `(the callee's last name, keyword)` to the new keyword.
    pub keywords: BTreeMap<(String, String), String>,
}

/// `text` with `r` applied (see [`apply_scoped_with`]).
pub fn rewrite(text: &str, r: &Renames) -> Result<String, ParseFailure> {
    rewrite_with(text, &r.global, &r.local, &r.not_params, &r.keywords)
}

/// [`apply`], and the names in `local` renamed where they are a function's
/// own (a parameter or an assigned name of the innermost function that has
/// one of that name), not as an attribute (`x.name`), not as a keyword of a
/// call (`f(name=1)`), and not in a function that reads its names through
/// strings (`locals()`, `vars()`, `eval`, `exec`).
pub fn apply_scoped(
    text: &str,
    map: &BTreeMap<String, String>,
    local: &BTreeMap<String, String>,
) -> Result<String, ParseFailure> {
    apply_scoped_with(text, map, local, &BTreeSet::new())
}

/// [`apply_scoped`], where names in `not_params` are renamed only in the
/// functions that assign them, not in those that take them as a parameter
/// (a caller could pass those by keyword).
pub fn apply_scoped_with(
    text: &str,
    map: &BTreeMap<String, String>,
    local: &BTreeMap<String, String>,
    not_params: &BTreeSet<String>,
) -> Result<String, ParseFailure> {
    rewrite_with(text, map, local, not_params, &BTreeMap::new())
}

fn rewrite_with(
    text: &str,
    map: &BTreeMap<String, String>,
    local: &BTreeMap<String, String>,
    not_params: &BTreeSet<String>,
    keywords: &BTreeMap<(String, String), String>,
) -> Result<String, ParseFailure> {
    crate::guard::guarded("<rename>", text, || {
        let suite = ast::Suite::parse(text, "<rename>").map_err(|e| ParseFailure::from_parser("<rename>", text, &e))?;
        let mut docs = Vec::new();
        docstrings(&suite, &mut docs);
        let exports = exported(&suite);
        let scopes = if local.is_empty() && keywords.is_empty() { Vec::new() } else { scopes(&suite) };
        let tokens: Vec<(Tok, usize, usize)> = lex(text, Mode::Module)
            .map(|t| {
                t.map(|(tok, range)| (tok, range.start().to_usize(), range.end().to_usize())).map_err(|e| {
                    ParseFailure {
                        path: "<rename>".into(),
                        line: crate::lines::Lines::new(text).line(e.location.to_usize()),
                        error: e.error.to_string(),
                    }
                })
            })
            .collect::<Result<_, _>>()?;
        // The names renamed at `offset`: every global one, and the local ones
        // that are a function's own there.
        let at_offset = |offset: usize| -> std::borrow::Cow<'_, BTreeMap<String, String>> {
            let here: Vec<(&String, &String)> = local
                .iter()
                .filter(|(n, _)| {
                    local_at(&scopes, offset, n)
                        .is_some_and(|s| !(s.dynamic || not_params.contains(*n) && s.params.contains(*n)))
                })
                .collect();
            if here.is_empty() {
                return std::borrow::Cow::Borrowed(map);
            }
            let mut m = map.clone();
            m.extend(here.into_iter().map(|(a, b)| (a.clone(), b.clone())));
            std::borrow::Cow::Owned(m)
        };
        #[derive(Clone, PartialEq)]
        enum Bracket {
            /// A call, with its callee's last name when it has one.
            Call(String),
            Params,
            Other,
        }
        let mut stack: Vec<Bracket> = Vec::new();
        let mut out = String::with_capacity(text.len());
        let mut at = 0;
        for (i, (tok, start, end)) in tokens.iter().enumerate() {
            let (start, end) = (*start, *end);
            // Between tokens: whitespace and comments.
            let gap = &text[at..start.max(at)];
            if gap.contains('#') {
                out.push_str(&words(gap, &at_offset(at)));
            } else {
                out.push_str(gap);
            }
            let raw = &text[start..end];
            let prev = i.checked_sub(1).map(|j| &tokens[j].0);
            let before = i.checked_sub(2).map(|j| &tokens[j].0);
            match tok {
                Tok::Lpar => stack.push(match (before, prev) {
                    (Some(Tok::Def), Some(Tok::Name { .. })) => Bracket::Params,
                    (_, Some(Tok::Name { name })) => Bracket::Call(name.clone()),
                    (_, Some(Tok::Rpar | Tok::Rsqb | Tok::String { .. })) => Bracket::Call(String::new()),
                    _ => Bracket::Other,
                }),
                Tok::Lsqb | Tok::Lbrace => stack.push(Bracket::Other),
                Tok::Rpar | Tok::Rsqb | Tok::Rbrace => {
                    stack.pop();
                }
                _ => {}
            }
            match tok {
                Tok::Name { name } => {
                    let callee = match stack.last() {
                        Some(Bracket::Call(c)) if matches!(tokens.get(i + 1), Some((Tok::Equal, _, _))) => Some(c),
                        _ => None,
                    };
                    let renamed = map.get(name).or_else(|| {
                        if let Some(c) = callee {
                            return keywords.get(&(c.clone(), name.clone()));
                        }
                        let new = local.get(name)?;
                        let attribute = matches!(prev, Some(Tok::Dot));
                        let keyword = callee.is_some();
                        let own = local_at(&scopes, start, name)
                            .is_some_and(|s| !(s.dynamic || not_params.contains(name) && s.params.contains(name)));
                        (!attribute && !keyword && own).then_some(new)
                    });
                    out.push_str(renamed.map_or(raw, String::as_str));
                }
                Tok::String { kind: StringKind::FString | StringKind::RawFString, .. } => {
                    out.push_str(&fstring(raw, &at_offset(start)))
                }
                Tok::String { .. } if docs.contains(&start) => out.push_str(&words(raw, &at_offset(start))),
                Tok::String { value, .. } if exports.contains(&start) => match map.get(value) {
                    Some(new) => out.push_str(&raw.replacen(value.as_str(), new, 1)),
                    None => out.push_str(raw),
                },
                _ => out.push_str(raw),
            }
            at = end.max(at);
        }
        out.push_str(&words(&text[at.min(text.len())..], map));
        Ok(out)
    })
}

/// Start offsets of the string literals listed in `__all__` (they name the
/// module's own names, so they are renamed with them).
fn exported(body: &[ast::Stmt]) -> Vec<usize> {
    let mut out = Vec::new();
    for s in body {
        if let ast::Stmt::Assign(a) = s {
            if a.targets.iter().filter_map(dotted).any(|t| t == "__all__") {
                if let ast::Expr::List(ast::ExprList { elts, .. }) | ast::Expr::Tuple(ast::ExprTuple { elts, .. }) =
                    a.value.as_ref()
                {
                    out.extend(elts.iter().filter(|e| str_of(e).is_some()).map(|e| e.range().start().to_usize()));
                }
            }
        }
    }
    out
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

/// Whole identifier-shaped words of `text` (a comment or a docstring)
/// renamed where they read as code: with an underscore, a digit or a
/// capital, called (`name(`), quoted or after a dot. A plain lowercase word
/// stays: `types` in "the types a rule accepts" is English, and renaming it
/// would garble the requirement a prompt states.
fn words(text: &str, map: &BTreeMap<String, String>) -> String {
    if map.is_empty() || text.is_empty() {
        return text.to_string();
    }
    let chars: Vec<char> = text.chars().collect();
    let ident = |c: char| c.is_alphanumeric() || c == '_';
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        if !ident(chars[i]) {
            out.push(chars[i]);
            i += 1;
            continue;
        }
        let start = i;
        while i < chars.len() && ident(chars[i]) {
            i += 1;
        }
        let word: String = chars[start..i].iter().collect();
        let before = start.checked_sub(1).map(|j| chars[j]);
        let after = chars.get(i).copied();
        let code = word.chars().any(|c| c == '_' || c.is_ascii_digit() || c.is_uppercase())
            || after == Some('(')
            || matches!(before, Some('`' | '\'' | '"' | '.'))
            || matches!(after, Some('`' | '\'' | '"'));
        match map.get(&word) {
            Some(new) if code => out.push_str(new),
            _ => out.push_str(&word),
        }
    }
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
        assert!(inv.external.contains("indent"), "a keyword of an outside call: {:?}", inv.external);
        // A string passed to a function is data, not a name.
        assert!(!inv.strings.contains("put_"));
        let src = "def f(obj, rule, d):\n    getattr(obj, 'size')\n    d['limit'] = 1\n    if rule in ('a', 'b.c'):\n        pass\n    return getattr(obj, '_check_' + rule), f'_norm_{rule}', '_v_{}'.format(rule)\n__all__ = ['f']\n";
        let inv = inventory("m.py", src, &local).unwrap();
        // `__all__` lists names to rename with them; it keeps nothing.
        assert!(!inv.strings.contains("f"));
        for name in ["size", "limit", "a", "b", "c"] {
            assert!(inv.strings.contains(name), "{name}: {:?}", inv.strings);
        }
        for p in ["_check_", "_norm_", "_v_"] {
            assert!(inv.prefixes.contains(p), "{p}: {:?}", inv.prefixes);
        }
    }

    #[test]
    fn local_names_are_renamed_only_where_they_are_a_functions_own() {
        let src = "value = 1\n\ndef f(value, other):\n    \"\"\"Uses `value`.\"\"\"\n    def g():\n        return value\n    total = value + obj.value\n    return h(value=total, other=other)\n\ndef k():\n    return value\n\ndef dyn(value):\n    return locals()['value']\n";
        let local = map(&[("value", "amount"), ("total", "sum_")]);
        let out = apply_scoped(src, &BTreeMap::new(), &local).unwrap();
        assert_eq!(
            out,
            "value = 1\n\ndef f(amount, other):\n    \"\"\"Uses `amount`.\"\"\"\n    def g():\n        return amount\n    sum_ = amount + obj.value\n    return h(value=sum_, other=other)\n\ndef k():\n    return value\n\ndef dyn(value):\n    return locals()['value']\n"
        );
    }

    #[test]
    fn apply_renames_tokens_fstrings_comments_and_docstrings_only() {
        let src = "def put(item):\n    \"\"\"Put an item; see put().\"\"\"\n    # put it here, `item` too\n    label = 'put item'\n    return f\"{item!r}: {put.__name__:>10} {{item}}\"\n";
        let m = map(&[("put", "stow"), ("item", "thing")]);
        let out = apply(src, &m).unwrap();
        assert_eq!(
            out,
            "def stow(thing):\n    \"\"\"Put an item; see stow().\"\"\"\n    # put it here, `thing` too\n    label = 'put item'\n    return f\"{thing!r}: {stow.__name__:>10} {{item}}\"\n"
        );
        // It still parses, and an empty map changes nothing.
        assert!(crate::parse_module("x.py", &out, &crate::ExtractRules::default()).is_ok());
        assert_eq!(apply(src, &BTreeMap::new()).unwrap(), src);
    }
}
