//! `security_audit`: real functions with a sink woven into the data flow of
//! their real parameter, each paired with a clean twin that differs from it
//! in exactly one line. Both halves hold the same sink call and the same
//! sanitiser vocabulary, so what tells them apart is which value reaches the
//! sink, or whether a check that looks right is right (decision 0010).

use bench_core::{Category, Expected, ExploitJob, Prompt, Tier};
use py_ast_meta::{FunctionSig, ModuleMeta, ParamKind};

use super::context::Context;
use super::select::Candidate;
use crate::draft::{Check as Settle, Draft, Pending};
use crate::text::{indent_of, numbered, snippet};
use crate::Template;

const SYSTEM: &str =
    "You are a meticulous application-security auditor. Answer with exactly one JSON object and nothing else.";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Shell,
    /// A value in an unquoted numeric position.
    SqlValue,
    /// An identifier in `ORDER BY`, which no placeholder can bind.
    SqlColumn,
    Path,
    Eval,
}

impl Kind {
    fn of_template(template: Template) -> &'static [Kind] {
        match template {
            Template::Shell => &[Kind::Shell],
            Template::Sql => &[Kind::SqlValue, Kind::SqlColumn],
            Template::Path => &[Kind::Path],
            Template::Eval => &[Kind::Eval],
        }
    }

    fn template(self) -> Template {
        match self {
            Kind::Shell => Template::Shell,
            Kind::SqlValue | Kind::SqlColumn => Template::Sql,
            Kind::Path => Template::Path,
            Kind::Eval => Template::Eval,
        }
    }

    fn cwe(self) -> &'static str {
        match self {
            Kind::Shell => "CWE-78",
            Kind::SqlValue | Kind::SqlColumn => "CWE-89",
            Kind::Path => "CWE-22",
            Kind::Eval => "CWE-95",
        }
    }

    /// The idiomatic fix for this sink, over the variable `s`.
    fn right(self, s: &str, n: &Names) -> String {
        match self {
            Kind::Shell => format!("shlex.quote({s})"),
            // Never raises: a check that raised for bad input would stop the
            // vulnerable half too (an int() computed before the sink made a
            // "vulnerable" half unexploitable; decision 0022).
            Kind::SqlValue => format!("int({s}) if {s}.isdecimal() else 0"),
            Kind::SqlColumn => format!("{s} if {s} in (\"{}\", \"{}\") else \"{}\"", n.cols[0], n.cols[1], n.cols[0]),
            Kind::Path => format!("os.path.basename({s})"),
            Kind::Eval => format!("{s} if {s}.isidentifier() else \"None\""),
        }
    }

    fn right_label(self) -> &'static str {
        match self {
            Kind::Shell => "shlex.quote",
            Kind::SqlValue => "int of a decimal string",
            Kind::SqlColumn => "an allow-list",
            Kind::Path => "os.path.basename",
            Kind::Eval => "isidentifier",
        }
    }

    /// Idiomatic fixes for other sinks (HTML, JSON, paths, shells) that do
    /// not neutralise this one: a matcher that knows sanitiser names but
    /// not which sink each one protects cannot tell the halves apart.
    fn wrong(self) -> &'static [&'static str] {
        match self {
            Kind::Shell | Kind::SqlValue | Kind::SqlColumn => {
                &["json.dumps({s})", "html.escape({s})", "os.path.basename({s})"]
            }
            Kind::Path => &["shlex.quote({s})", "html.escape({s})"],
            Kind::Eval => &["html.escape({s})", "os.path.basename({s})"],
        }
    }

    /// The pattern a value must match in full to be safe here.
    fn pattern(self) -> &'static str {
        match self {
            Kind::Shell => r"[\w.-]+",
            Kind::SqlValue => r"\d+",
            Kind::SqlColumn => r"\w+",
            Kind::Path => r"[\w-][\w.-]*",
            Kind::Eval => r"[A-Za-z_]\w*",
        }
    }

    /// Checks that look right; the vulnerable half uses the broken form.
    fn checks(self) -> &'static [Check] {
        match self {
            Kind::Shell => &[Check::Anchor, Check::DoubleQuoted],
            Kind::SqlValue | Kind::Eval => &[Check::Anchor],
            Kind::SqlColumn => &[Check::Anchor, Check::Prefix],
            Kind::Path => &[Check::Anchor, Check::SeparatorPrefix, Check::LexicalCommonpath],
        }
    }

    fn comments(self) -> &'static [&'static str] {
        match self {
            Kind::Shell => &[
                "# {arg} is quoted by the caller",
                "# callers pass validated input only",
                "# no shell metacharacters reach this point",
            ],
            Kind::SqlValue | Kind::SqlColumn => &[
                "# {arg} is checked by the caller",
                "# only validated values reach this query",
                "# safe: input sanitised before the call",
            ],
            Kind::Path => {
                &["# {arg} cannot leave {dir}", "# callers strip directory parts", "# the path is validated before use"]
            }
            Kind::Eval => &[
                "# only plain names reach eval",
                "# {arg} is checked before evaluation",
                "# input validated by the caller",
            ],
        }
    }
}

