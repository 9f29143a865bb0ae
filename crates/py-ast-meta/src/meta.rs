use rustpython_ast::{self as ast, Ranged};
use rustpython_parser::Parse;
use serde::{Deserialize, Serialize};

use crate::api::ApiIndex;
use crate::lines::Lines;
use crate::visit::{docstring, text_of, BodyStats};
use crate::ParseFailure;

/// A source file handed to extraction: a snapshot-relative path and its text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceFile {
    /// Snapshot-relative path.
    pub path: String,
    /// The file's text.
    pub text: String,
}

/// The bounds of extraction; part of the versioned rules document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExtractRules {
    /// Top-level functions and classes kept per module (in source order).
    pub max_signatures: usize,
    /// Methods kept per class.
    pub max_methods_per_class: usize,
    /// What makes a method functionally significant.
    pub significant: SignificantRule,
}

impl Default for ExtractRules {
    fn default() -> Self {
        Self { max_signatures: 100, max_methods_per_class: 200, significant: SignificantRule::default() }
    }
}

/// What makes a method "functionally significant" (see the crate docs).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignificantRule {
    /// Statements in the body without the docstring, counted through nested blocks.
    pub min_statements: usize,
    /// The longest span, in lines.
    pub max_lines: u32,
    /// Whether the body must branch.
    pub require_branch: bool,
    /// Whether the body must call something.
    pub require_call: bool,
}

impl Default for SignificantRule {
    fn default() -> Self {
        Self { min_statements: 3, max_lines: 60, require_branch: true, require_call: true }
    }
}

/// One imported name. `import a.b as c` is `{module: "a.b", name: None, alias: "c"}`;
/// `from ..x import y` is `{module: "x", name: "y", level: 2}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Import {
    /// The module imported from (`os.path`; empty for `from . import x`).
    pub module: String,
    /// The name imported by `from M import name`.
    pub name: Option<String>,
    /// The `as` alias.
    pub alias: Option<String>,
    /// Leading dots of a relative import.
    pub level: u32,
    /// Its 1-based line.
    pub line: u32,
}

impl Import {
    /// The name this import binds in the module: the alias, else the imported
    /// name, else the first part of the module (`import a.b` binds `a`).
    pub fn bound(&self) -> &str {
        match (&self.alias, &self.name) {
            (Some(a), _) => a,
            (None, Some(n)) => n,
            (None, None) => self.module.split('.').next().unwrap_or_default(),
        }
    }
}

/// How a parameter binds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ParamKind {
    /// Before `/`.
    #[serde(rename = "posonly")]
    PositionalOnly,
    /// Positional or keyword.
    Normal,
    /// `*args`.
    #[serde(rename = "vararg")]
    VarArgs,
    /// After `*` or `*args`.
    #[serde(rename = "kwonly")]
    KeywordOnly,
    /// `**kwargs`.
    #[serde(rename = "kwarg")]
    VarKeywords,
}

impl ParamKind {
    /// `posonly`, `normal`, `vararg`, `kwonly` or `kwarg`.
    pub fn as_str(self) -> &'static str {
        match self {
            ParamKind::PositionalOnly => "posonly",
            ParamKind::Normal => "normal",
            ParamKind::VarArgs => "vararg",
            ParamKind::KeywordOnly => "kwonly",
            ParamKind::VarKeywords => "kwarg",
        }
    }
}

/// One parameter of a function.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Param {
    /// Its name.
    pub name: String,
    /// Its kind.
    pub kind: ParamKind,
    /// Its annotation, as source.
    pub annotation: Option<String>,
    /// Its default, as source.
    pub default: Option<String>,
}

