//! A small, independent detector of the dangerous sinks this project injects
//! and forbids. It resolves import aliases, `name = a.b` aliases and
//! `getattr(obj, "attr")`, so obfuscated sinks are found too.

use std::collections::BTreeMap;

use py_ast_meta::facts::CodeFacts;
use serde::{Deserialize, Serialize};

/// A dangerous call found in code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sink {
    /// `eval`, `exec`, `os.system`, `subprocess-shell`, `pickle.loads`,
    /// `sql-format` or `path-join`.
    pub name: String,
    /// The CWE it falls under.
    pub cwe: String,
    /// Its 1-based line.
    pub line: u32,
}

/// The sinks in `code`; empty when it does not parse.
pub fn find_sinks(code: &str) -> Vec<Sink> {
    match py_ast_meta::facts::analyze("<code>", code) {
        Ok(facts) => sinks_in(&facts),
        Err(_) => Vec::new(),
    }
}

/// Resolves a callee through imports and aliases to a dotted name.
fn resolver(facts: &CodeFacts) -> impl Fn(&str) -> String + '_ {
    let mut map: BTreeMap<String, String> = BTreeMap::new();
    for i in &facts.all_imports {
        match (&i.name, &i.alias) {
            (None, Some(a)) => {
                map.insert(a.clone(), i.module.clone());
            }
            (Some(n), alias) => {
                map.insert(alias.clone().unwrap_or_else(|| n.clone()), format!("{}.{n}", i.module));
            }
            (None, None) => {}
        }
    }
    for (name, value) in &facts.aliases {
        map.insert(name.clone(), value.clone());
    }
    move |callee: &str| {
        let mut current = callee.to_string();
        // Bounded: aliases can form cycles.
        for _ in 0..8 {
            let (root, rest) = current.split_once('.').map_or((current.as_str(), ""), |(r, s)| (r, s));
            match map.get(root) {
                Some(target) if target != root => {
                    current = if rest.is_empty() { target.clone() } else { format!("{target}.{rest}") };
                }
                _ => break,
            }
        }
        current.strip_prefix("builtins.").map(str::to_string).unwrap_or(current)
    }
}

pub(crate) fn sinks_in(facts: &CodeFacts) -> Vec<Sink> {
    let resolve = resolver(facts);
    let mut out = Vec::new();
    let mut push = |name: &str, cwe: &str, line: u32| {
        out.push(Sink { name: name.into(), cwe: cwe.into(), line });
    };
    let callees: Vec<(String, &py_ast_meta::facts::CallFact)> =
        facts.calls.iter().filter_map(|c| c.callee.as_deref().map(|n| (resolve(n), c))).collect();
    let has = |pred: &dyn Fn(&str) -> bool| callees.iter().any(|(n, _)| pred(n));
    let contained = has(&|n| n.ends_with(".startswith") || n.ends_with("commonpath") || n.ends_with(".is_relative_to"));
    let joins = has(&|n| n == "os.path.join" || n == "posixpath.join");
    for (name, call) in &callees {
        let line = call.line;
        match name.as_str() {
            "eval" => push("eval", "CWE-95", line),
            "exec" => push("exec", "CWE-95", line),
            "os.system" | "os.popen" => push("os.system", "CWE-78", line),
            "pickle.loads" | "pickle.load" | "cPickle.loads" | "marshal.loads" => push("pickle.loads", "CWE-502", line),
            "open" | "io.open" if joins && !contained => push("path-join", "CWE-22", line),
            n if n.rsplit('.').next().is_some_and(|m| m.starts_with("execute"))
                && matches!(call.first_arg.as_deref(), Some("binop" | "fstring" | "call")) =>
            {
                push("sql-format", "CWE-89", line)
            }
            _ => {}
        }
        if call.shell_true {
            push("subprocess-shell", "CWE-78", line);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(code: &str) -> Vec<String> {
        find_sinks(code).into_iter().map(|s| s.name).collect()
    }

    #[test]
    fn finds_direct_and_obfuscated_sinks() {
        assert_eq!(names("eval(x)\n"), ["eval"]);
        assert_eq!(names("import builtins\nf = getattr(builtins, 'eval')\nf(x)\n"), ["eval"]);
        assert_eq!(names("from os import system as s\ns('ls')\n"), ["os.system"]);
        assert_eq!(names("import pickle as p\np.loads(b)\n"), ["pickle.loads"]);
        assert_eq!(names("import subprocess as sp\nsp.run('ls ' + x, shell=True)\n"), ["subprocess-shell"]);
        assert_eq!(names("c.execute('SELECT %s' % x)\n"), ["sql-format"]);
        assert_eq!(names("run = getattr(c, 'execute')\nrun(f'SELECT {x}')\n"), ["sql-format"]);
        assert!(names("c.execute('SELECT ?', (x,))\n").is_empty());
        assert_eq!(names("import os\np = os.path.join(b, x)\nopen(p)\n"), ["path-join"]);
        assert!(names("import os\np = os.path.join(b, x)\nif p.startswith(b):\n    open(p)\n").is_empty());
        assert!(names("import ast\nast.literal_eval(x)\n").is_empty());
    }
}
