//! The literal arguments of a `setup.py`'s `setup(...)` call, read from its
//! syntax tree rather than its text, so a comment, a different quote or a
//! keyword inside another call cannot be mistaken for one.

use std::collections::BTreeMap;

use rustpython_ast::{self as ast};
use rustpython_parser::Parse;

/// The `setup(...)` keywords whose value is a string or a list of strings; a
/// plain name is followed to its module-level `NAME = [...]`.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct SetupCall {
    /// `name="pkg"` and the like.
    pub strings: BTreeMap<String, String>,
    /// `packages=[...]`, `install_requires=requires` and the like.
    pub lists: BTreeMap<String, Vec<String>>,
}

/// The first top-level `setup(...)` or `setuptools.setup(...)` call of a
/// `setup.py`; `None` when the file does not parse or has none.
pub fn setup_call(path: &str, text: &str) -> Option<SetupCall> {
    let suite = crate::guard::guarded(path, text, || {
        ast::Suite::parse(text, path).map_err(|e| crate::ParseFailure::from_parser(path, text, &e))
    })
    .ok()?;
    let mut assigned: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for stmt in &suite {
        if let ast::Stmt::Assign(a) = stmt {
            if let ([ast::Expr::Name(n)], Some(items)) = (a.targets.as_slice(), strings(&a.value)) {
                assigned.insert(n.id.to_string(), items);
            }
        }
        let call = match stmt {
            ast::Stmt::Expr(e) => &*e.value,
            ast::Stmt::If(i) => match i.body.as_slice() {
                // `if __name__ == "__main__": setup(...)`
                [ast::Stmt::Expr(e)] => &*e.value,
                _ => continue,
            },
            _ => continue,
        };
        let ast::Expr::Call(call) = call else { continue };
        let is_setup = match &*call.func {
            ast::Expr::Name(n) => n.id.as_str() == "setup",
            ast::Expr::Attribute(a) => a.attr.as_str() == "setup",
            _ => false,
        };
        if !is_setup {
            continue;
        }
        let mut out = SetupCall::default();
        for kw in &call.keywords {
            let Some(key) = &kw.arg else { continue };
            match &kw.value {
                ast::Expr::Constant(c) => {
                    if let ast::Constant::Str(s) = &c.value {
                        out.strings.insert(key.to_string(), s.clone());
                    }
                }
                ast::Expr::Name(n) => {
                    if let Some(items) = assigned.get(n.id.as_str()) {
                        out.lists.insert(key.to_string(), items.clone());
                    }
                }
                v => {
                    if let Some(items) = strings(v) {
                        out.lists.insert(key.to_string(), items);
                    }
                }
            }
        }
        return Some(out);
    }
    None
}

/// The string literals of a list or tuple literal.
fn strings(e: &ast::Expr) -> Option<Vec<String>> {
    let elts = match e {
        ast::Expr::List(l) => &l.elts,
        ast::Expr::Tuple(t) => &t.elts,
        _ => return None,
    };
    Some(
        elts.iter()
            .filter_map(|e| match e {
                ast::Expr::Constant(c) => match &c.value {
                    ast::Constant::Str(s) => Some(s.clone()),
                    _ => None,
                },
                _ => None,
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keywords_lists_and_names_are_read_from_the_tree() {
        let text = "# setup(name='comment')\nimport setuptools\nrequires = [\"idna<4\", 'certifi']\n\
                    setuptools.setup(name='pkg', packages=('pkg', 'pkg.sub'), install_requires=requires, \
                    description=f(name='other'))\n";
        let c = setup_call("setup.py", text).unwrap();
        assert_eq!(c.strings.get("name").map(String::as_str), Some("pkg"));
        assert_eq!(c.lists["packages"], ["pkg", "pkg.sub"]);
        assert_eq!(c.lists["install_requires"], ["idna<4", "certifi"]);
        assert!(!c.strings.contains_key("description"));
        assert_eq!(setup_call("setup.py", "print('no setup here')\n"), None);
        assert_eq!(setup_call("setup.py", "setup(name=\n"), None);
    }
}
