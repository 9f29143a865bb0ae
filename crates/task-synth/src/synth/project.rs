//! What the packaging metadata says: which packages the distribution ships
//! (tasks come only from them) and which distributions it depends on (each a
//! PEP 508 requirement read from the field that declares it).

use std::collections::BTreeSet;

use py_ast_meta::SourceFile;

use crate::Rules;

/// The distribution's own code and its declared runtime dependencies.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Project {
    /// Snapshot paths of the shipped packages (`cerberus`, `src/click`) or
    /// single modules (`six.py`).
    pub roots: Vec<String>,
    /// Normalised import-style names (`pyyaml`, `typing_extensions`).
    pub declared: Vec<String>,
}

impl Project {
    /// Whether `path` lies in a shipped package or is a shipped module.
    pub fn ships(&self, path: &str) -> bool {
        self.roots.iter().any(|r| path == r || path.strip_prefix(r.as_str()).is_some_and(|rest| rest.starts_with('/')))
    }
}

pub(crate) fn read(files: &[SourceFile], rules: &Rules) -> Project {
    let mut names = BTreeSet::new();
    let mut declared = BTreeSet::new();
    for f in files.iter().filter(|f| !f.path.contains('/')) {
        match f.path.as_str() {
            "pyproject.toml" => pyproject(&f.text, &mut names, &mut declared),
            "setup.cfg" => setup_cfg(&f.text, &mut names, &mut declared),
            "setup.py" => setup_py(&f.text, &mut names, &mut declared),
            "requirements.txt" => declared.extend(f.text.lines().filter_map(requirement_name)),
            _ => {}
        }
    }
    // Packages (regular or namespace) and modules on disk, at the top or under src/.
    let mut candidates = BTreeSet::new();
    for f in files.iter().filter(|f| f.path.ends_with(".py")) {
        let parts: Vec<&str> = f.path.split('/').collect();
        match parts.as_slice() {
            ["src", module] | [module] => {
                if rules.is_library_code(module) {
                    candidates.insert(f.path.clone());
                }
            }
            ["src", dir, ..] => {
                candidates.insert(format!("src/{dir}"));
            }
            [dir, ..] => {
                candidates.insert((*dir).to_string());
            }
            [] => {}
        }
    }
    let import_name = |root: &str| normal(root.rsplit('/').next().unwrap_or(root).trim_end_matches(".py"));
    let named: Vec<String> = candidates.iter().filter(|c| names.contains(&import_name(c))).cloned().collect();
    let roots = if named.is_empty() {
        // No metadata names a package: every top-level package that is not
        // tests, docs, examples or tooling.
        candidates
            .into_iter()
            .filter(|c| {
                let name = import_name(c);
                !rules.exclude.dirs.iter().any(|d| normal(d) == name)
                    && !["doc", "example", "test", "bench", "script"].iter().any(|p| name.starts_with(p))
            })
            .collect()
    } else {
        named
    };
    let aliases: Vec<String> = declared
        .iter()
        .filter_map(|n| IMPORT_NAMES.iter().find(|(d, _)| d == n).map(|(_, i)| i.to_lowercase()))
        .collect();
    declared.extend(aliases);
    Project { roots, declared: declared.into_iter().collect() }
}

fn normal(name: &str) -> String {
    name.to_lowercase().replace(['-', '.'], "_")
}

fn pyproject(text: &str, names: &mut BTreeSet<String>, declared: &mut BTreeSet<String>) {
    let Ok(doc) = text.parse::<toml::Table>() else { return };
    let at = |path: &[&str]| -> Option<&toml::Value> {
        let (first, rest) = path.split_first()?;
        rest.iter().try_fold(doc.get(*first)?, |v, k| v.get(k))
    };
    let strings = |v: Option<&toml::Value>| -> Vec<String> {
        v.and_then(|v| v.as_array())
            .map_or_else(Vec::new, |a| a.iter().filter_map(|x| x.as_str().map(String::from)).collect())
    };
    for path in [&["project", "name"][..], &["tool", "poetry", "name"], &["tool", "flit", "module", "name"]] {
        if let Some(n) = at(path).and_then(|v| v.as_str()) {
            names.insert(normal(n));
        }
    }
    declared.extend(strings(at(&["project", "dependencies"])).iter().filter_map(|s| requirement_name(s)));
    if let Some(deps) = at(&["tool", "poetry", "dependencies"]).and_then(|v| v.as_table()) {
        declared.extend(deps.keys().filter(|k| *k != "python").map(|k| normal(k)));
    }
    for p in strings(at(&["tool", "setuptools", "packages"]))
        .into_iter()
        .chain(strings(at(&["tool", "hatch", "build", "targets", "wheel", "packages"])))
    {
        let top = p.trim_start_matches("src/").split(['.', '/']).next().unwrap_or_default().to_string();
        names.insert(normal(&top));
    }
    if let Some(pkgs) = at(&["tool", "poetry", "packages"]).and_then(|v| v.as_array()) {
        names.extend(pkgs.iter().filter_map(|p| p.get("include")?.as_str()).map(normal));
    }
}

