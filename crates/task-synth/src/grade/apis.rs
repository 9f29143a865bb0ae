//! Invented APIs: every import, every attribute chain rooted at an imported
//! name and every keyword argument of a call whose target resolves, checked
//! against the API surface of the evaluation environment (the standard
//! library and the installed dependencies) and the snapshot's own modules.
//! What cannot be resolved statically is counted as unresolved, never as
//! invented.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read as _;
use std::sync::OnceLock;

use bench_core::{ApiCheck, ApiSurface, Invention, InventionKind, Member, MemberKind, ModuleSurface, Resolved};
use py_ast_meta::facts::CodeFacts;

/// The standard library's surface for Python 3.11, generated from a real
/// interpreter by `scripts/gen-stdlib-surface.sh`: what the grader knows
/// when no interpreter is given.
static STDLIB_GZ: &[u8] = include_bytes!("../../data/stdlib-surface-3.11.json.gz");

/// The shipped standard-library surface.
pub fn stdlib_surface() -> &'static ApiSurface {
    static SURFACE: OnceLock<ApiSurface> = OnceLock::new();
    SURFACE.get_or_init(|| {
        let mut text = String::new();
        flate2::read::GzDecoder::new(STDLIB_GZ).read_to_string(&mut text).expect("the shipped surface is gzip");
        serde_json::from_str(&text).expect("the shipped surface is an ApiSurface")
    })
}

/// What a name in the answer is bound to: a module, or names below one.
#[derive(Debug, Clone)]
struct Binding {
    module: String,
    attrs: Vec<String>,
}

/// The snapshot's own modules (module to the names it defines) as a
/// surface; it shadows the environment's for its roots.
pub fn own_surface(own: &BTreeMap<String, Vec<String>>) -> ApiSurface {
    let mut s = ApiSurface::default();
    for (module, names) in own {
        let value = || Member { kind: MemberKind::Value, target: None, attributes: None, params: None };
        let entry = s.modules.entry(module.clone()).or_insert_with(ModuleSurface::default);
        entry.members.extend(names.iter().map(|n| (n.clone(), value())));
        let mut path = module.as_str();
        while let Some((parent, child)) = path.rsplit_once('.') {
            s.modules.entry(parent.to_string()).or_default().submodules.insert(child.to_string());
            path = parent;
        }
    }
    s
}

