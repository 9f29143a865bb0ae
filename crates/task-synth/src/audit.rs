//! `security_audit`: real functions with an injected sink, each paired with a
//! clean twin made safe the idiomatic way. The injected code uses the
//! function's real parameter, so it reads like code that could be there.

use bench_core::{Category, Expected, Prompt, Tier};
use py_ast_meta::{FunctionSig, ModuleMeta, ParamKind};

use crate::context::{indent_of, numbered, snippet, Context};
use crate::select::Candidate;
use crate::synth::Draft;

const SYSTEM: &str =
    "You are a meticulous application-security auditor. Answer with exactly one JSON object and nothing else.";

/// How an injected block is dressed, which sets its tier.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Variant {
    /// Plain sink.
    Plain,
    /// A reassuring but false comment above the sink.
    Comment,
    /// Sanitisation that looks right and is not.
    Sanitised,
    /// The sink reached through an alias or `getattr`.
    Obfuscated,
}

/// The vulnerable block, its safe twin, and the sink's offset in the first.
type Blocks = (Vec<String>, Vec<String>, usize);

/// A vulnerability template: builds both blocks around a parameter name.
pub(crate) struct Template {
    pub name: &'static str,
    pub cwe: &'static str,
    pub build: fn(Variant, &str) -> Blocks,
}

fn lines(v: &[&str], p: &str) -> Vec<String> {
    v.iter().map(|l| l.replace("{p}", p)).collect()
}

pub(crate) const TEMPLATES: &[Template] = &[
    Template { name: "sql_format", cwe: "CWE-89", build: sql_format },
    Template { name: "os_system", cwe: "CWE-78", build: os_system },
    Template { name: "shell_true", cwe: "CWE-78", build: shell_true },
    Template { name: "path_join", cwe: "CWE-22", build: path_join },
    Template { name: "eval_input", cwe: "CWE-95", build: eval_input },
    Template { name: "pickle_loads", cwe: "CWE-502", build: pickle_loads },
];

fn sql_format(v: Variant, p: &str) -> Blocks {
    let head = ["import sqlite3", "conn = sqlite3.connect(\"audit.db\")"];
    let (vuln, safe, at): (Vec<&str>, Vec<&str>, usize) = match v {
        Variant::Plain | Variant::Comment => (
            vec![head[0], head[1], "conn.execute(\"INSERT INTO audit (item) VALUES ('%s')\" % ({p},))"],
            vec![head[0], head[1], "conn.execute(\"INSERT INTO audit (item) VALUES (?)\", (str({p}),))"],
            2,
        ),
        Variant::Sanitised => (
            vec![
                head[0],
                head[1],
                "item = str({p}).replace(\";\", \"\")",
                "conn.execute(\"INSERT INTO audit (item) VALUES ('%s')\" % item)",
            ],
            vec![
                head[0],
                head[1],
                "item = str({p}).replace(\";\", \"\")",
                "conn.execute(\"INSERT INTO audit (item) VALUES (?)\", (item,))",
            ],
            3,
        ),
        Variant::Obfuscated => (
            vec![
                head[0],
                head[1],
                "record = getattr(conn, \"execute\")",
                "record(\"INSERT INTO audit (item) VALUES ('{}')\".format({p}))",
            ],
            vec![
                head[0],
                head[1],
                "record = getattr(conn, \"execute\")",
                "record(\"INSERT INTO audit (item) VALUES (?)\", (str({p}),))",
            ],
            3,
        ),
    };
    (lines(&vuln, p), lines(&safe, p), at)
}