fn setup_cfg(text: &str, names: &mut BTreeSet<String>, declared: &mut BTreeSet<String>) {
    let mut section = String::new();
    let mut key = String::new();
    for line in text.lines() {
        let trimmed = line.trim();
        if trimmed.starts_with('[') && trimmed.ends_with(']') {
            section = trimmed[1..trimmed.len() - 1].trim().to_string();
            key.clear();
            continue;
        }
        if trimmed.is_empty() || trimmed.starts_with(['#', ';']) {
            continue;
        }
        let value = if line.starts_with([' ', '\t']) {
            trimmed
        } else if let Some((k, v)) = line.split_once('=') {
            key = k.trim().to_string();
            v.trim()
        } else {
            continue;
        };
        match (section.as_str(), key.as_str()) {
            ("metadata", "name") if !value.is_empty() => {
                names.insert(normal(value));
            }
            ("options", "install_requires") => declared.extend(requirement_name(value)),
            ("options", "packages") if !value.is_empty() && !value.starts_with("find") => {
                names.extend(value.split(',').map(|p| normal(p.trim().split('.').next().unwrap_or_default())));
            }
            _ => {}
        }
    }
}

fn setup_py(text: &str, names: &mut BTreeSet<String>, declared: &mut BTreeSet<String>) {
    let Some(call) = py_ast_meta::setup_call("setup.py", text) else { return };
    if let Some(n) = call.strings.get("name") {
        names.insert(normal(n));
    }
    let list = |key: &str| call.lists.get(key).into_iter().flatten();
    declared.extend(list("install_requires").filter_map(|s| requirement_name(s)));
    names.extend(list("packages").map(|p| normal(p.split('.').next().unwrap_or_default())));
}

/// The normalised distribution name of a PEP 508 requirement; `None` for
/// anything that is not one (a comment, an option, a lint code in a list).
pub(crate) fn requirement_name(spec: &str) -> Option<String> {
    let spec = spec.trim();
    let end =
        spec.find(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.')).unwrap_or(spec.len());
    let name = &spec[..end];
    let valid_name = name.chars().next().is_some_and(|c| c.is_ascii_alphanumeric())
        && name.chars().last().is_some_and(|c| c.is_ascii_alphanumeric());
    // After the name: nothing, extras, a version, markers or a URL.
    let rest = spec[end..].trim_start();
    let valid_rest = rest.is_empty() || rest.starts_with(['[', '(', ';', '@', '<', '>', '=', '!', '~']);
    (valid_name && valid_rest).then(|| normal(name))
}

/// Distributions whose import name differs from their normalised name.
const IMPORT_NAMES: &[(&str, &str)] = &[
    ("pyyaml", "yaml"),
    ("beautifulsoup4", "bs4"),
    ("pillow", "PIL"),
    ("scikit_learn", "sklearn"),
    ("python_dateutil", "dateutil"),
    ("opencv_python", "cv2"),
    ("attrs", "attr"),
    ("protobuf", "google"),
    ("pyzmq", "zmq"),
    ("msgpack_python", "msgpack"),
    ("pyjwt", "jwt"),
    ("pymysql", "pymysql"),
    ("psycopg2_binary", "psycopg2"),
];

#[cfg(test)]
mod tests {
    use super::*;

    fn file(path: &str, text: &str) -> SourceFile {
        SourceFile { path: path.into(), text: text.into() }
    }

    #[test]
    fn pep508_names() {
        assert_eq!(requirement_name("Requests>=2.0").as_deref(), Some("requests"));
        assert_eq!(requirement_name("zope.interface; python_version<'3'").as_deref(), Some("zope_interface"));
        assert_eq!(requirement_name("uvicorn[standard] (>=0.12)").as_deref(), Some("uvicorn"));
        assert_eq!(requirement_name("# comment"), None);
        assert_eq!(requirement_name("-r other.txt"), None);
        assert_eq!(requirement_name("two words"), None);
    }

    #[test]
    fn packages_from_metadata_and_dependencies_from_their_fields() {
        let files = vec![
            file(
                "pyproject.toml",
                "[project]\nname = \"Fast-Thing\"\ndependencies = [\"PyYAML>=6\", \"starlette[full]<1\"]\n\n[tool.ruff.lint]\nselect = [\"E501\", \"dependencies\"]\n",
            ),
            file("fast_thing/__init__.py", ""),
            file("fast_thing/core.py", ""),
            file("docs_src/__init__.py", ""),
            file("docs_src/tutorial/app.py", ""),
            file("scripts/build_hook.py", ""),
        ];
        let p = read(&files, &Rules::default());
        assert_eq!(p.roots, ["fast_thing"]);
        assert!(p.ships("fast_thing/core.py") && !p.ships("docs_src/tutorial/app.py") && !p.ships("fast_thing_x.py"));
        assert_eq!(p.declared, ["pyyaml", "starlette", "yaml"]);
    }

    #[test]
    fn setup_py_and_setup_cfg_layouts() {
        let files = vec![
            file("setup.py", "requires = [\"charset_normalizer>=2,<4\", \"idna<4\"]\nsetup(name=\"requests\", packages=[\"requests\"], install_requires=requires)\n"),
            file("src/requests/__init__.py", ""),
            file("tests/__init__.py", ""),
        ];
        let p = read(&files, &Rules::default());
        assert_eq!(p.roots, ["src/requests"]);
        assert_eq!(p.declared, ["charset_normalizer", "idna"]);
        let files = vec![
            file("setup.cfg", "[metadata]\nname = click\n\n[options]\npackages = find:\npackage_dir = = src\ninstall_requires =\n    colorama; platform_system == \"Windows\"\n"),
            file("src/click/__init__.py", ""),
            file("examples/__init__.py", ""),
        ];
        let p = read(&files, &Rules::default());
        assert_eq!(p.roots, ["src/click"]);
        assert_eq!(p.declared, ["colorama"]);
    }
}