/// A function or method signature, rendered as Python source.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FunctionSig {
    /// The function's name.
    pub name: String,
    /// Whether it is `async def`.
    pub is_async: bool,
    /// Its decorators, as source.
    pub decorators: Vec<String>,
    /// Its parameters, in order.
    pub params: Vec<Param>,
    /// Its return annotation, as source.
    pub returns: Option<String>,
    /// e.g. `def f(a: int, b=1, *, c) -> str:`
    pub signature: String,
    /// First line, decorators included.
    pub start_line: u32,
    /// Its last line.
    pub end_line: u32,
    /// Its docstring.
    pub docstring: Option<String>,
    /// Statements in the body (nested blocks counted), docstring excluded.
    pub statements: usize,
    /// First lines of the body's top-level statements, docstring excluded.
    pub body_lines: Vec<u32>,
    /// Whether the body branches (see the crate docs).
    pub branches: bool,
    /// Whether the body makes any call.
    pub calls: bool,
    /// Names the body loads, and the attributes of names it uses (`self.x`,
    /// `errors.X`).
    pub names_used: Vec<String>,
}

/// A class and its methods.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClassSig {
    /// The class's name.
    pub name: String,
    /// Its decorators, as source.
    pub decorators: Vec<String>,
    /// Its bases, as source.
    pub bases: Vec<String>,
    /// e.g. `class Validator(BareValidator):`
    pub signature: String,
    /// Its first line (decorators included).
    pub start_line: u32,
    /// Its last line.
    pub end_line: u32,
    /// Its docstring.
    pub docstring: Option<String>,
    /// Its methods, in source order.
    pub methods: Vec<FunctionSig>,
}

/// The first functionally significant function or method of a module.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignificantMethod {
    /// `Class.method` or `function`.
    pub symbol: String,
    /// Its first line.
    pub start_line: u32,
    /// Its last line.
    pub end_line: u32,
    /// The exact source lines `start_line..=end_line`.
    pub source: String,
}

/// The bounded metadata of one module.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModuleMeta {
    /// Snapshot-relative path.
    pub path: String,
    /// Dotted module name (`pkg/__init__.py` is `pkg`; a leading `src/` is dropped).
    pub module: String,
    /// The imports before the first definition.
    pub imports: Vec<Import>,
    /// Top-level functions.
    pub functions: Vec<FunctionSig>,
    /// Top-level classes.
    pub classes: Vec<ClassSig>,
    /// Names bound by module-level assignments.
    pub assignments: Vec<String>,
    /// The first functionally significant function or method.
    pub significant_method: Option<SignificantMethod>,
    /// Whether `max_signatures` cut the lists.
    pub truncated: bool,
}

impl ModuleMeta {
    /// Every function and method with its symbol, in source order.
    pub fn callables(&self) -> Vec<(String, Option<&ClassSig>, &FunctionSig)> {
        let mut all: Vec<(String, Option<&ClassSig>, &FunctionSig)> =
            self.functions.iter().map(|f| (f.name.clone(), None, f)).collect();
        for c in &self.classes {
            all.extend(c.methods.iter().map(|m| (format!("{}.{}", c.name, m.name), Some(c), m)));
        }
        all.sort_by_key(|(_, _, f)| f.start_line);
        all
    }
}

/// Metadata of a whole snapshot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Extraction {
    /// The snapshot parsed.
    pub snapshot_id: String,
    /// Modules that parsed, in path order.
    pub modules: Vec<ModuleMeta>,
    /// Files that did not parse, with where and why.
    pub parse_failures: Vec<ParseFailure>,
    /// Which modules exist and which names each defines.
    #[serde(skip)]
    pub api: ApiIndex,
}

/// The dotted module name of a snapshot path, or `None` for a non-Python file.
pub fn module_name(path: &str) -> Option<String> {
    let stem = path.strip_suffix(".py").or_else(|| path.strip_suffix(".pyi"))?;
    let stem = stem.strip_prefix("src/").unwrap_or(stem);
    let stem = stem.strip_suffix("/__init__").unwrap_or(stem);
    Some(stem.replace('/', "."))
}