/// A check that looks right; its broken form is the vulnerable half.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Check {
    /// A pattern anchored at one end only, against both ends (`$` before a
    /// trailing newline is harmless in every sink here).
    Anchor,
    /// `shlex.quote` output wrapped in double quotes, where `$(...)` expands.
    DoubleQuoted,
    /// An allow-list applied to the first word only, against the whole value.
    Prefix,
    /// `startswith(root)` without the separator: a sibling directory passes.
    SeparatorPrefix,
    /// `os.path.commonpath` over an unresolved path: `..` passes.
    LexicalCommonpath,
}

impl Check {
    fn label(self) -> &'static str {
        match self {
            Check::Anchor => "pattern anchored at one end only",
            Check::DoubleQuoted => "shlex.quote inside double quotes",
            Check::Prefix => "allow-list checks the first word only",
            Check::SeparatorPrefix => "containment by prefix without the separator",
            Check::LexicalCommonpath => "commonpath over an unresolved path",
        }
    }
}

/// Names and strings drawn from the function and its module.
struct Names {
    param: String,
    stem: String,
    raw: String,
    a: String,
    b: String,
    out: String,
    target: String,
    helper: String,
    arg: String,
    tool: String,
    table: String,
    db: String,
    cols: [String; 2],
    dir: String,
    root: String,
    conn: String,
}

/// Deterministic choices for one item.
struct Pick<'c, 'a> {
    cx: &'c Context<'a>,
    file: &'c str,
    purpose: String,
}

impl Pick<'_, '_> {
    fn index(&self, what: &str, n: usize) -> usize {
        (self.cx.rank(self.file, &format!("{}|{what}", self.purpose)) % n.max(1) as u64) as usize
    }

    fn of<'x>(&self, what: &str, pool: &[&'x str]) -> &'x str {
        pool[self.index(what, pool.len())]
    }
}

fn names(pick: &Pick<'_, '_>, kind: Kind, module: &str, param: &str, original: &str) -> Names {
    let stem = param.trim_start_matches('_');
    let stem = if stem.is_empty() { "value" } else { stem };
    let area: String = module
        .rsplit('.')
        .find(|s| !s.starts_with("__"))
        .unwrap_or("data")
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '_' })
        .collect();
    // A drawn name must not shadow one the function already uses.
    let fresh = |name: String| if original.contains(&name) { format!("_{name}") } else { name };
    let suffixes: &[&str] = match kind {
        Kind::Shell => &["arg", "word", "token", "operand", "part"],
        Kind::SqlValue | Kind::SqlColumn => &["key", "ref", "term", "token", "part"],
        Kind::Path => &["name", "part", "leaf", "entry", "segment"],
        Kind::Eval => &["expr", "source", "ref", "spec", "term"],
    };
    let first = pick.index("a", suffixes.len());
    let second = (first + 1 + pick.index("b", suffixes.len() - 1)) % suffixes.len();
    let outs: &[&str] = match kind {
        Kind::Shell => &["status", "code", "rc"],
        Kind::SqlValue | Kind::SqlColumn => &["rows", "found", "records"],
        Kind::Path => &["content", "data", "body"],
        Kind::Eval => &["resolved", "result", "obj"],
    };
    let verbs: &[&str] = match kind {
        Kind::Shell => &["run", "invoke", "call"],
        Kind::SqlValue | Kind::SqlColumn => &["query", "fetch", "lookup"],
        Kind::Path => &["read", "load", "slurp"],
        Kind::Eval => &["resolve", "evaluate", "compute"],
    };
    let tool = pick
        .of("tool", &["logger -t {area}", "file --brief", "wc -c", "du -sh", "ls -ld", "stat -c %s", "grep -c {area}"])
        .replace("{area}", &area);
    let other = pick.of("col", &["name", "created", "updated", "position", "label"]);
    let other = if other == stem { "ident" } else { other };
    Names {
        param: param.to_string(),
        stem: stem.to_string(),
        raw: fresh(if stem.ends_with("text") { format!("{stem}_value") } else { format!("{stem}_text") }),
        a: fresh(format!("{stem}_{}", suffixes[first])),
        b: fresh(format!("{stem}_{}", suffixes[second])),
        out: fresh(format!("{stem}_{}", pick.of("out", outs))),
        target: fresh(format!("{stem}_path")),
        helper: fresh(format!("_{}_{area}", pick.of("verb", verbs))),
        arg: pick.of("arg", &["value", "item", "given", "text"]).to_string(),
        tool,
        table: format!("{area}_{stem}"),
        db: format!("{area}.sqlite3"),
        cols: [stem.to_string(), other.to_string()],
        dir: format!("{area}_{}", pick.of("dir", &["data", "files", "store", "cache", "templates", "assets"])),
        root: fresh(format!("{area}_root")),
        conn: fresh(format!("{area}_db")),
    }
}