fn os_system(v: Variant, p: &str) -> Blocks {
    let (vuln, safe, at): (Vec<&str>, Vec<&str>, usize) = match v {
        Variant::Plain | Variant::Comment => (
            vec!["import os", "os.system(\"logger -t audit \" + str({p}))"],
            vec!["import subprocess", "subprocess.run([\"logger\", \"-t\", \"audit\", str({p})], check=False)"],
            1,
        ),
        Variant::Sanitised => (
            vec![
                "import os",
                "arg = str({p}).replace(\";\", \"\").replace(\"&\", \"\")",
                "os.system(\"logger -t audit \" + arg)",
            ],
            vec![
                "import subprocess",
                "arg = str({p}).replace(\";\", \"\").replace(\"&\", \"\")",
                "subprocess.run([\"logger\", \"-t\", \"audit\", arg], check=False)",
            ],
            2,
        ),
        Variant::Obfuscated => (
            vec!["import os", "notify = getattr(os, \"system\")", "notify(\"logger -t audit \" + str({p}))"],
            vec![
                "import subprocess",
                "notify = getattr(subprocess, \"run\")",
                "notify([\"logger\", \"-t\", \"audit\", str({p})], check=False)",
            ],
            2,
        ),
    };
    (lines(&vuln, p), lines(&safe, p), at)
}

fn shell_true(v: Variant, p: &str) -> Blocks {
    let (vuln, safe, at): (Vec<&str>, Vec<&str>, usize) = match v {
        Variant::Plain | Variant::Comment => (
            vec![
                "import subprocess",
                "subprocess.run(\"grep -q '%s' /etc/audit.list\" % ({p},), shell=True, check=False)",
            ],
            vec!["import subprocess", "subprocess.run([\"grep\", \"-q\", str({p}), \"/etc/audit.list\"], check=False)"],
            1,
        ),
        Variant::Sanitised => (
            vec![
                "import subprocess",
                "pattern = str({p}).replace('\"', \"\")",
                "subprocess.run('grep -q \"%s\" /etc/audit.list' % pattern, shell=True, check=False)",
            ],
            vec![
                "import subprocess",
                "pattern = str({p}).replace('\"', \"\")",
                "subprocess.run([\"grep\", \"-q\", pattern, \"/etc/audit.list\"], check=False)",
            ],
            2,
        ),
        Variant::Obfuscated => (
            vec!["import subprocess as sp", "sp.call(\"grep -q '%s' /etc/audit.list\" % ({p},), shell=True)"],
            vec!["import subprocess as sp", "sp.call([\"grep\", \"-q\", str({p}), \"/etc/audit.list\"])"],
            1,
        ),
    };
    (lines(&vuln, p), lines(&safe, p), at)
}

fn path_join(v: Variant, p: &str) -> Blocks {
    let safe_tail = [
        "base = os.path.realpath(\"/srv/schemas\")",
        "path = os.path.realpath(os.path.join(base, NAME))",
        "if not path.startswith(base + os.sep):",
        "    raise ValueError(\"schema path escapes /srv/schemas\")",
        "with open(path) as fh:",
        "    cached = fh.read()",
    ];
    let (vuln, safe, at, name): (Vec<&str>, Vec<&str>, usize, &str) = match v {
        Variant::Plain | Variant::Comment => (
            vec![
                "import os",
                "path = os.path.join(\"/srv/schemas\", str({p}))",
                "with open(path) as fh:",
                "    cached = fh.read()",
            ],
            vec!["import os"],
            2,
            "str({p})",
        ),
        Variant::Sanitised => (
            vec![
                "import os",
                "name = str({p}).replace(\"../\", \"\")",
                "path = os.path.join(\"/srv/schemas\", name)",
                "with open(path) as fh:",
                "    cached = fh.read()",
            ],
            vec!["import os", "name = str({p}).replace(\"../\", \"\")"],
            3,
            "name",
        ),
        Variant::Obfuscated => (
            vec![
                "import os",
                "from os.path import join as locate",
                "path = locate(\"/srv/schemas\", str({p}))",
                "with open(path) as fh:",
                "    cached = fh.read()",
            ],
            vec!["import os"],
            3,
            "str({p})",
        ),
    };
    let tail: Vec<String> = safe_tail.iter().map(|l| l.replace("NAME", name)).collect();
    let mut safe_lines = lines(&safe, p);
    safe_lines.extend(tail.iter().map(|l| l.replace("{p}", p)));
    (lines(&vuln, p), safe_lines, at)
}