/// Parses every Python file; a file that does not parse is recorded in
/// `parse_failures` and does not stop the others.
/// Files are parsed on all cores, in contiguous chunks joined back in order,
/// so the result is the same as a sequential pass.
pub fn extract(snapshot_id: &str, files: &[SourceFile], rules: &ExtractRules) -> Extraction {
    let python: Vec<&SourceFile> =
        files.iter().filter(|f| f.path.ends_with(".py") || f.path.ends_with(".pyi")).collect();
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).min(python.len().max(1));
    let chunk = python.len().div_ceil(threads).max(1);
    let parsed: Vec<Result<ModuleMeta, ParseFailure>> = std::thread::scope(|scope| {
        let handles: Vec<_> = python
            .chunks(chunk)
            .map(|part| {
                scope.spawn(move || part.iter().map(|f| parse_module(&f.path, &f.text, rules)).collect::<Vec<_>>())
            })
            .collect();
        // Panics are caught per file in `parse_module`; should a join fail
        // anyway, its files are recorded as failures, never dropped.
        handles
            .into_iter()
            .zip(python.chunks(chunk))
            .flat_map(|(h, part)| {
                h.join().unwrap_or_else(|_| {
                    part.iter()
                        .map(|f| {
                            Err(ParseFailure {
                                path: f.path.clone(),
                                line: 0,
                                error: "the parser thread failed".into(),
                            })
                        })
                        .collect()
                })
            })
            .collect()
    });
    let mut modules = Vec::new();
    let mut parse_failures = Vec::new();
    for r in parsed {
        match r {
            Ok(m) => modules.push(m),
            Err(e) => parse_failures.push(e),
        }
    }
    let api = ApiIndex::build(&modules);
    Extraction { snapshot_id: snapshot_id.to_string(), modules, parse_failures, api }
}

/// Parses one module into its metadata. Nesting CPython refuses, and a
/// panic in the parser, are this module's parse failure.
pub fn parse_module(path: &str, text: &str, rules: &ExtractRules) -> Result<ModuleMeta, ParseFailure> {
    crate::guard::guarded(path, text, || parse_module_unguarded(path, text, rules))
}

fn parse_module_unguarded(path: &str, text: &str, rules: &ExtractRules) -> Result<ModuleMeta, ParseFailure> {
    let suite = ast::Suite::parse(text, path).map_err(|e| ParseFailure::from_parser(path, text, &e))?;
    let lines = Lines::new(text);
    let cx = Cx { src: text, lines: &lines };
    let mut meta = ModuleMeta {
        path: path.to_string(),
        module: module_name(path).unwrap_or_default(),
        imports: Vec::new(),
        functions: Vec::new(),
        classes: Vec::new(),
        assignments: Vec::new(),
        significant_method: None,
        truncated: false,
    };
    cx.head(suite, &mut meta);
    meta.assignments.sort();
    meta.assignments.dedup();
    meta.significant_method = meta.callables().into_iter().find_map(|(symbol, _, f)| {
        significant(f, &rules.significant).then(|| SignificantMethod {
            symbol,
            start_line: f.start_line,
            end_line: f.end_line,
            source: source_lines(text, &lines, f.start_line, f.end_line),
        })
    });
    if meta.functions.len() + meta.classes.len() > rules.max_signatures {
        meta.truncated = true;
        let mut kept = 0;
        meta.functions.retain(|_| {
            kept += 1;
            kept <= rules.max_signatures
        });
        let room = rules.max_signatures.saturating_sub(meta.functions.len());
        meta.classes.truncate(room);
    }
    for c in &mut meta.classes {
        if c.methods.len() > rules.max_methods_per_class {
            c.methods.truncate(rules.max_methods_per_class);
            meta.truncated = true;
        }
    }
    Ok(meta)
}

fn significant(f: &FunctionSig, rule: &SignificantRule) -> bool {
    rule.admits(f)
}

