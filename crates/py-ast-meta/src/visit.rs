//! Small AST helpers shared by extraction, analysis and mutation.

use rustpython_ast::Visitor;
use rustpython_ast::{self as ast, Ranged};

/// `a.b.c` for an attribute chain rooted at a name; `None` otherwise.
pub(crate) fn dotted(expr: &ast::Expr) -> Option<String> {
    match expr {
        ast::Expr::Name(n) => Some(n.id.to_string()),
        ast::Expr::Attribute(a) => Some(format!("{}.{}", dotted(&a.value)?, a.attr)),
        _ => None,
    }
}

/// The source text of a node, with line breaks and their indentation folded to
/// one space so it reads on one line.
pub(crate) fn text_of(src: &str, node: &impl Ranged) -> String {
    let r = node.range();
    fold(&src[r.start().to_usize()..r.end().to_usize()])
}

pub(crate) fn fold(s: &str) -> String {
    if !s.contains('\n') {
        return s.to_string();
    }
    s.split('\n').map(str::trim).filter(|l| !l.is_empty()).collect::<Vec<_>>().join(" ")
}

/// The docstring of a body, if its first statement is a string literal.
pub(crate) fn docstring(body: &[ast::Stmt]) -> Option<String> {
    let ast::Stmt::Expr(e) = body.first()? else { return None };
    let ast::Expr::Constant(c) = e.value.as_ref() else { return None };
    match &c.value {
        ast::Constant::Str(s) => Some(clean_doc(s)),
        _ => None,
    }
}

/// Dedents a docstring the way `inspect.cleandoc` does.
fn clean_doc(s: &str) -> String {
    let lines: Vec<&str> = s.lines().collect();
    let indent = lines
        .iter()
        .skip(1)
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.len() - l.trim_start().len())
        .min()
        .unwrap_or(0);
    let mut out: Vec<String> = Vec::with_capacity(lines.len());
    for (i, l) in lines.iter().enumerate() {
        if i == 0 {
            out.push(l.trim().to_string());
        } else {
            out.push(l.get(indent..).unwrap_or("").trim_end().to_string());
        }
    }
    while out.first().is_some_and(|l| l.is_empty()) {
        out.remove(0);
    }
    while out.last().is_some_and(|l| l.is_empty()) {
        out.pop();
    }
    out.join("\n")
}

/// What a function body does, for the significance rule.
#[derive(Debug, Default)]
pub(crate) struct BodyStats {
    pub statements: usize,
    pub branches: bool,
    pub calls: bool,
    /// Names loaded, and attributes of names (`self.x`, `errors.X`), sorted and unique.
    pub names: std::collections::BTreeSet<String>,
}

impl BodyStats {
    /// Consumes the statements (the generated visitor takes nodes by value).
    pub(crate) fn of(body: impl Iterator<Item = ast::Stmt>) -> Self {
        let mut stats = BodyStats::default();
        for stmt in body {
            stats.visit_stmt(stmt);
        }
        stats
    }
}

impl Visitor for BodyStats {
    fn visit_stmt(&mut self, node: ast::Stmt) {
        self.statements += 1;
        if matches!(
            node,
            ast::Stmt::If(_)
                | ast::Stmt::For(_)
                | ast::Stmt::AsyncFor(_)
                | ast::Stmt::While(_)
                | ast::Stmt::Try(_)
                | ast::Stmt::TryStar(_)
                | ast::Stmt::With(_)
                | ast::Stmt::AsyncWith(_)
                | ast::Stmt::Match(_)
        ) {
            self.branches = true;
        }
        self.generic_visit_stmt(node)
    }

    fn visit_expr(&mut self, node: ast::Expr) {
        match &node {
            ast::Expr::BoolOp(_) | ast::Expr::IfExp(_) => self.branches = true,
            ast::Expr::Call(_) => self.calls = true,
            ast::Expr::Name(n) if n.ctx == ast::ExprContext::Load => {
                self.names.insert(n.id.to_string());
            }
            ast::Expr::Attribute(a) => {
                if let ast::Expr::Name(n) = a.value.as_ref() {
                    self.names.insert(format!("{}.{}", n.id, a.attr));
                }
            }
            _ => {}
        }
        self.generic_visit_expr(node)
    }

    crate::visit::visit_the_gaps!();
}

/// rustpython-ast's generated visitor stops at keywords, `with` items,
/// comprehensions and match cases; every visitor here walks into them.
/// `visit_the_gaps!(defaults)` also walks parameter defaults (and nothing
/// else of a signature), for visitors that look for names a body reads.
macro_rules! visit_the_gaps {
    (defaults) => {
        crate::visit::visit_the_gaps!();

        fn visit_arguments(&mut self, node: rustpython_ast::Arguments) {
            for a in node.posonlyargs.into_iter().chain(node.args).chain(node.kwonlyargs) {
                if let Some(d) = a.default {
                    self.visit_expr(*d);
                }
            }
        }
    };
    () => {
        fn visit_keyword(&mut self, node: rustpython_ast::Keyword) {
            self.visit_expr(node.value)
        }

        fn visit_withitem(&mut self, node: rustpython_ast::WithItem) {
            self.visit_expr(node.context_expr);
            if let Some(v) = node.optional_vars {
                self.visit_expr(*v)
            }
        }

        fn visit_comprehension(&mut self, node: rustpython_ast::Comprehension) {
            self.visit_expr(node.target);
            self.visit_expr(node.iter);
            for e in node.ifs {
                self.visit_expr(e)
            }
        }

        fn visit_match_case(&mut self, node: rustpython_ast::MatchCase) {
            if let Some(g) = node.guard {
                self.visit_expr(*g)
            }
            for s in node.body {
                self.visit_stmt(s)
            }
        }
    };
}
pub(crate) use visit_the_gaps;
