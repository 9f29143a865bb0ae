//! What the grader reads from code: the calls, imports and names of an
//! answer ([`analyze`]) and which modules and names a snapshot defines
//! ([`ApiIndex`]).

use rustpython_ast::{self as ast, Ranged, Visitor};
use rustpython_parser::Parse;
use serde::{Deserialize, Serialize};

use crate::lines::Lines;
use crate::visit::dotted;
use crate::{parse_module, ExtractRules, ModuleMeta, ParseFailure};

pub use crate::api::ApiIndex;

/// One call in analysed code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallFact {
    /// `name` or `a.b.name`; `None` when the callee is not a dotted name.
    pub callee: Option<String>,
    /// Whether the call passes `shell=True`.
    pub shell_true: bool,
    /// The positional arguments that are string literals (as in `getattr(os, "system")`).
    pub string_args: Vec<String>,
    /// What the first positional argument is: `str`, `fstring`, `binop`,
    /// `call`, `name`, `attribute` or `other`.
    pub first_arg: Option<String>,
    /// The names of its keyword arguments, in order.
    #[serde(default)]
    pub keywords: Vec<String>,
    /// Whether it passes `**mapping`, so any keyword may arrive.
    #[serde(default)]
    pub star_kwargs: bool,
    /// Its 1-based line.
    pub line: u32,
}

/// What a piece of code (say, a model's answer) defines, imports and uses.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CodeFacts {
    /// Its functions, classes and imports, including those nested anywhere.
    pub meta: ModuleMeta,
    /// Outermost attribute chains rooted at a name (`os.path.join`).
    pub dotted: Vec<String>,
    /// The same chains with the line of their first use.
    pub chains: Vec<(String, u32)>,
    /// Every call, in source order.
    pub calls: Vec<CallFact>,
    /// Every import anywhere in the code.
    pub all_imports: Vec<crate::Import>,
    /// Simple aliases: `name = a.b` gives `(name, "a.b")`, and
    /// `name = getattr(a, "b")` gives `(name, "a.b")`.
    pub aliases: Vec<(String, String)>,
}

/// Analyses a piece of code.
pub fn analyze(path: &str, text: &str) -> Result<CodeFacts, ParseFailure> {
    let meta = parse_module(path, text, &ExtractRules::default())?;
    crate::guard::guarded(path, text, || analyze_unguarded(path, text, meta))
}

fn analyze_unguarded(path: &str, text: &str, meta: ModuleMeta) -> Result<CodeFacts, ParseFailure> {
    let suite = ast::Suite::parse(text, path).map_err(|e| ParseFailure::from_parser(path, text, &e))?;
    let lines = Lines::new(text);
    let mut v =
        FactVisitor { lines: &lines, chains: Vec::new(), calls: Vec::new(), imports: Vec::new(), aliases: Vec::new() };
    for stmt in suite {
        v.visit_stmt(stmt);
    }
    let mut chains: Vec<(String, u32)> = Vec::new();
    for (chain, line) in v.chains {
        if !chains.iter().any(|(c, _)| *c == chain) {
            chains.push((chain, line));
        }
    }
    let mut dotted: Vec<String> = chains.iter().map(|(c, _)| c.clone()).collect();
    dotted.sort();
    Ok(CodeFacts { meta, dotted, chains, calls: v.calls, all_imports: v.imports, aliases: v.aliases })
}

struct FactVisitor<'a> {
    lines: &'a Lines,
    chains: Vec<(String, u32)>,
    calls: Vec<CallFact>,
    imports: Vec<crate::Import>,
    aliases: Vec<(String, String)>,
}

impl Visitor for FactVisitor<'_> {
    fn visit_stmt(&mut self, node: ast::Stmt) {
        let line = self.lines.line(node.range().start().to_usize());
        match &node {
            ast::Stmt::Import(i) => self.imports.extend(i.names.iter().map(|a| crate::Import {
                module: a.name.to_string(),
                name: None,
                alias: a.asname.as_ref().map(|n| n.to_string()),
                level: 0,
                line,
            })),
            ast::Stmt::ImportFrom(i) => {
                let module = i.module.as_ref().map(|m| m.to_string()).unwrap_or_default();
                let level = i.level.map_or(0, |l| l.to_u32());
                self.imports.extend(i.names.iter().map(|a| crate::Import {
                    module: module.clone(),
                    name: Some(a.name.to_string()),
                    alias: a.asname.as_ref().map(|n| n.to_string()),
                    level,
                    line,
                }));
            }
            ast::Stmt::Assign(a) => {
                if let [ast::Expr::Name(target)] = a.targets.as_slice() {
                    let value = match a.value.as_ref() {
                        ast::Expr::Call(c) if dotted(&c.func).as_deref() == Some("getattr") => {
                            match c.args.as_slice() {
                                [obj, ast::Expr::Constant(ast::ExprConstant { value: ast::Constant::Str(attr), .. })] => {
                                    dotted(obj).map(|o| format!("{o}.{attr}"))
                                }
                                _ => None,
                            }
                        }
                        v => dotted(v),
                    };
                    if let Some(v) = value {
                        self.aliases.push((target.id.to_string(), v));
                    }
                }
            }
            _ => {}
        }
        self.generic_visit_stmt(node)
    }

    fn visit_expr(&mut self, node: ast::Expr) {
        match &node {
            ast::Expr::Attribute(_) => {
                if let Some(d) = dotted(&node) {
                    self.chains.push((d, self.lines.line(node.range().start().to_usize())));
                    return;
                }
            }
            ast::Expr::Call(c) => {
                let shell_true = c.keywords.iter().any(|k| {
                    k.arg.as_ref().is_some_and(|a| a.as_str() == "shell")
                        && matches!(&k.value, ast::Expr::Constant(v) if v.value == ast::Constant::Bool(true))
                });
                let string_args = c
                    .args
                    .iter()
                    .filter_map(|a| match a {
                        ast::Expr::Constant(ast::ExprConstant { value: ast::Constant::Str(s), .. }) => Some(s.clone()),
                        _ => None,
                    })
                    .collect();
                let first_arg = c.args.first().map(|a| {
                    match a {
                        ast::Expr::Constant(ast::ExprConstant { value: ast::Constant::Str(_), .. }) => "str",
                        ast::Expr::JoinedStr(_) => "fstring",
                        ast::Expr::BinOp(_) => "binop",
                        ast::Expr::Call(_) => "call",
                        ast::Expr::Name(_) => "name",
                        ast::Expr::Attribute(_) => "attribute",
                        _ => "other",
                    }
                    .to_string()
                });
                self.calls.push(CallFact {
                    callee: dotted(&c.func),
                    shell_true,
                    string_args,
                    first_arg,
                    keywords: c.keywords.iter().filter_map(|k| k.arg.as_ref().map(|a| a.to_string())).collect(),
                    star_kwargs: c.keywords.iter().any(|k| k.arg.is_none()),
                    line: self.lines.line(node.range().start().to_usize()),
                });
            }
            _ => {}
        }
        self.generic_visit_expr(node)
    }

    crate::visit::visit_the_gaps!(defaults);
}