impl SignificantRule {
    /// Whether `f` is functionally significant under this rule.
    pub fn admits(&self, f: &FunctionSig) -> bool {
        let rule = self;
        let dunder = f.name.starts_with("__") && f.name.ends_with("__");
        let allowed_dunder = matches!(f.name.as_str(), "__init__" | "__call__" | "__getitem__");
        (!dunder || allowed_dunder)
            && f.statements >= rule.min_statements
            && f.end_line + 1 - f.start_line <= rule.max_lines
            && (!rule.require_branch || f.branches)
            && (!rule.require_call || f.calls)
    }
}

fn source_lines(text: &str, lines: &Lines, start: u32, end: u32) -> String {
    let from = lines.start_of(start);
    let to = if (end as usize) < text.matches('\n').count() + 1 { lines.start_of(end + 1) } else { text.len() };
    text[from..to.max(from)].to_string()
}

struct Cx<'a> {
    src: &'a str,
    lines: &'a Lines,
}

impl Cx<'_> {
    fn line(&self, node: &impl Ranged) -> u32 {
        self.lines.line(node.range().start().to_usize())
    }

    fn end_line(&self, node: &impl Ranged) -> u32 {
        // The range ends just past the last character; step back onto it.
        self.lines.line(node.range().end().to_usize().saturating_sub(1))
    }

    /// Walks module-level statements (and the bodies of top-level `if` / `try`,
    /// where compatibility imports live).
    /// Takes the statements by value: the visitor that measures bodies consumes
    /// them, so nothing is cloned.
    fn head(&self, body: Vec<ast::Stmt>, meta: &mut ModuleMeta) {
        for stmt in body {
            match stmt {
                ast::Stmt::Import(ref i) => {
                    for a in &i.names {
                        meta.imports.push(Import {
                            module: a.name.to_string(),
                            name: None,
                            alias: a.asname.as_ref().map(|n| n.to_string()),
                            level: 0,
                            line: self.line(i),
                        });
                    }
                }
                ast::Stmt::ImportFrom(ref i) => {
                    for a in &i.names {
                        meta.imports.push(Import {
                            module: i.module.as_ref().map(|m| m.to_string()).unwrap_or_default(),
                            name: Some(a.name.to_string()),
                            alias: a.asname.as_ref().map(|n| n.to_string()),
                            level: i.level.map_or(0, |l| l.to_u32()),
                            line: self.line(i),
                        });
                    }
                }
                ast::Stmt::FunctionDef(_) | ast::Stmt::AsyncFunctionDef(_) => {
                    if let Some(f) = self.function(stmt) {
                        meta.functions.push(f);
                    }
                }
                ast::Stmt::ClassDef(c) => meta.classes.push(self.class(c)),
                ast::Stmt::Assign(ref a) => {
                    for t in &a.targets {
                        collect_targets(t, &mut meta.assignments);
                    }
                }
                ast::Stmt::AnnAssign(ref a) => collect_targets(&a.target, &mut meta.assignments),
                ast::Stmt::If(s) => {
                    self.head(s.body, meta);
                    self.head(s.orelse, meta);
                }
                ast::Stmt::Try(s) => {
                    self.head(s.body, meta);
                    for h in s.handlers {
                        let ast::ExceptHandler::ExceptHandler(h) = h;
                        self.head(h.body, meta);
                    }
                    self.head(s.orelse, meta);
                    self.head(s.finalbody, meta);
                }
                _ => {}
            }
        }
    }

    fn class(&self, c: ast::StmtClassDef) -> ClassSig {
        let decorators: Vec<String> = c.decorator_list.iter().map(|d| text_of(self.src, d)).collect();
        let mut bases: Vec<String> = c.bases.iter().map(|b| text_of(self.src, b)).collect();
        bases.extend(c.keywords.iter().map(|k| text_of(self.src, k)));
        let signature = if bases.is_empty() {
            format!("class {}:", c.name)
        } else {
            format!("class {}({}):", c.name, bases.join(", "))
        };
        let start_line = c.decorator_list.iter().map(|d| self.line(d)).chain([self.line(&c)]).min().unwrap_or(1);
        ClassSig {
            name: c.name.to_string(),
            decorators,
            bases,
            signature,
            start_line,
            end_line: self.end_line(&c),
            docstring: docstring(&c.body),
            methods: c.body.into_iter().filter_map(|s| self.function(s)).collect(),
        }
    }

    fn function(&self, stmt: ast::Stmt) -> Option<FunctionSig> {
        let (def_line, end_line) = (self.line(&stmt), self.end_line(&stmt));
        let (name, args, body, decorator_list, returns, is_async) = match stmt {
            ast::Stmt::FunctionDef(f) => (f.name, f.args, f.body, f.decorator_list, f.returns, false),
            ast::Stmt::AsyncFunctionDef(f) => (f.name, f.args, f.body, f.decorator_list, f.returns, true),
            _ => return None,
        };
        let params = self.params(&args);
        let returns = returns.as_ref().map(|r| text_of(self.src, r.as_ref()));
        let signature = render_signature(name.as_str(), is_async, &params, returns.as_deref());
        let docstring = docstring(&body);
        let skip = usize::from(docstring.is_some());
        let body_lines = body.iter().skip(skip).map(|s| self.line(s)).collect();
        let stats = BodyStats::of(body.into_iter().skip(skip));
        let start_line = decorator_list.iter().map(|d| self.line(d)).chain([def_line]).min().unwrap_or(1);
        Some(FunctionSig {
            name: name.to_string(),
            is_async,
            decorators: decorator_list.iter().map(|d| format!("@{}", text_of(self.src, d))).collect(),
            params,
            returns,
            signature,
            start_line,
            end_line,
            docstring,
            statements: stats.statements,
            body_lines,
            branches: stats.branches,
            calls: stats.calls,
            names_used: stats.names.into_iter().collect(),
        })
    }

    fn params(&self, args: &ast::Arguments) -> Vec<Param> {
        let mut out = Vec::new();
        let mut push = |a: &ast::Arg, kind, default: Option<&ast::Expr>| {
            out.push(Param {
                name: a.arg.to_string(),
                kind,
                annotation: a.annotation.as_ref().map(|x| text_of(self.src, x.as_ref())),
                default: default.map(|d| text_of(self.src, d)),
            })
        };
        for a in &args.posonlyargs {
            push(&a.def, ParamKind::PositionalOnly, a.default.as_deref());
        }
        for a in &args.args {
            push(&a.def, ParamKind::Normal, a.default.as_deref());
        }
        if let Some(a) = &args.vararg {
            push(a, ParamKind::VarArgs, None);
        }
        for a in &args.kwonlyargs {
            push(&a.def, ParamKind::KeywordOnly, a.default.as_deref());
        }
        if let Some(a) = &args.kwarg {
            push(a, ParamKind::VarKeywords, None);
        }
        out
    }
}