/// Checks `facts` against the environment's surface `env` and the
/// snapshot's own modules `own`. `head` are the names the answer's file binds
/// before the answer (bound name, module, imported name); `declared` the
/// project's declared dependencies, whose roots count as unresolved when the
/// surface does not describe them.
pub fn check(
    facts: &CodeFacts,
    env: &ApiSurface,
    own: &ApiSurface,
    head: &[(String, String, Option<String>)],
    declared: &[String],
) -> ApiCheck {
    let mut c = Checker { env, own, declared, out: ApiCheck::default(), seen: BTreeSet::new() };
    let mut bindings: BTreeMap<String, Binding> = BTreeMap::new();
    for (bound, module, name) in head {
        if let Some(b) = c.bind_import(module, name.as_deref(), 0, false) {
            bindings.insert(bound.clone(), b);
        }
    }
    for i in facts.all_imports.iter().filter(|i| i.level == 0) {
        let bound = match (&i.name, &i.alias) {
            (Some(n), _) if n == "*" => continue,
            (_, Some(a)) => a.clone(),
            (Some(n), None) => n.clone(),
            (None, None) => i.module.split('.').next().unwrap_or_default().to_string(),
        };
        let b = c.bind_import(&i.module, i.name.as_deref(), i.line, true);
        match b {
            // `import a.b` binds `a`; `import a.b as x` binds `x` to `a.b`.
            Some(_) if i.name.is_none() && i.alias.is_none() => {
                bindings.insert(bound.clone(), Binding { module: bound, attrs: Vec::new() });
            }
            Some(b) => {
                bindings.insert(bound, b);
            }
            // `import a.fancy` still binds `a` when `a` itself exists.
            None if i.name.is_none() && i.alias.is_none() => {
                if !matches!(c.surface(&bound).resolve_module(&bound), Resolved::Module(_)) {
                    bindings.remove(&bound);
                }
            }
            None => {
                bindings.remove(&bound);
            }
        }
    }
    for (chain, line) in &facts.chains {
        let mut parts = chain.split('.');
        let Some(b) = parts.next().and_then(|root| bindings.get(root)) else { continue };
        let attrs: Vec<&str> = b.attrs.iter().map(String::as_str).chain(parts).collect();
        match c.surface(&b.module).resolve_attrs(&b.module, &attrs) {
            Resolved::Missing { name, at } => {
                c.invent(InventionKind::Attribute, spelled(&b.module, &attrs, at, name), *line)
            }
            Resolved::Unresolved => c.out.unresolved += 1,
            _ => c.out.resolved += 1,
        }
    }
    for call in &facts.calls {
        let Some(callee) = &call.callee else { continue };
        if call.keywords.is_empty() || call.star_kwargs {
            continue;
        }
        let mut parts = callee.split('.');
        let Some(b) = parts.next().and_then(|root| bindings.get(root)) else { continue };
        let attrs: Vec<&str> = b.attrs.iter().map(String::as_str).chain(parts).collect();
        let Resolved::Member(member) = c.surface(&b.module).resolve_attrs(&b.module, &attrs) else { continue };
        let Some(params) = member.params.as_ref().filter(|p| !call.keywords.iter().any(|k| p.forward_via.contains(k)))
        else {
            c.out.unresolved += 1;
            continue;
        };
        let target = std::iter::once(b.module.as_str()).chain(attrs.iter().copied()).collect::<Vec<_>>().join(".");
        for kw in &call.keywords {
            if !params.var_keyword && !params.names.contains(kw) {
                c.invent(InventionKind::Keyword, format!("{target}({kw}=)"), call.line);
            } else {
                c.out.resolved += 1;
            }
        }
    }
    c.out
}

struct Checker<'a> {
    env: &'a ApiSurface,
    own: &'a ApiSurface,
    declared: &'a [String],
    out: ApiCheck,
    seen: BTreeSet<(InventionKind, String)>,
}

impl<'a> Checker<'a> {
    /// The snapshot's own modules shadow the environment's.
    fn surface(&self, module: &str) -> &'a ApiSurface {
        let root = module.split('.').next().unwrap_or_default();
        if self.own.modules.contains_key(root) {
            self.own
        } else {
            self.env
        }
    }

    fn invent(&mut self, kind: InventionKind, name: String, line: u32) {
        if self.seen.insert((kind, name.clone())) {
            self.out.inventions.push(Invention { kind, name, line });
        }
    }

    /// Resolves one import; returns what the bound name refers to, or
    /// `None` when it is invented or cannot be resolved.
    fn bind_import(&mut self, module: &str, name: Option<&str>, line: u32, count: bool) -> Option<Binding> {
        let root = module.split('.').next().unwrap_or_default();
        let surface = self.surface(module);
        let undescribed = !surface.knows_root(root);
        if undescribed && self.declared.iter().any(|d| normal(d) == normal(root)) {
            if count {
                self.out.unresolved += 1;
            }
            return None;
        }
        match surface.resolve_module(module) {
            Resolved::Module(_) => {}
            Resolved::Missing { name: missing, .. } => {
                if count {
                    self.invent(InventionKind::Module, missing, line);
                }
                return None;
            }
            _ => {
                if count {
                    self.out.unresolved += 1;
                }
                return None;
            }
        }
        let Some(name) = name else {
            if count {
                self.out.resolved += 1;
            }
            return Some(Binding { module: module.to_string(), attrs: Vec::new() });
        };
        let sub = format!("{module}.{name}");
        if let Resolved::Module(_) = surface.resolve_module(&sub) {
            if count {
                self.out.resolved += 1;
            }
            return Some(Binding { module: sub, attrs: Vec::new() });
        }
        match surface.resolve_attrs(module, &[name]) {
            Resolved::Missing { name: missing, at } => {
                if count {
                    self.invent(InventionKind::Attribute, spelled(module, &[name], at, missing), line);
                }
                None
            }
            Resolved::Unresolved => {
                if count {
                    self.out.unresolved += 1;
                }
                None
            }
            _ => {
                if count {
                    self.out.resolved += 1;
                }
                Some(Binding { module: module.to_string(), attrs: vec![name.to_string()] })
            }
        }
    }
}

