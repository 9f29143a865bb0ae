//! Where a snippet can take one injected bug. The edits are textual (a span of
//! the source replaced by new text) so the snippet keeps its formatting, and the
//! caller re-parses each mutant to prove it is valid and really different.

use rustpython_ast::{self as ast, Ranged, Visitor};
use rustpython_parser::Parse;
use serde::{Deserialize, Serialize};

use crate::lines::Lines;
use crate::ParseFailure;

/// The named mutation operators, in a fixed order (DESIGN.md §5).
pub const OPERATORS: &[&str] = &[
    "comparison_flip",
    "boundary_shift",
    "bool_op_swap",
    "dropped_not",
    "is_swap",
    "in_swap",
    "wrong_constant",
    "swapped_arguments",
    "get_vs_index",
    "early_return",
    "exception_swap",
];

/// One possible bug: replace `source[start..end]` with `replacement`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Site {
    /// The operator's name.
    pub operator: String,
    /// Byte offset where the replaced text starts.
    pub start: usize,
    /// Byte offset where it ends.
    pub end: usize,
    /// The text put in its place.
    pub replacement: String,
    /// 1-based line of `start`.
    pub line: u32,
}

impl Site {
    /// The snippet with this mutation applied.
    pub fn apply(&self, source: &str) -> String {
        format!("{}{}{}", &source[..self.start], self.replacement, &source[self.end..])
    }
}

/// The mutation sites in the body of the first function defined in `source`,
/// sorted by position then operator.
pub fn mutation_sites(source: &str) -> Result<Vec<Site>, ParseFailure> {
    crate::guard::guarded("<snippet>", source, || mutation_sites_unguarded(source))
}

fn mutation_sites_unguarded(source: &str) -> Result<Vec<Site>, ParseFailure> {
    let suite =
        ast::Suite::parse(source, "<snippet>").map_err(|e| ParseFailure::from_parser("<snippet>", source, &e))?;
    let lines = Lines::new(source);
    let mut v = Sites { src: source, lines: &lines, out: Vec::new() };
    let body = suite.into_iter().find_map(|s| match s {
        ast::Stmt::FunctionDef(f) => Some(f.body),
        ast::Stmt::AsyncFunctionDef(f) => Some(f.body),
        _ => None,
    });
    for stmt in body.unwrap_or_default() {
        v.visit_stmt(stmt);
    }
    let mut out = v.out;
    out.sort_by(|a, b| (a.start, &a.operator).cmp(&(b.start, &b.operator)));
    out.dedup_by(|a, b| a.start == b.start && a.operator == b.operator);
    Ok(out)
}

/// The AST of `source` with positions removed: two texts with the same
/// normalised AST differ only in layout and comments.
pub fn normalized_ast(source: &str) -> Result<String, ParseFailure> {
    crate::guard::guarded("<snippet>", source, || {
        let suite =
            ast::Suite::parse(source, "<snippet>").map_err(|e| ParseFailure::from_parser("<snippet>", source, &e))?;
        Ok(strip_ranges(&format!("{suite:?}")))
    })
}

fn strip_ranges(debug: &str) -> String {
    let mut out = String::with_capacity(debug.len());
    let mut rest = debug;
    while let Some(i) = rest.find("range: ") {
        out.push_str(&rest[..i]);
        let after = &rest[i + 7..];
        let n = after.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(after.len());
        rest = after[n..].strip_prefix(", ").unwrap_or(&after[n..]);
    }
    out.push_str(rest);
    out
}

struct Sites<'a> {
    src: &'a str,
    lines: &'a Lines,
    out: Vec<Site>,
}

