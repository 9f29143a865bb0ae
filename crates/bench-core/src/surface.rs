//! The API surface of an evaluation environment: which modules exist, what
//! each defines, and which keywords each callable takes. The grader checks a
//! model's imports, attribute chains and keyword arguments against it.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

/// Every described module of one environment.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiSurface {
    /// The interpreter's `major.minor`.
    pub python: String,
    /// Dotted module name to its description.
    pub modules: BTreeMap<String, ModuleSurface>,
    /// Modules that exist but could not be imported to be described, with why.
    #[serde(default)]
    pub failed: BTreeMap<String, String>,
}

/// What one module defines.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModuleSurface {
    /// Every name `dir(module)` lists.
    pub members: BTreeMap<String, Member>,
    /// Submodules importable from it (not necessarily attributes yet).
    #[serde(default)]
    pub submodules: BTreeSet<String>,
    /// The module defines `__getattr__`: any attribute may exist.
    #[serde(default)]
    pub dynamic: bool,
}

/// One name a module defines.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Member {
    /// What it is.
    pub kind: MemberKind,
    /// For a module member, the module's own name (`os.path` is `posixpath`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    /// A class's attributes (dunders left out).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attributes: Option<BTreeSet<String>>,
    /// A callable's parameters, where `inspect.signature` could tell.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub params: Option<Params>,
}

/// The kind of a module member.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MemberKind {
    /// A module.
    Module,
    /// A class.
    Class,
    /// Any other callable.
    Function,
    /// Anything else.
    Value,
}

/// The parameters a call may name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Params {
    /// Parameters that may be passed by keyword.
    pub names: Vec<String>,
    /// Whether it takes `**kwargs` that go anywhere (when they are passed on
    /// to a known callee, its keywords are in `names` and this is false).
    pub var_keyword: bool,
    /// Parameters that choose where `**kwargs` are passed on (`cls` of
    /// `json.dumps`): a call that names one may take other keywords.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub forward_via: Vec<String>,
}

/// What resolving a dotted name against a surface found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resolved<'a> {
    /// A module.
    Module(&'a str),
    /// A member of a module.
    Member(&'a Member),
    /// A name that exists but says nothing more (an attribute of a class).
    Exists,
    /// Cannot be decided statically (a dynamic module, an attribute of a
    /// value, a module the surface does not describe).
    Unresolved,
    /// The first part that does not exist.
    Missing {
        /// The dotted name up to and including the missing part, as the
        /// surface names it (`posixpath.joinpath` for `os.path.joinpath`).
        name: String,
        /// For an attribute chain, the index of the missing attribute.
        at: Option<usize>,
    },
}

impl ApiSurface {
    /// Whether the surface describes the top-level module `root`.
    pub fn knows_root(&self, root: &str) -> bool {
        self.modules.contains_key(root) || self.failed.contains_key(root)
    }

    /// Resolves `module` (a module path that an `import` names).
    pub fn resolve_module(&self, module: &str) -> Resolved<'_> {
        let mut parts = module.split('.');
        let root = parts.next().unwrap_or_default();
        if !self.modules.contains_key(root) {
            return if self.failed.contains_key(root) {
                Resolved::Unresolved
            } else {
                Resolved::Missing { name: root.into(), at: None }
            };
        }
        let mut current = root.to_string();
        for part in parts {
            let Some(m) = self.modules.get(&current) else { return Resolved::Unresolved };
            let next = format!("{current}.{part}");
            if self.modules.contains_key(&next) || m.submodules.contains(part) {
                current = next;
                continue;
            }
            if self.failed.contains_key(&next) || m.dynamic {
                return Resolved::Unresolved;
            }
            // `import os.path`: `path` is a module attribute, not a submodule.
            if m.members.get(part).is_some_and(|x| x.kind == MemberKind::Module) {
                return Resolved::Unresolved;
            }
            return Resolved::Missing { name: next, at: None };
        }
        match self.modules.get_key_value(&current) {
            Some((k, _)) => Resolved::Module(k),
            None => Resolved::Unresolved,
        }
    }

    /// Resolves the attribute chain `attrs` on the module `module`.
    pub fn resolve_attrs<'s>(&'s self, module: &str, attrs: &[&str]) -> Resolved<'s> {
        let mut current = match self.resolve_module(module) {
            Resolved::Module(m) => m,
            other => return other,
        };
        let mut i = 0;
        // Bounded: each step consumes a part, or follows a module alias once.
        let mut hops = 0;
        while i < attrs.len() {
            let part = attrs[i];
            let m = &self.modules[current];
            let sub = format!("{current}.{part}");
            if let Some((k, _)) = self.modules.get_key_value(&sub) {
                current = k;
                i += 1;
                continue;
            }
            let Some(member) = m.members.get(part) else {
                if m.dynamic || m.submodules.contains(part) || self.failed.contains_key(&sub) {
                    return Resolved::Unresolved;
                }
                return Resolved::Missing { name: sub, at: Some(i) };
            };
            let rest = &attrs[i + 1..];
            match (member.kind, rest) {
                (_, []) => return Resolved::Member(member),
                (MemberKind::Module, _) => {
                    // `os.path` is `posixpath`: go on there when it is described.
                    match member.target.as_deref().and_then(|t| self.modules.get_key_value(t)) {
                        Some((k, _)) if hops < 8 => {
                            hops += 1;
                            current = k;
                            i += 1;
                        }
                        _ => return Resolved::Unresolved,
                    }
                }
                (MemberKind::Class, [attr, ..]) => {
                    return match &member.attributes {
                        Some(a) if a.contains(*attr) => Resolved::Exists,
                        Some(_) => Resolved::Missing { name: format!("{sub}.{attr}"), at: Some(i + 1) },
                        None => Resolved::Unresolved,
                    }
                }
                // An attribute of a function or a value: not decidable here.
                _ => return Resolved::Unresolved,
            }
        }
        Resolved::Module(current)
    }
}

/// What the invented-API check found in one answer.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiCheck {
    /// Each invented module, attribute or keyword, once, in source order.
    pub inventions: Vec<Invention>,
    /// Imports, attribute chains and keywords that resolved.
    pub resolved: u32,
    /// Those that cannot be decided statically.
    pub unresolved: u32,
}

impl ApiCheck {
    /// The inventions of one kind.
    pub fn of(&self, kind: InventionKind) -> impl Iterator<Item = &Invention> {
        self.inventions.iter().filter(move |i| i.kind == kind)
    }
}

/// One name an answer used that the environment does not have.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Invention {
    /// Module, attribute or keyword.
    pub kind: InventionKind,
    /// `os.path.joinpath`, `yaml.fancy`, `json.dumps(pretty=)`.
    pub name: String,
    /// The 1-based line of its first use in the answer.
    pub line: u32,
}

/// What was invented.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InventionKind {
    /// A module or submodule that does not exist.
    Module,
    /// An attribute of a module or class that does not exist.
    Attribute,
    /// A keyword argument the callee does not take.
    Keyword,
}

impl InventionKind {
    /// Every kind, in report order.
    pub const ALL: [InventionKind; 3] = [InventionKind::Module, InventionKind::Attribute, InventionKind::Keyword];

    /// `module`, `attribute` or `keyword`.
    pub fn as_str(self) -> &'static str {
        match self {
            InventionKind::Module => "module",
            InventionKind::Attribute => "attribute",
            InventionKind::Keyword => "keyword",
        }
    }
}
