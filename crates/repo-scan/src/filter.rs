//! Which paths a snapshot keeps. Paths here are relative, `/`-separated.

/// Directory names that hold build artefacts, caches or environments.
const EXCLUDED_DIRS: &[&str] = &[
    "__pycache__",
    ".git",
    ".hg",
    ".svn",
    "build",
    "dist",
    ".tox",
    ".nox",
    ".venv",
    "venv",
    "env",
    ".env",
    "node_modules",
    ".mypy_cache",
    ".pytest_cache",
    ".ruff_cache",
    ".eggs",
    "site-packages",
    "__pypackages__",
];

/// Whether a directory component excludes everything below it.
pub(crate) fn excluded_dir(name: &str) -> bool {
    EXCLUDED_DIRS.contains(&name) || name.ends_with(".egg-info") || name.ends_with(".dist-info")
}

/// Whether a file name is one a snapshot keeps: Python sources and the
/// packaging manifests that declare dependencies.
pub(crate) fn wanted_file(name: &str) -> bool {
    name.ends_with(".py")
        || name.ends_with(".pyi")
        || matches!(name, "pyproject.toml" | "setup.cfg" | "setup.py")
        || (name.starts_with("requirements") && name.ends_with(".txt"))
}

/// Whether a relative path is kept: a wanted file under no excluded directory.
pub(crate) fn keep(path: &str) -> bool {
    let mut parts = path.split('/').collect::<Vec<_>>();
    let Some(name) = parts.pop() else { return false };
    wanted_file(name) && !parts.iter().any(|p| excluded_dir(p))
}

/// A safe relative path from an archive entry or tree: no root, no `..`, no
/// empty or `.` parts. `None` for anything else.
pub(crate) fn safe_relative(raw: &str) -> Option<String> {
    let raw = raw.replace('\\', "/");
    if raw.starts_with('/') || raw.contains(':') && raw.chars().nth(1) == Some(':') {
        return None;
    }
    let mut parts = Vec::new();
    for part in raw.split('/') {
        match part {
            "" | "." => continue,
            ".." => return None,
            p => parts.push(p),
        }
    }
    (!parts.is_empty()).then(|| parts.join("/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_sources_and_manifests() {
        assert!(keep("pkg/mod.py"));
        assert!(keep("requirements-dev.txt"));
        assert!(keep("setup.cfg"));
        assert!(!keep("pkg/__pycache__/mod.py"));
        assert!(!keep("build/lib/pkg/mod.py"));
        assert!(!keep("Foo.egg-info/setup.py"));
        assert!(!keep("README.md"));
        assert!(!keep("pkg/mod.pyc"));
    }

    #[test]
    fn rejects_unsafe_paths() {
        assert_eq!(safe_relative("a/./b.py").as_deref(), Some("a/b.py"));
        assert_eq!(safe_relative("../evil.py"), None);
        assert_eq!(safe_relative("a/../../evil.py"), None);
        assert_eq!(safe_relative("/etc/passwd"), None);
        assert_eq!(safe_relative("C:/x.py"), None);
    }
}