impl Sites<'_> {
    fn push(&mut self, operator: &str, start: usize, end: usize, replacement: impl Into<String>) {
        self.out.push(Site {
            operator: operator.into(),
            start,
            end,
            replacement: replacement.into(),
            line: self.lines.line(start),
        });
    }

    fn text(&self, node: &impl Ranged) -> &str {
        &self.src[node.range().start().to_usize()..node.range().end().to_usize()]
    }

    /// The start of the first token in `src[from..to]`, skipping white space,
    /// closing parentheses, line continuations and comments.
    fn token_start(&self, from: usize, to: usize) -> Option<usize> {
        let bytes = self.src.as_bytes();
        let mut i = from;
        while i < to {
            match bytes[i] {
                b' ' | b'\t' | b'\n' | b'\r' | b')' | b'\\' => i += 1,
                b'#' => {
                    while i < to && bytes[i] != b'\n' {
                        i += 1;
                    }
                }
                _ => return Some(i),
            }
        }
        None
    }

    /// The end of `words` (e.g. `["is", "not"]`) spelled at `at`, allowing any
    /// white space between them.
    fn words_end(&self, at: usize, words: &[&str]) -> Option<usize> {
        let mut i = at;
        for (k, w) in words.iter().enumerate() {
            if k > 0 {
                i += self.src[i..].len() - self.src[i..].trim_start_matches([' ', '\t']).len();
            }
            if !self.src[i..].starts_with(w) {
                return None;
            }
            i += w.len();
        }
        Some(i)
    }

    fn compare(&mut self, c: &ast::ExprCompare) {
        let mut prev_end = c.left.range().end().to_usize();
        for (op, right) in c.ops.iter().zip(&c.comparators) {
            let right_start = right.range().start().to_usize();
            if let Some(at) = self.token_start(prev_end, right_start) {
                use ast::CmpOp::*;
                let (spelled, flips): (&[&str], &[(&str, &str)]) = match op {
                    Lt => (&["<"], &[("comparison_flip", ">"), ("boundary_shift", "<=")]),
                    LtE => (&["<="], &[("comparison_flip", ">="), ("boundary_shift", "<")]),
                    Gt => (&[">"], &[("comparison_flip", "<"), ("boundary_shift", ">=")]),
                    GtE => (&[">="], &[("comparison_flip", "<="), ("boundary_shift", ">")]),
                    Eq => (&["=="], &[("comparison_flip", "!=")]),
                    NotEq => (&["!="], &[("comparison_flip", "==")]),
                    Is => (&["is"], &[("is_swap", "is not")]),
                    IsNot => (&["is", "not"], &[("is_swap", "is")]),
                    In => (&["in"], &[("in_swap", "not in")]),
                    NotIn => (&["not", "in"], &[("in_swap", "in")]),
                };
                if let Some(end) = self.words_end(at, spelled) {
                    for (operator, replacement) in flips {
                        self.push(operator, at, end, *replacement);
                    }
                }
            }
            prev_end = right.range().end().to_usize();
        }
    }

    fn bool_op(&mut self, b: &ast::ExprBoolOp) {
        let (spelled, swap) = match b.op {
            ast::BoolOp::And => ("and", "or"),
            ast::BoolOp::Or => ("or", "and"),
        };
        for pair in b.values.windows(2) {
            let (from, to) = (pair[0].range().end().to_usize(), pair[1].range().start().to_usize());
            if let Some(at) = self.token_start(from, to) {
                if let Some(end) = self.words_end(at, &[spelled]) {
                    self.push("bool_op_swap", at, end, swap);
                }
            }
        }
    }

    fn call(&mut self, c: &ast::ExprCall, whole: &ast::Expr) {
        let starred = c.args.iter().any(|a| matches!(a, ast::Expr::Starred(_)));
        if c.args.len() >= 2 && !starred {
            let (a, b) = (&c.args[0], &c.args[1]);
            let (ta, tb) = (self.text(a).to_string(), self.text(b).to_string());
            if ta != tb {
                let between = &self.src[a.range().end().to_usize()..b.range().start().to_usize()];
                let replacement = format!("{tb}{between}{ta}");
                self.push("swapped_arguments", a.range().start().to_usize(), b.range().end().to_usize(), replacement);
            }
        }
        if let ast::Expr::Attribute(attr) = c.func.as_ref() {
            if attr.attr.as_str() == "get" && c.args.len() == 1 && c.keywords.is_empty() && !starred {
                let replacement = format!("{}[{}]", self.text(attr.value.as_ref()), self.text(&c.args[0]));
                self.push(
                    "get_vs_index",
                    whole.range().start().to_usize(),
                    whole.range().end().to_usize(),
                    replacement,
                );
            }
        }
    }

    fn exception_name(&mut self, e: &ast::Expr) {
        let ast::Expr::Name(n) = e else { return };
        let swap = match n.id.as_str() {
            "KeyError" => "IndexError",
            "IndexError" => "KeyError",
            "ValueError" => "TypeError",
            "TypeError" => "ValueError",
            "AttributeError" => "KeyError",
            "LookupError" => "ValueError",
            "RuntimeError" => "ValueError",
            _ => return,
        };
        self.push("exception_swap", n.range().start().to_usize(), n.range().end().to_usize(), swap);
    }
}

