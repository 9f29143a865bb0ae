use std::path::PathBuf;

/// A library's error, kept whole as a cause (gix, tar, zip).
pub type Cause = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Errors that stop a scan. Per-file problems are not errors: they are
/// recorded in the snapshot's `skipped` list. Each keeps its cause as
/// `source`; messages name the path and say what failed, the cause says why.
#[derive(Debug, thiserror::Error)]
#[allow(missing_docs)] // each variant is documented by its #[error] message
pub enum ScanError {
    #[error("{}: no such file or directory", .0.display())]
    NotFound(PathBuf),
    #[error("{}: cannot read", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{}: not a readable archive", path.display())]
    Archive {
        path: PathBuf,
        #[source]
        source: Cause,
    },
    #[error("{}: unsupported archive type (expected .tar.gz, .tgz, .tar, .zip or .whl)", .0.display())]
    UnknownArchive(PathBuf),
    #[error("{}: not a git repository", path.display())]
    NotGit {
        path: PathBuf,
        #[source]
        source: Cause,
    },
    #[error("{}: unknown revision {rev:?}", path.display())]
    UnknownRevision {
        path: PathBuf,
        rev: String,
        #[source]
        source: Cause,
    },
    #[error("{}: git object error", path.display())]
    Git {
        path: PathBuf,
        #[source]
        source: Cause,
    },
}