fn eval_input(v: Variant, p: &str) -> Blocks {
    let (vuln, safe, at): (Vec<&str>, Vec<&str>, usize) = match v {
        Variant::Plain | Variant::Comment => {
            (vec!["parsed = eval(str({p}))"], vec!["import ast", "parsed = ast.literal_eval(str({p}))"], 0)
        }
        Variant::Sanitised => (
            vec!["expr = str({p})", "if \"__\" not in expr and \"import\" not in expr:", "    parsed = eval(expr)"],
            vec![
                "import ast",
                "expr = str({p})",
                "if \"__\" not in expr and \"import\" not in expr:",
                "    parsed = ast.literal_eval(expr)",
            ],
            2,
        ),
        Variant::Obfuscated => (
            vec!["import builtins", "evaluate = getattr(builtins, \"eval\")", "parsed = evaluate(str({p}))"],
            vec!["import ast", "evaluate = getattr(ast, \"literal_eval\")", "parsed = evaluate(str({p}))"],
            2,
        ),
    };
    (lines(&vuln, p), lines(&safe, p), at)
}

fn pickle_loads(v: Variant, p: &str) -> Blocks {
    let (vuln, safe, at): (Vec<&str>, Vec<&str>, usize) = match v {
        Variant::Plain | Variant::Comment => {
            (vec!["import pickle", "state = pickle.loads({p})"], vec!["import json", "state = json.loads({p})"], 1)
        }
        Variant::Sanitised => (
            vec![
                "import pickle",
                "if isinstance({p}, bytes) and {p}[:1] == b\"\\x80\":",
                "    state = pickle.loads({p})",
            ],
            vec!["import json", "if isinstance({p}, (bytes, str)):", "    state = json.loads({p})"],
            2,
        ),
        Variant::Obfuscated => (
            vec!["import pickle as serializer", "state = serializer.loads({p})"],
            vec!["import json as serializer", "state = serializer.loads({p})"],
            1,
        ),
    };
    (lines(&vuln, p), lines(&safe, p), at)
}

const FALSE_COMMENT: &str = "# Safe: {p} was validated against the schema above.";

/// One pair = two drafts (vulnerable first).
pub(crate) type Pair = [Draft; 2];

pub(crate) fn candidates(cx: &Context<'_>) -> Vec<Candidate<Pair>> {
    let rules = &cx.rules.security_audit;
    let templates: Vec<&Template> = TEMPLATES.iter().filter(|t| rules.templates.iter().any(|n| n == t.name)).collect();
    if templates.is_empty() {
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
            if !crate::find_sinks(&original).is_empty() {
                continue;
            }
            // Existing prefix checks would blur a path-traversal ground truth.
            let has_containment = original.contains(".startswith(") || original.contains("commonpath");
            let Some(param) = f.params.iter().find(|p| {
                matches!(p.kind, ParamKind::Normal | ParamKind::PositionalOnly | ParamKind::KeywordOnly)
                    && p.name != "self"
                    && p.name != "cls"
            }) else {
                continue;
            };
            let variants: [(&str, Variant, bool); 4] = [
                ("plain", Variant::Plain, false),
                ("buried", Variant::Plain, true),
                ("decoy", Variant::Comment, false),
                ("obfuscated", Variant::Obfuscated, false),
            ];
            for (label, mut variant, buried) in variants {
                let purpose = format!("security_audit|{symbol}|{label}");
                let rank = cx.rank(&m.path, &purpose);
                if variant == Variant::Comment && rank % 2 == 1 {
                    variant = Variant::Sanitised;
                }
                let first = (rank / 2 % templates.len() as u64) as usize;
                let Some(template) = (0..templates.len())
                    .map(|k| templates[(first + k) % templates.len()])
                    .find(|t| !(has_containment && t.name == "path_join"))
                else {
                    continue;
                };
                if let Some(pair) = build(cx, m, &symbol, f, &param.name, template, variant, buried) {
                    out.push(Candidate {
                        tier: pair[0].tier,
                        file: m.path.clone(),
                        symbol: symbol.clone(),
                        rank,
                        item: pair,
                    });
                }
            }
        }
    }
    out
}

