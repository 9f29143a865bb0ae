use std::path::PathBuf;

use crate::error::Cause;
use crate::snapshot::Builder;
use crate::{filter, Limits, ScanError, Snapshot, Source};

/// A git repository read at a revision, from its object database: nothing is
/// checked out and the work tree is ignored.
#[derive(Debug, Clone)]
pub struct GitSource {
    repo: PathBuf,
    rev: String,
}

impl GitSource {
    /// The repository at `repo`, read at `rev`.
    pub fn new(repo: impl Into<PathBuf>, rev: impl Into<String>) -> Self {
        Self { repo: repo.into(), rev: rev.into() }
    }
}

impl Source for GitSource {
    fn snapshot(&self, limits: &Limits) -> Result<Snapshot, ScanError> {
        let path = || self.repo.clone();
        let git = |e: Cause| ScanError::Git { path: path(), source: e };
        let revision = |e: Cause| ScanError::UnknownRevision { path: path(), rev: self.rev.clone(), source: e };
        let repo = gix::open(&self.repo).map_err(|e| ScanError::NotGit { path: path(), source: e.into() })?;
        let tree = repo
            .rev_parse_single(self.rev.as_str())
            .map_err(|e| revision(e.into()))?
            .object()
            .map_err(|e| git(e.into()))?
            .peel_to_tree()
            .map_err(|e| revision(e.into()))?;
        let mut recorder = gix::traverse::tree::Recorder::default();
        tree.traverse().breadthfirst(&mut recorder).map_err(|e| git(e.into()))?;

        let mut builder = Builder::default();
        for entry in recorder.records {
            let raw = entry.filepath.to_string();
            let Some(rel) = filter::safe_relative(&raw) else {
                builder.skip(raw, "unsafe path in tree");
                continue;
            };
            let mode = entry.mode;
            if mode.is_link() {
                builder.skip(rel, "symlink (not followed)");
                continue;
            }
            if mode.is_commit() {
                builder.skip(rel, "submodule (not read)");
                continue;
            }
            if !mode.is_blob() || !filter::keep(&rel) {
                continue;
            }
            let header = repo.find_header(entry.oid).map_err(|e| git(e.into()))?;
            if header.size() > limits.max_file_bytes {
                builder.skip(rel, format!("larger than {} bytes", limits.max_file_bytes));
                continue;
            }
            let blob = repo.find_object(entry.oid).map_err(|e| git(e.into()))?;
            builder.offer(&rel, &blob.data, limits);
        }
        Ok(builder.finish())
    }
}
