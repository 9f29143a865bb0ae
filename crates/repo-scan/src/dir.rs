use std::path::{Path, PathBuf};

use crate::snapshot::Builder;
use crate::{filter, Limits, ScanError, Snapshot, Source};

/// A directory on disk. Honours `.gitignore` files inside it (not above it, so
/// the result does not depend on where the directory sits); never follows symlinks.
#[derive(Debug, Clone)]
pub struct DirSource {
    root: PathBuf,
}

impl DirSource {
    /// The directory at `root`.
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }
}

impl Source for DirSource {
    fn snapshot(&self, limits: &Limits) -> Result<Snapshot, ScanError> {
        let meta = std::fs::metadata(&self.root).map_err(|source| ScanError::Io { path: self.root.clone(), source })?;
        if !meta.is_dir() {
            return Err(ScanError::Io { path: self.root.clone(), source: std::io::Error::other("not a directory") });
        }
        let mut builder = Builder::default();
        let walker = ignore::WalkBuilder::new(&self.root)
            .follow_links(false)
            .hidden(false)
            .parents(false)
            .ignore(false)
            .git_global(false)
            .git_exclude(false)
            .git_ignore(true)
            .require_git(false)
            .filter_entry(|e| {
                let is_dir = e.file_type().is_some_and(|t| t.is_dir());
                !(is_dir && e.depth() > 0 && filter::excluded_dir(&e.file_name().to_string_lossy()))
            })
            .build();
        for entry in walker {
            let entry = match entry {
                Ok(e) => e,
                Err(e) => {
                    builder.skip(error_path(&e, &self.root), format!("unreadable: {}", bench_core::error_chain(&e)));
                    continue;
                }
            };
            let Some(rel) = relative(&self.root, entry.path()) else { continue };
            let Some(ft) = entry.file_type() else { continue };
            if ft.is_symlink() {
                builder.skip(rel, "symlink (not followed)");
                continue;
            }
            if !ft.is_file() || !filter::keep(&rel) {
                continue;
            }
            match std::fs::metadata(entry.path()) {
                Ok(m) if m.len() > limits.max_file_bytes => {
                    builder.skip(rel, format!("larger than {} bytes", limits.max_file_bytes));
                }
                Ok(_) => match std::fs::read(entry.path()) {
                    Ok(bytes) => builder.offer(&rel, &bytes, limits),
                    Err(e) => builder.skip(rel, format!("unreadable: {}", bench_core::error_chain(&e))),
                },
                Err(e) => builder.skip(rel, format!("unreadable: {}", bench_core::error_chain(&e))),
            }
        }
        Ok(builder.finish())
    }
}

fn relative(root: &Path, path: &Path) -> Option<String> {
    let rel = path.strip_prefix(root).ok()?;
    let parts: Vec<String> = rel.components().map(|c| c.as_os_str().to_string_lossy().into_owned()).collect();
    (!parts.is_empty()).then(|| parts.join("/"))
}

fn error_path(e: &ignore::Error, root: &Path) -> String {
    match e {
        ignore::Error::WithPath { path, .. } => relative(root, path).unwrap_or_else(|| path.display().to_string()),
        ignore::Error::WithDepth { err, .. } | ignore::Error::WithLineNumber { err, .. } => error_path(err, root),
        _ => ".".into(),
    }
}
