//! Reads a source (a directory, a git repository at a revision, or an archive)
//! into a content-addressed [`Snapshot`] of the Python sources and packaging
//! manifests it holds.
//!
//! The snapshot id is the blake3 hash over the sorted (relative path, content
//! hash) pairs of the kept files, so the same files give the same id whatever
//! the source kind. Hostile input (non-UTF-8 or binary files, oversized files,
//! symlinks, unsafe archive paths, archive bombs) is recorded in
//! [`Snapshot::skipped`] with a reason and never stops the scan.
//!
//! ```no_run
//! let snapshot = repo_scan::scan(std::path::Path::new("cerberus-1.3.4.tar.gz"), None, &repo_scan::Limits::default())?;
//! println!("{} files, id {}", snapshot.files.len(), snapshot.snapshot_id);
//! # Ok::<(), repo_scan::ScanError>(())
//! ```

mod archive;
mod dir;
mod error;
mod filter;
mod git;
mod snapshot;

pub use archive::ArchiveSource;
pub use dir::DirSource;
pub use error::ScanError;
pub use git::GitSource;
pub use snapshot::{Limits, Skipped, Snapshot, SnapshotFile};

use std::path::Path;

/// One kind of source a snapshot can be read from.
pub trait Source {
    /// Reads the source into a snapshot within `limits`.
    fn snapshot(&self, limits: &Limits) -> Result<Snapshot, ScanError>;
}

/// Reads `path` as the kind of source it is: with `rev`, a git repository at
/// that revision; a `.tar.gz`, `.tgz`, `.tar`, `.zip` or `.whl` file, an archive;
/// otherwise a directory.
pub fn scan(path: &Path, rev: Option<&str>, limits: &Limits) -> Result<Snapshot, ScanError> {
    if !path.exists() {
        return Err(ScanError::NotFound(path.to_path_buf()));
    }
    match rev {
        Some(rev) => GitSource::new(path, rev).snapshot(limits),
        None if path.is_file() => ArchiveSource::new(path).snapshot(limits),
        None => DirSource::new(path).snapshot(limits),
    }
}