/// Lines that set up what the sink needs (a connection, a root directory).
fn setup(kind: Kind, check: Option<Check>, n: &Names) -> Vec<String> {
    match (kind, check) {
        (Kind::SqlValue | Kind::SqlColumn, _) => {
            vec![format!("{} = sqlite3.connect(os.path.join(os.path.dirname(__file__), \"{}\"))", n.conn, n.db)]
        }
        (Kind::Path, Some(Check::SeparatorPrefix | Check::LexicalCommonpath)) => {
            vec![format!("{} = os.path.realpath(os.path.join(os.path.dirname(__file__), \"{}\"))", n.root, n.dir)]
        }
        (Kind::Path, _) => vec![format!("{} = os.path.join(os.path.dirname(__file__), \"{}\")", n.root, n.dir)],
        (Kind::Shell | Kind::Eval, _) => Vec::new(),
    }
}

/// How a sink statement is written.
#[derive(Clone, Copy, Default)]
struct Form {
    /// In a helper: `return` the result.
    ret: bool,
    /// Shell: `subprocess.run(..., shell=True)` rather than `os.system`.
    subprocess: bool,
    /// Shell: the value inside double quotes.
    quoted: bool,
    /// Path: `x` is already the full path.
    full_path: bool,
    /// Anchor: which of the three broken/right forms.
    anchor: u8,
}

/// The sink statement over `x`; its first line is the statement graded.
fn sink(kind: Kind, n: &Names, x: &str, f: Form) -> Vec<String> {
    let lhs = if f.ret { "return ".to_string() } else { format!("{} = ", n.out) };
    let line = match kind {
        Kind::Shell => {
            let command =
                if f.quoted { format!("f'{} \"{{{x}}}\"'", n.tool) } else { format!("f\"{} {{{x}}}\"", n.tool) };
            if f.subprocess {
                format!("{lhs}subprocess.run({command}, shell=True, check=False).returncode")
            } else {
                format!("{lhs}os.system({command})")
            }
        }
        Kind::SqlValue => {
            format!("{lhs}{}.execute(f\"SELECT * FROM {} WHERE rowid = {{{x}}}\").fetchall()", n.conn, n.table)
        }
        Kind::SqlColumn => {
            format!("{lhs}{}.execute(f\"SELECT * FROM {} ORDER BY {{{x}}}\").fetchall()", n.conn, n.table)
        }
        Kind::Path => {
            let path = if f.full_path { x.to_string() } else { format!("os.path.join({}, {x})", n.root) };
            return vec![format!("with open({path}) as fh:"), format!("    {lhs}fh.read()")];
        }
        Kind::Eval => format!("{lhs}eval({x})"),
    };
    vec![line]
}

