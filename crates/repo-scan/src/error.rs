use std::path::PathBuf;

/// Errors that stop a scan. Per-file problems are not errors: they are
/// recorded in the snapshot's `skipped` list.
#[derive(Debug, thiserror::Error)]
#[allow(missing_docs)] // each variant is documented by its #[error] message
pub enum ScanError {
    #[error("{}: no such file or directory", .0.display())]
    NotFound(PathBuf),
    #[error("{}: cannot read: {source}", path.display())]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{}: not a readable archive: {reason}", path.display())]
    Archive { path: PathBuf, reason: String },
    #[error("{}: unsupported archive type (expected .tar.gz, .tgz, .tar, .zip or .whl)", .0.display())]
    UnknownArchive(PathBuf),
    #[error("{}: not a git repository: {reason}", path.display())]
    NotGit { path: PathBuf, reason: String },
    #[error("{}: unknown revision {rev:?}: {reason}", path.display())]
    UnknownRevision { path: PathBuf, rev: String, reason: String },
    #[error("{}: git object error: {reason}", path.display())]
    Git { path: PathBuf, reason: String },
}