/// `print(...)`, `log.debug(...)`-style and `warnings.warn(...)` calls.
fn is_message_call(func: &ast::Expr) -> bool {
    match func {
        ast::Expr::Name(n) => n.id.as_str() == "print",
        ast::Expr::Attribute(a) => {
            matches!(
                a.attr.as_str(),
                "debug" | "info" | "warning" | "warn" | "error" | "exception" | "critical" | "log"
            )
        }
        _ => false,
    }
}

impl Visitor for Sites<'_> {
    fn visit_stmt(&mut self, node: ast::Stmt) {
        match &node {
            ast::Stmt::Continue(s) => {
                self.push("early_return", s.range().start().to_usize(), s.range().end().to_usize(), "return")
            }
            ast::Stmt::Break(s) => {
                self.push("early_return", s.range().start().to_usize(), s.range().end().to_usize(), "return")
            }
            ast::Stmt::Raise(r) => match r.exc.as_deref() {
                Some(ast::Expr::Call(c)) => self.exception_name(&c.func),
                Some(e) => self.exception_name(e),
                None => {}
            },
            ast::Stmt::Try(t) => {
                for h in &t.handlers {
                    let ast::ExceptHandler::ExceptHandler(h) = h;
                    if let Some(ty) = &h.type_ {
                        self.exception_name(ty);
                    }
                }
            }
            // Nested definitions are their own units; leave them alone.
            ast::Stmt::FunctionDef(_) | ast::Stmt::AsyncFunctionDef(_) | ast::Stmt::ClassDef(_) => return,
            // An annotation is not behaviour: only the assigned value is.
            ast::Stmt::AnnAssign(a) => {
                if let Some(value) = a.value.clone() {
                    self.visit_expr(*value);
                }
                return;
            }
            _ => {}
        }
        self.generic_visit_stmt(node)
    }

    fn visit_expr(&mut self, node: ast::Expr) {
        match &node {
            ast::Expr::Compare(c) => self.compare(c),
            ast::Expr::BoolOp(b) => self.bool_op(b),
            ast::Expr::UnaryOp(u) if u.op == ast::UnaryOp::Not => {
                let start = u.range().start().to_usize();
                if let Some(end) = self.words_end(start, &["not"]) {
                    let ws = self.src[end..].len() - self.src[end..].trim_start_matches([' ', '\t']).len();
                    self.push("dropped_not", start, end + ws, "");
                }
            }
            // A message (print, logging, warnings) changes no behaviour a
            // test can see: no sites inside one.
            ast::Expr::Call(c) if is_message_call(&c.func) => return,
            ast::Expr::Constant(c) => {
                let text = self.text(c).to_string();
                let replacement = match &c.value {
                    ast::Constant::Bool(true) => Some("False".to_string()),
                    ast::Constant::Bool(false) => Some("True".to_string()),
                    // Small counts and indices; larger numbers are status
                    // codes, sizes and the like, whose change says nothing.
                    ast::Constant::Int(_) if text.bytes().all(|b| b.is_ascii_digit()) => {
                        text.parse::<u64>().ok().filter(|n| *n < 100).map(|n| {
                            if n == 0 {
                                "1".to_string()
                            } else if n == 1 {
                                "0".to_string()
                            } else {
                                (n + 1).to_string()
                            }
                        })
                    }
                    _ => None,
                };
                if let Some(r) = replacement {
                    self.push("wrong_constant", c.range().start().to_usize(), c.range().end().to_usize(), r);
                }
            }
            ast::Expr::Call(c) => self.call(c, &node),
            ast::Expr::Subscript(s)
                if s.ctx == ast::ExprContext::Load && !matches!(s.slice.as_ref(), ast::Expr::Slice(_)) =>
            {
                let replacement = format!("{}.get({})", self.text(s.value.as_ref()), self.text(s.slice.as_ref()));
                self.push("get_vs_index", s.range().start().to_usize(), s.range().end().to_usize(), replacement);
            }
            ast::Expr::Lambda(_) => return,
            _ => {}
        }
        self.generic_visit_expr(node)
    }

    crate::visit::visit_the_gaps!();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_sites_in_annotations_messages_or_status_codes() {
        let src = "def f(x, log):\n    y: Literal[1] = x\n    log.debug(\"x=%s\", x > 1, not x)\n    print(x == 2)\n    return 404\n";
        let sites = mutation_sites(src).unwrap();
        assert!(sites.is_empty(), "{sites:?}");
        let src = "def f(x):\n    y: int = x > 1\n    return 2\n";
        let ops: Vec<String> = mutation_sites(src).unwrap().into_iter().map(|s| s.operator).collect();
        assert_eq!(ops, ["boundary_shift", "comparison_flip", "wrong_constant", "wrong_constant"]);
    }

    fn applied(src: &str, op: &str) -> Vec<String> {
        mutation_sites(src).unwrap().iter().filter(|s| s.operator == op).map(|s| s.apply(src)).collect()
    }

    #[test]
    fn every_operator_has_a_site() {
        let src = "def f(a, d):\n    for x in a:\n        if x is None and not d:\n            continue\n        if (x) < 3 or x not in d:\n            return d.get(x)\n    try:\n        g(a, d)\n    except KeyError:\n        raise ValueError(d[a])\n    return True\n";
        let ops: std::collections::BTreeSet<_> = mutation_sites(src).unwrap().into_iter().map(|s| s.operator).collect();
        for op in OPERATORS {
            assert!(ops.contains(*op), "no site for {op}: {ops:?}");
        }
        assert_eq!(applied(src, "is_swap"), [src.replace("x is None", "x is not None")]);
        assert!(applied(src, "boundary_shift").contains(&src.replace("(x) < 3", "(x) <= 3")));
        assert!(applied(src, "dropped_not").contains(&src.replace("not d:", "d:")));
        assert!(applied(src, "in_swap").contains(&src.replace("x not in d", "x in d")));
    }

    #[test]
    fn every_site_reparses_and_changes_the_ast() {
        let src = "def f(a, b):\n    if a <= b and b != 0:\n        return a[0]\n    return max(a, b)\n";
        let original = normalized_ast(src).unwrap();
        for s in mutation_sites(src).unwrap() {
            let mutant = s.apply(src);
            assert_ne!(normalized_ast(&mutant).unwrap(), original, "{s:?}");
        }
    }

    #[test]
    fn normalized_ast_ignores_layout() {
        assert_eq!(normalized_ast("x = (1 +\n 2)  # c\n").unwrap(), normalized_ast("x = 1 + 2\n").unwrap());
    }
}