/// The check lines over `s`, broken or right, and how the sink is written
/// after them (and over which variable).
fn check_lines(kind: Kind, check: Check, n: &Names, s: &str, broken: bool, form: Form) -> (Vec<String>, String, Form) {
    let raise = format!("    raise ValueError(f\"unexpected {}: {{{s}!r}}\")", n.stem);
    match check {
        Check::Anchor => {
            // One character apart, same vocabulary: only the anchors differ.
            let p = kind.pattern();
            let test = match (form.anchor, broken) {
                (0, true) => format!("re.match(r\"{p}\", {s})"),
                (0, false) => format!("re.match(r\"{p}$\", {s})"),
                (1, true) => format!("re.search(r\"{p}$\", {s})"),
                (1, false) => format!("re.search(r\"^{p}$\", {s})"),
                (_, true) => format!("re.search(r\"^{p}\", {s})"),
                (_, false) => format!("re.search(r\"^{p}$\", {s})"),
            };
            (vec![format!("if not {test}:"), raise], s.to_string(), form)
        }
        Check::DoubleQuoted => {
            (vec![format!("{} = shlex.quote({s})", n.b)], n.b.clone(), Form { quoted: broken, ..form })
        }
        Check::Prefix => {
            let allowed = format!("(\"{}\", \"{}\")", n.cols[0], n.cols[1]);
            // A multi-word clause ("name DESC") checked by its first word only.
            let checked = if broken { format!("{s}.partition(\" \")[0]") } else { s.to_string() };
            let test = format!("if {checked} not in {allowed}:");
            (vec![test, raise], s.to_string(), form)
        }
        Check::SeparatorPrefix => {
            let end = if broken { n.root.clone() } else { format!("{} + os.sep", n.root) };
            (
                vec![
                    format!("{} = os.path.realpath(os.path.join({}, {s}))", n.target, n.root),
                    format!("if not {}.startswith({end}):", n.target),
                    raise,
                ],
                n.target.clone(),
                Form { full_path: true, ..form },
            )
        }
        Check::LexicalCommonpath => {
            let joined = format!("os.path.join({}, {s})", n.root);
            let value = if broken { joined } else { format!("os.path.realpath({joined})") };
            (
                vec![
                    format!("{} = {value}", n.target),
                    format!("if os.path.commonpath([{}, {}]) != {}:", n.root, n.target, n.root),
                    raise,
                ],
                n.target.clone(),
                Form { full_path: true, ..form },
            )
        }
    }
}