/// A missing name as the answer reached it (`os.path.joinpath`), not as
/// the surface names it (`posixpath.joinpath`).
fn spelled(module: &str, attrs: &[&str], at: Option<usize>, surface_name: String) -> String {
    match at {
        Some(i) if i < attrs.len() => {
            std::iter::once(module).chain(attrs[..=i].iter().copied()).collect::<Vec<_>>().join(".")
        }
        _ => surface_name,
    }
}

/// Distribution and module names compare case- and separator-insensitively.
fn normal(name: &str) -> String {
    name.to_lowercase().replace(['-', '.'], "_")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(code: &str, declared: &[&str]) -> ApiCheck {
        let facts = py_ast_meta::facts::analyze("<answer>", code).expect("the answer parses");
        let declared: Vec<String> = declared.iter().map(|d| d.to_string()).collect();
        check(&facts, stdlib_surface(), &ApiSurface::default(), &[], &declared)
    }

    fn names(c: &ApiCheck) -> Vec<(&str, &str, u32)> {
        c.inventions.iter().map(|i| (i.kind.as_str(), i.name.as_str(), i.line)).collect()
    }

    #[test]
    fn invented_stdlib_apis_are_caught_with_their_lines() {
        let code = "import os\nimport json as j\nfrom os import path as p\nimport xml.etree.fancy\nfrom re import fullmatch, fuzzymatch\n\ndef f(a):\n    x = os.path.joinpath(a, 'b')\n    y = p.exists_all(a)\n    return j.dumps(x, pretty=True, indent=2)\n";
        let c = run(code, &[]);
        assert_eq!(
            names(&c),
            [
                ("module", "xml.etree.fancy", 4),
                ("attribute", "re.fuzzymatch", 5),
                ("attribute", "os.path.joinpath", 8),
                ("attribute", "os.path.exists_all", 9),
                ("keyword", "json.dumps(pretty=)", 10)
            ]
        );
    }

    #[test]
    fn real_stdlib_apis_pass() {
        let code = "import math, os, re\nimport os.path\nimport xml.etree.ElementTree as ET\nfrom collections import OrderedDict\nfrom concurrent.futures import ThreadPoolExecutor\n\ndef f(a, b):\n    n = math.isqrt(a)\n    c = os.path.commonpath([a, b])\n    m = re.fullmatch(r'x', b, flags=re.I)\n    t = ET.fromstring(b)\n    with ThreadPoolExecutor(max_workers=2) as ex:\n        pass\n    return OrderedDict(n=n, c=c, m=m, t=t), str(a).join([]), sorted([a], key=len, reverse=True)\n";
        let c = run(code, &[]);
        assert!(c.inventions.is_empty(), "{:?}", c.inventions);
        assert!(c.resolved >= 10, "{c:?}");
    }

    #[test]
    fn undescribed_declared_dependencies_are_unresolved_not_invented() {
        let c =
            run("import requests\nimport notapackage\n\ndef f():\n    return requests.get_json('u')\n", &["requests"]);
        assert_eq!(names(&c), [("module", "notapackage", 2)]);
        assert!(c.unresolved >= 1);
    }
}