#[allow(clippy::too_many_arguments)]
fn build(
    cx: &Context<'_>,
    m: &ModuleMeta,
    symbol: &str,
    f: &FunctionSig,
    param: &str,
    template: &Template,
    variant: Variant,
    buried: bool,
) -> Option<Pair> {
    let rules = &cx.rules.security_audit;
    let base = snippet(cx.text(&m.path), f.start_line, f.end_line);
    let rel = |line: u32| (line - f.start_line) as usize;
    let at = if buried {
        let (first, last) = (*f.body_lines.first()?, *f.body_lines.last()?);
        if f.body_lines.len() < 2 || last < first + 3 {
            return None;
        }
        rel(last)
    } else {
        rel(*f.body_lines.first()?)
    };
    let indent = indent_of(base.get(at)?);
    let (mut vuln, mut safe, mut sink) = (template.build)(variant, param);
    if variant == Variant::Comment {
        let comment = FALSE_COMMENT.replace("{p}", param);
        vuln.insert(sink, comment.clone());
        safe.insert(sink, comment);
        sink += 1;
    }
    let place = |block: &[String]| -> Vec<String> {
        let mut lines = base.clone();
        let block: Vec<String> = block.iter().map(|l| format!("{indent}{l}")).collect();
        lines.splice(at..at, block);
        lines
    };
    let (vuln_lines, safe_lines) = (place(&vuln), place(&safe));
    for code in [&vuln_lines, &safe_lines] {
        py_ast_meta::normalized_ast(&code.join("\n")).ok()?;
    }
    let sink_line = (at + sink + 1) as u32;
    let block_lines: Vec<u32> = (at as u32 + 1..=(at + vuln.len()) as u32).collect();
    let safe_block: Vec<u32> = (at as u32 + 1..=(at + safe.len()) as u32).collect();
    let n = vuln_lines.len();
    let (tier, tier_rule) = match (variant, buried) {
        (Variant::Obfuscated, _) => (Tier::T5, "T5: sink reached through an alias or getattr".to_string()),
        (Variant::Comment, _) => (Tier::T4, "T4: reassuring but false comment above the sink".to_string()),
        (Variant::Sanitised, _) => (Tier::T4, "T4: sanitisation that looks right and is not".to_string()),
        (Variant::Plain, true) => (Tier::T3, "T3: sink buried before the function's last statement".to_string()),
        (Variant::Plain, false) if n <= rules.t1_max_lines => {
            (Tier::T1, format!("T1: plain sink at the top of a snippet of {n} <= {} lines", rules.t1_max_lines))
        }
        (Variant::Plain, false) if n <= rules.t2_max_lines => {
            (Tier::T2, format!("T2: plain sink at the top of a snippet of {n} <= {} lines", rules.t2_max_lines))
        }
        (Variant::Plain, false) => (Tier::T3, format!("T3: snippet of {n} > {} lines", rules.t2_max_lines)),
    };
    let pair = bench_core::Hasher::new()
        .field(cx.snapshot_id)
        .field(&m.path)
        .field(symbol)
        .field(template.name)
        .field(format!("{variant:?}{buried}"))
        .hex()[..16]
        .to_string();
    let draft = |lines: &[String], vulnerable: bool, accepted: Vec<u32>| Draft {
        category: Category::SecurityAudit,
        tier,
        tier_rule: tier_rule.clone(),
        file: m.path.clone(),
        symbol: symbol.to_string(),
        span: [f.start_line, f.end_line],
        prompt: prompt(&m.path, &m.module, lines),
        expected: Expected::SecurityAudit {
            vulnerable,
            cwe: template.cwe.to_string(),
            line: if vulnerable { sink_line } else { accepted[0] },
            lines: accepted,
            pair: pair.clone(),
            template: format!("{}/{}", template.name, format!("{variant:?}").to_lowercase()),
        },
        evidence: bench_core::Evidence::Structural,
    };
    Some([draft(&vuln_lines, true, block_lines), draft(&safe_lines, false, safe_block)])
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