/// Function-local imports for the modules a block uses.
fn imports(block: &[String]) -> Vec<String> {
    let mut out = Vec::new();
    for m in ["html", "json", "os", "re", "shlex", "sqlite3", "subprocess"] {
        let used = block.iter().any(|l| {
            l.match_indices(&format!("{m}.")).any(|(i, _)| {
                !l[..i].chars().next_back().is_some_and(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.')
            })
        });
        if used {
            out.push(format!("import {m}"));
        }
    }
    out
}

fn indented(prefix: &str, lines: Vec<String>) -> Vec<String> {
    lines.into_iter().map(|l| format!("{prefix}{l}")).collect()
}

/// Both halves of a pair before placement: the lines inserted at the top
/// of the body, those inserted before its last statement (T3), and where
/// the sink statement is (`true` = in the second block).
struct Halves {
    top: [Vec<String>; 2],
    late: [Vec<String>; 2],
    sink: (bool, usize),
    tier: Tier,
    rule: String,
    mechanism: String,
}

/// The flow mechanism: two values of the parameter, one sanitised for the
/// sink and one with a transformation that does not neutralise it; the
/// sink takes one of them.
fn flow(kind: Kind, pick: &Pick<'_, '_>, n: &Names) -> (Vec<String>, [String; 2], String) {
    let wrong = pick.of("wrong", kind.wrong());
    let mut lines = vec![format!("{} = str({})", n.raw, n.param)];
    let wrong_line = format!("{} = {}", n.a, wrong.replace("{s}", &n.raw));
    let right_line = format!("{} = {}", n.b, kind.right(&n.raw, n));
    if pick.index("order", 2) == 0 {
        lines.extend([wrong_line, right_line]);
    } else {
        lines.extend([right_line, wrong_line]);
    }
    let label = format!("{} against {}", kind.right_label(), wrong.replace("{s}", "s"));
    (lines, [n.a.clone(), n.b.clone()], label)
}

fn halves(
    kind: Kind,
    tier: Tier,
    pick: &Pick<'_, '_>,
    n: &Names,
    f: &FunctionSig,
    min_distance: usize,
) -> Option<Halves> {
    let form =
        Form { subprocess: pick.index("subprocess", 2) == 1, anchor: pick.index("anchor", 3) as u8, ..Form::default() };
    let comment = pick.of("comment", kind.comments()).replace("{arg}", &n.arg).replace("{dir}", &n.dir);
    let none = || [Vec::new(), Vec::new()];
    match tier {
        Tier::T2 => {
            let (mut top, xs, label) = flow(kind, pick, n);
            top.splice(0..0, setup(kind, None, n));
            let at = top.len();
            Some(Halves {
                top: xs.map(|x| [top.clone(), sink(kind, n, &x, form)].concat()),
                late: none(),
                sink: (false, at),
                tier,
                rule: format!("T2: the sink takes one of two derived values ({label}), right after them"),
                mechanism: format!("flow: {label}"),
            })
        }
        Tier::T4 => {
            let (mut derive, xs, label) = flow(kind, pick, n);
            let mut head = setup(kind, None, n);
            head.push(format!("def {}({}):", n.helper, n.arg));
            head.push(format!("    {comment}"));
            let at = head.len();
            head.extend(indented("    ", sink(kind, n, &n.arg, Form { ret: true, ..form })));
            derive.splice(0..0, head);
            Some(Halves {
                top: xs.map(|x| [derive.clone(), vec![format!("{} = {}({x})", n.out, n.helper)]].concat()),
                late: none(),
                sink: (false, at),
                tier,
                rule: format!(
                    "T4: the sink sits in a nested helper, called with one of two derived values ({label}); a reassuring comment above it"
                ),
                mechanism: format!("flow through a helper: {label}"),
            })
        }
        Tier::T1 | Tier::T3 | Tier::T5 => {
            let check = *kind.checks().get(pick.index("check", kind.checks().len()))?;
            let in_helper = tier == Tier::T5;
            let s = if in_helper { n.arg.clone() } else { n.raw.clone() };
            let build = |broken: bool| -> (Vec<String>, usize) {
                let (checks, x, form) = check_lines(kind, check, n, &s, broken, Form { ret: in_helper, ..form });
                let mut lines = setup(kind, Some(check), n);
                if in_helper {
                    lines.push(format!("def {}({}):", n.helper, n.arg));
                    lines.extend(indented("    ", checks));
                    lines.push(format!("    {comment}"));
                    let at = lines.len();
                    lines.extend(indented("    ", sink(kind, n, &x, form)));
                    lines.push(format!("{} = {}(str({}))", n.out, n.helper, n.param));
                    (lines, at)
                } else {
                    lines.push(format!("{} = str({})", n.raw, n.param));
                    lines.extend(checks);
                    let at = lines.len();
                    lines.extend(sink(kind, n, &x, form));
                    (lines, at)
                }
            };
            let ((vuln, at), (clean, _)) = (build(true), build(false));
            let label = check.label();
            if tier == Tier::T3 {
                // The check at the top, the sink before the last statement.
                let (first, last) = (*f.body_lines.first()?, *f.body_lines.last()?);
                let distance = (last - first) as usize;
                if f.body_lines.len() < 2 || distance < min_distance {
                    return None;
                }
                let split = |v: Vec<String>| (v[..at].to_vec(), v[at..].to_vec());
                let ((vt, vl), (ct, cl)) = (split(vuln), split(clean));
                return Some(Halves {
                    top: [vt, ct],
                    late: [vl, cl],
                    sink: (true, 0),
                    tier,
                    rule: format!(
                        "T3: a check that looks right and is not ({label}), {distance} lines of the function's own code before the sink (>= {min_distance})"
                    ),
                    mechanism: format!("{label}, buried"),
                });
            }
            let rule = if in_helper {
                format!("T5: a check that looks right and is not ({label}), inside a nested helper; a reassuring comment above the sink")
            } else {
                format!("T1: a check that looks right and is not ({label}), right before the sink")
            };
            Some(Halves {
                top: [vuln, clean],
                late: none(),
                sink: (false, at),
                tier,
                rule,
                mechanism: label.to_string(),
            })
        }
    }
}

/// One pair = two drafts (vulnerable first), each with the exploit run that
/// settles its label.
pub(crate) type Pair = Vec<Pending>;

impl Kind {
    /// The harness's name for the sink.
    fn exploit_kind(self) -> &'static str {
        match self {
            Kind::Shell => "shell",
            Kind::SqlValue => "sql_value",
            Kind::SqlColumn => "sql_column",
            Kind::Path => "path",
            Kind::Eval => "eval",
        }
    }

    /// The values an attacker tries on this sink: the injection itself in the
    /// forms each wrong fix lets through and each one-sided pattern admits
    /// (starting or ending with a harmless token), and the bypasses of each
    /// check (a newline before `$`, a sibling directory with a longer name,
    /// `..` before normalisation, a substitution inside double quotes).
    fn payloads(self, n: &Names) -> Vec<String> {
        let c = &n.cols[0];
        let list: Vec<String> = match self {
            Kind::Shell => vec![
                "x; touch bench-pwned".into(),
                "$(touch bench-pwned)".into(),
                "`touch bench-pwned`".into(),
                "x && touch bench-pwned".into(),
                "x | touch bench-pwned".into(),
                "x\ntouch bench-pwned".into(),
                "x\n".into(),
                "x\" ; touch bench-pwned ; \"".into(),
            ],
            Kind::SqlValue => vec![
                "0 OR bench_marker()".into(),
                "bench_marker() OR 0".into(),
                "x\" OR bench_marker() --".into(),
                "x' OR bench_marker() --".into(),
                "1\n".into(),
            ],
            Kind::SqlColumn => vec![
                format!("{c}, bench_marker()"),
                format!("bench_marker(), {c}"),
                "bench_marker()".into(),
                format!("{c} DESC, bench_marker()"),
                "x\" , bench_marker() --".into(),
                format!("{c}\n"),
            ],
            Kind::Path => vec![
                "../../../../../../../../etc/passwd".into(),
                "/etc/passwd".into(),
                format!("../{}_evil/secret", n.dir),
                format!("a/../../{}_x/secret", n.dir),
                "a/../../../../../../../../etc/passwd".into(),
                "x\n".into(),
                "..".into(),
            ],
            Kind::Eval => vec![
                "bench_marker()".into(),
                "bench_marker() or x".into(),
                "__import__('builtins').bench_marker()".into(),
                "x\n".into(),
                "bench_marker".into(),
            ],
        };
        list
    }
}