fn collect_targets(t: &ast::Expr, out: &mut Vec<String>) {
    match t {
        ast::Expr::Name(n) => out.push(n.id.to_string()),
        ast::Expr::Tuple(t) => t.elts.iter().for_each(|e| collect_targets(e, out)),
        ast::Expr::List(t) => t.elts.iter().for_each(|e| collect_targets(e, out)),
        _ => {}
    }
}

/// Renders `def name(params) -> returns:` with PEP 8 spacing.
fn render_signature(name: &str, is_async: bool, params: &[Param], returns: Option<&str>) -> String {
    let mut parts = Vec::new();
    let mut saw_star = false;
    for (i, p) in params.iter().enumerate() {
        let annotated = |s: String| match &p.annotation {
            Some(a) => format!("{s}: {a}"),
            None => s,
        };
        match p.kind {
            ParamKind::VarArgs => {
                saw_star = true;
                parts.push(annotated(format!("*{}", p.name)));
            }
            ParamKind::VarKeywords => parts.push(annotated(format!("**{}", p.name))),
            kind => {
                if kind == ParamKind::KeywordOnly && !saw_star {
                    saw_star = true;
                    parts.push("*".into());
                }
                let mut s = annotated(p.name.clone());
                if let Some(d) = &p.default {
                    s = if p.annotation.is_some() { format!("{s} = {d}") } else { format!("{s}={d}") };
                }
                parts.push(s);
                let next_not_posonly = params.get(i + 1).is_none_or(|n| n.kind != ParamKind::PositionalOnly);
                if kind == ParamKind::PositionalOnly && next_not_posonly {
                    parts.push("/".into());
                }
            }
        }
    }
    let ret = returns.map(|r| format!(" -> {r}")).unwrap_or_default();
    let prefix = if is_async { "async def" } else { "def" };
    format!("{prefix} {name}({}){ret}:", parts.join(", "))
}

