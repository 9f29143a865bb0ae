//! What synthesis knows about the snapshot as a whole.

use std::collections::{BTreeMap, BTreeSet};

use py_ast_meta::{Extraction, ModuleMeta, SourceFile};

use crate::Rules;

pub(crate) struct Context<'a> {
    pub snapshot_id: &'a str,
    pub rules: &'a Rules,
    pub rules_hash: String,
    pub extraction: &'a Extraction,
    pub texts: BTreeMap<&'a str, &'a str>,
    pub api: BTreeMap<String, Vec<String>>,
    pub declared: Vec<String>,
}

impl<'a> Context<'a> {
    pub fn new(files: &'a [SourceFile], extraction: &'a Extraction, rules: &'a Rules) -> Self {
        let api = extraction
            .api
            .modules
            .iter()
            .map(|(m, names)| (m.clone(), names.iter().take(600).cloned().collect()))
            .collect();
        Self {
            snapshot_id: &extraction.snapshot_id,
            rules,
            rules_hash: rules.hash(),
            extraction,
            texts: files.iter().map(|f| (f.path.as_str(), f.text.as_str())).collect(),
            api,
            declared: declared_dependencies(files),
        }
    }

    /// Modules tasks may be built from, in path order.
    pub fn library_modules(&self) -> impl Iterator<Item = &'a ModuleMeta> + '_ {
        self.extraction.modules.iter().filter(|m| self.rules.is_library_code(&m.path))
    }

    pub fn rank(&self, file: &str, purpose: &str) -> u64 {
        bench_core::Hasher::new().field(self.snapshot_id).field(&self.rules_hash).field(file).field(purpose).rank()
    }

    pub fn text(&self, path: &str) -> &'a str {
        self.texts.get(path).copied().unwrap_or_default()
    }

    /// Names visible in a module that the repository itself defines: its own
    /// top-level names and what its head imports bind from local modules.
    pub fn repo_names(&self, m: &ModuleMeta) -> BTreeSet<String> {
        let mut names: BTreeSet<String> = m.functions.iter().map(|f| f.name.clone()).collect();
        names.extend(m.classes.iter().map(|c| c.name.clone()));
        names.extend(m.assignments.iter().cloned());
        let roots = self.extraction.api.roots();
        for i in &m.imports {
            let local = i.level > 0 || roots.contains(i.module.split('.').next().unwrap_or_default());
            if local {
                names.insert(i.bound().to_string());
            }
        }
        names
    }
}

/// The distributions a project declares, as import-style names (lowercase,
/// `-` and `.` as `_`), from `setup.py`, `setup.cfg`, `pyproject.toml` and
/// `requirements*.txt`.
fn declared_dependencies(files: &[SourceFile]) -> Vec<String> {
    let mut out = BTreeSet::new();
    for f in files {
        let name = f.path.rsplit('/').next().unwrap_or_default();
        let quoted_in = |text: &str, key: &str, out: &mut BTreeSet<String>| {
            let mut rest = text;
            while let Some(i) = rest.find(key) {
                rest = &rest[i + key.len()..];
                let Some(open) = rest.find('[') else { break };
                let Some(close) = rest[open..].find(']') else { break };
                for piece in rest[open + 1..open + close].split([',', '\n']) {
                    let piece = piece.trim().trim_matches(|c| c == '"' || c == '\'');
                    if let Some(n) = requirement_name(piece) {
                        out.insert(n);
                    }
                }
            }
        };
        match name {
            "setup.py" => quoted_in(&f.text, "install_requires", &mut out),
            "pyproject.toml" => quoted_in(&f.text, "dependencies", &mut out),
            "setup.cfg" => {
                let mut inside = false;
                for line in f.text.lines() {
                    if line.trim_start().starts_with("install_requires") {
                        inside = true;
                        if let Some((_, v)) = line.split_once('=') {
                            if let Some(n) = requirement_name(v.trim()) {
                                out.insert(n);
                            }
                        }
                        continue;
                    }
                    if inside {
                        if line.starts_with([' ', '\t']) {
                            if let Some(n) = requirement_name(line.trim()) {
                                out.insert(n);
                            }
                        } else {
                            inside = false;
                        }
                    }
                }
            }
            n if n.starts_with("requirements") && n.ends_with(".txt") => {
                for line in f.text.lines() {
                    if let Some(n) = requirement_name(line.trim()) {
                        out.insert(n);
                    }
                }
            }
            _ => {}
        }
    }
    let aliases: Vec<String> =
        out.iter().filter_map(|n| IMPORT_NAMES.iter().find(|(d, _)| d == n).map(|(_, i)| i.to_lowercase())).collect();
    out.extend(aliases);
    out.into_iter().collect()
}

fn requirement_name(spec: &str) -> Option<String> {
    if spec.is_empty() || spec.starts_with(['#', '-']) {
        return None;
    }
    let end =
        spec.find(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.')).unwrap_or(spec.len());
    let name = spec[..end].to_lowercase().replace(['-', '.'], "_");
    (!name.is_empty()).then_some(name)
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

/// Dedents lines `start..=end` (1-based) of `text`.
pub(crate) fn snippet(text: &str, start: u32, end: u32) -> Vec<String> {
    let lines: Vec<&str> = text.lines().skip(start as usize - 1).take((end - start + 1) as usize).collect();
    let indent =
        lines.iter().filter(|l| !l.trim().is_empty()).map(|l| l.len() - l.trim_start().len()).min().unwrap_or(0);
    lines.iter().map(|l| l.get(indent..).unwrap_or("").trim_end().to_string()).collect()
}

/// `text` with lines `start..=end` (1-based) replaced by `new`.
pub(crate) fn replace_lines(text: &str, start: u32, end: u32, new: &[String]) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let (start, end) = (start as usize - 1, (end as usize).min(lines.len()));
    let mut out: Vec<&str> = lines[..start].to_vec();
    out.extend(new.iter().map(String::as_str));
    out.extend(&lines[end..]);
    out.join("\n") + "\n"
}

/// Line `n` (1-based) of `text`.
pub(crate) fn line(text: &str, n: u32) -> &str {
    text.lines().nth(n as usize - 1).unwrap_or_default()
}

/// The indentation `snippet` removes from lines `start..=end`.
pub(crate) fn common_indent(text: &str, start: u32, end: u32) -> usize {
    text.lines()
        .skip(start as usize - 1)
        .take((end - start + 1) as usize)
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.len() - l.trim_start().len())
        .min()
        .unwrap_or(0)
}

/// Lines shown with their 1-based numbers.
pub(crate) fn numbered(lines: &[String]) -> String {
    let width = lines.len().to_string().len();
    lines.iter().enumerate().map(|(i, l)| format!("{:>width$} | {l}\n", i + 1)).collect()
}

pub(crate) fn indent_of(line: &str) -> String {
    line[..line.len() - line.trim_start().len()].to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requirement_names() {
        assert_eq!(requirement_name("Requests>=2.0").as_deref(), Some("requests"));
        assert_eq!(requirement_name("zope.interface; python_version<'3'").as_deref(), Some("zope_interface"));
        assert_eq!(requirement_name("# comment"), None);
    }

    #[test]
    fn snippet_dedents() {
        let t = "class A:\n    def f(self):\n        return 1\n";
        assert_eq!(snippet(t, 2, 3), ["def f(self):", "    return 1"]);
    }
}