pub(crate) fn candidates(cx: &Context<'_>) -> Vec<Candidate<Pair>> {
    let rules = &cx.rules.security_audit;
    let kinds: Vec<Kind> = rules.templates.iter().flat_map(|t| Kind::of_template(*t).iter().copied()).collect();
    if kinds.is_empty() {
        return Vec::new();
    }
    let mut out = Vec::new();
    for m in cx.library_modules() {
        for (symbol, _, f) in m.callables() {
            if f.statements < rules.min_statements || f.body_lines.is_empty() {
                continue;
            }
            // A function that already holds a sink has no clean twin.
            let original = snippet(cx.text(&m.path), f.start_line, f.end_line).join("\n");
            if !crate::sinks::find_sinks(&original).is_empty() {
                continue;
            }
            let Some(param) = f.params.iter().find(|p| {
                matches!(p.kind, ParamKind::Normal | ParamKind::PositionalOnly | ParamKind::KeywordOnly)
                    && p.name != "self"
                    && p.name != "cls"
                    && fits(&original, &p.name, p.annotation.as_deref())
            }) else {
                continue;
            };
            for tier in Tier::ALL {
                let purpose = format!("security_audit|{symbol}|{tier}");
                let rank = cx.rank(&m.path, &purpose);
                let pick = Pick { cx, file: &m.path, purpose };
                let kind = kinds[pick.index("kind", kinds.len())];
                let n = names(&pick, kind, &m.module, &param.name, &original);
                let Some(h) = halves(kind, tier, &pick, &n, f, rules.min_buried_distance) else { continue };
                if let Some(pair) = build(cx, m, &symbol, f, kind, &n, h) {
                    out.push(Candidate { tier, file: m.path.clone(), symbol: symbol.clone(), rank, item: pair });
                }
            }
        }
    }
    out
}

/// Whether the code treats `p` as a plain value a string can stand for:
/// not a container it indexes, iterates or calls methods of a mapping on.
fn fits(original: &str, p: &str, annotation: Option<&str>) -> bool {
    let container = ["dict", "list", "Mapping", "Sequence", "Iterable", "set", "tuple", "Dict", "List"];
    if annotation.is_some_and(|a| container.iter().any(|c| a.contains(c))) {
        return false;
    }
    // Names that say "collection" or "document" (plural, or a known word).
    let bare = p.trim_start_matches('_');
    let plural = bare.ends_with('s') && !["ss", "us", "is"].iter().any(|e| bare.ends_with(e));
    let words = ["document", "schema", "mapping", "config", "options", "kwargs", "args", "data", "node", "obj"];
    if plural || words.contains(&bare) {
        return false;
    }
    let uses = ["[", ".items(", ".get(", ".keys(", ".values(", ".append(", ".update(", ".pop("];
    !(uses.iter().any(|u| original.contains(&format!("{p}{u}"))) || original.contains(&format!(" in {p}:")))
}