// Built here rather than in `api` so that module stays a leaf: the index
// knows names, not how a parsed module holds them.
impl ApiIndex {
    /// The index over a snapshot's parsed modules.
    pub fn build(modules: &[ModuleMeta]) -> Self {
        let mut index = ApiIndex::default();
        for m in modules {
            let names = index.modules.entry(m.module.clone()).or_default();
            names.extend(m.functions.iter().map(|f| f.name.clone()));
            for c in &m.classes {
                names.insert(c.name.clone());
                names.extend(c.methods.iter().map(|f| format!("{}.{}", c.name, f.name)));
            }
            names.extend(m.assignments.iter().cloned());
            for i in &m.imports {
                if i.bound() != "*" {
                    names.insert(i.bound().to_string());
                }
            }
        }
        index
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn module_names() {
        assert_eq!(module_name("cerberus/__init__.py").as_deref(), Some("cerberus"));
        assert_eq!(module_name("src/pkg/a.py").as_deref(), Some("pkg.a"));
        assert_eq!(module_name("setup.cfg"), None);
    }

    #[test]
    fn renders_every_parameter_kind() {
        let src = "@dec(1)\nasync def f(a, /, b: int = 2, *args: str, c, d=3, **kw) -> 'X':\n    pass\n";
        let m = parse_module("m.py", src, &ExtractRules::default()).unwrap();
        let f = &m.functions[0];
        assert_eq!(f.signature, "async def f(a, /, b: int = 2, *args: str, c, d=3, **kw) -> 'X':");
        assert_eq!(f.decorators, ["@dec(1)"]);
        assert_eq!((f.start_line, f.end_line), (1, 3));
        let kinds: Vec<_> = f.params.iter().map(|p| p.kind.as_str()).collect();
        assert_eq!(kinds, ["posonly", "normal", "vararg", "kwonly", "kwonly", "kwarg"]);
    }

    #[test]
    fn bare_star_for_keyword_only() {
        let m = parse_module("m.py", "def f(a, *, b):\n    pass\n", &ExtractRules::default()).unwrap();
        assert_eq!(m.functions[0].signature, "def f(a, *, b):");
    }

    #[test]
    fn significant_method_skips_trivial_ones() {
        let src = "class A:\n    def __repr__(self):\n        return 'A'\n\n    def small(self):\n        return 1\n\n    def check(self, x):\n        \"\"\"Doc.\"\"\"\n        if x is None:\n            raise ValueError(x)\n        y = len(x)\n        return y > 2\n";
        let m = parse_module("m.py", src, &ExtractRules::default()).unwrap();
        let s = m.significant_method.unwrap();
        assert_eq!(s.symbol, "A.check");
        assert_eq!((s.start_line, s.end_line), (8, 13));
        assert!(s.source.starts_with("    def check(self, x):\n"));
        assert!(s.source.ends_with("return y > 2\n"));
    }

    #[test]
    fn parse_failure_names_the_line() {
        let e = parse_module("bad.py", "x = 1\ndef f(:\n", &ExtractRules::default()).unwrap_err();
        assert_eq!(e.path, "bad.py");
        assert_eq!(e.line, 2);
    }
}