fn build(
    cx: &Context<'_>,
    m: &ModuleMeta,
    symbol: &str,
    f: &FunctionSig,
    kind: Kind,
    n: &Names,
    h: Halves,
) -> Option<Pair> {
    let base = snippet(cx.text(&m.path), f.start_line, f.end_line);
    let rel = |line: u32| (line - f.start_line) as usize;
    let top_at = rel(*f.body_lines.first()?);
    let late_at = rel(*f.body_lines.last()?);
    let indent = indent_of(base.get(top_at)?);
    // Function-local imports go first; the late block needs none of its own.
    let imports: [Vec<String>; 2] = [0, 1].map(|i| imports(&[h.top[i].clone(), h.late[i].clone()].concat()));
    let place = |i: usize| -> Vec<String> {
        let mut lines = base.clone();
        lines.splice(late_at..late_at, indented(&indent, h.late[i].clone()));
        lines.splice(top_at..top_at, indented(&indent, [imports[i].clone(), h.top[i].clone()].concat()));
        lines
    };
    let (vuln, clean) = (place(0), place(1));
    // Minimal diff: the halves differ in one line, and both parse.
    if vuln.len() != clean.len() || (0..vuln.len()).filter(|i| vuln[*i] != clean[*i]).count() != 1 {
        return None;
    }
    for code in [&vuln, &clean] {
        py_ast_meta::mutation::normalized_ast(&code.join("\n")).ok()?;
    }
    let sink_line = match h.sink {
        (false, at) => top_at + imports[0].len() + at + 1,
        (true, at) => late_at + imports[0].len() + h.top[0].len() + at + 1,
    } as u32;
    let pair = bench_core::Hasher::new()
        .field(cx.snapshot_id)
        .field(&m.path)
        .field(symbol)
        .field(kind.template().as_str())
        .field(h.tier.to_string())
        .hex()[..16]
        .to_string();
    let draft = |lines: &[String], vulnerable: bool| Draft {
        category: Category::SecurityAudit,
        tier: h.tier,
        tier_rule: h.rule.clone(),
        file: m.path.clone(),
        symbol: symbol.to_string(),
        span: [f.start_line, f.end_line],
        prompt: prompt(&m.path, &m.module, lines),
        expected: Expected::SecurityAudit {
            vulnerable,
            cwe: kind.cwe().to_string(),
            line: sink_line,
            lines: vec![sink_line],
            pair: pair.clone(),
            template: format!("{}/{}", kind.template(), h.mechanism),
        },
        evidence: bench_core::Evidence::Structural,
    };
    let job = |lines: &[String]| ExploitJob {
        file: m.path.clone(),
        module: m.module.clone(),
        class: symbol.split_once('.').map(|(c, _)| c.to_string()),
        name: f.name.clone(),
        source: lines.join("\n") + "\n",
        param: n.param.clone(),
        kind: kind.exploit_kind().to_string(),
        payloads: kind.payloads(n),
        columns: if matches!(kind, Kind::SqlValue | Kind::SqlColumn) { n.cols.to_vec() } else { Vec::new() },
        root: (kind == Kind::Path).then(|| n.dir.clone()),
    };
    Some(vec![
        Pending { draft: draft(&vuln, true), check: Settle::Exploited(job(&vuln)) },
        Pending { draft: draft(&clean, false), check: Settle::Withstands(job(&clean)) },
    ])
}

fn prompt(path: &str, module: &str, lines: &[String]) -> Prompt {
    let user = format!(
        "Audit this Python function from `{path}` (module `{module}`) for security vulnerabilities: \
SQL injection (CWE-89), OS command injection (CWE-78), path traversal (CWE-22), \
evaluation of untrusted input (CWE-95) and unsafe deserialisation (CWE-502). \
Assume every parameter may come from an attacker. Line numbers are shown on the left.\n\n\
```python\n{}```\n\n\
Answer with exactly one JSON object:\n\
{{\"vulnerable\": true or false, \"cwe\": \"CWE-<number>\" or null, \"line\": <line number of the vulnerable statement> or null}}\n",
        numbered(lines)
    );
    Prompt { system: SYSTEM.to_string(), user }
}
