use serde::{Deserialize, Serialize};

use crate::filter;

/// Bounds that keep a scan safe on hostile input.
#[derive(Debug, Clone)]
pub struct Limits {
    /// A kept file larger than this is skipped.
    pub max_file_bytes: u64,
    /// An archive whose entries expand past this stops being read.
    pub max_expanded_bytes: u64,
    /// An archive with more entries than this stops being read.
    pub max_entries: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self { max_file_bytes: 2 << 20, max_expanded_bytes: 1 << 30, max_entries: 200_000 }
    }
}

/// One kept file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SnapshotFile {
    /// Relative to the source's root, `/`-separated.
    pub path: String,
    /// The content's blake3.
    pub blake3: String,
    /// The content's size.
    pub bytes: u64,
    /// The file's text; not part of the serialised snapshot.
    #[serde(skip)]
    pub text: String,
}

/// A file left out, with why.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Skipped {
    /// The file's path in the source.
    pub path: String,
    /// Why it was left out.
    pub reason: String,
}

/// The content-addressed result of a scan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Snapshot {
    /// The hash over every kept file's path and content.
    pub snapshot_id: String,
    /// The kept files, sorted by path.
    pub files: Vec<SnapshotFile>,
    /// The files left out, with reasons.
    pub skipped: Vec<Skipped>,
}

impl Snapshot {
    /// The kept file at `path`.
    pub fn file(&self, path: &str) -> Option<&SnapshotFile> {
        self.files.binary_search_by(|f| f.path.as_str().cmp(path)).ok().map(|i| &self.files[i])
    }
}

/// Collects candidate files from any source and seals them into a snapshot.
#[derive(Debug, Default)]
pub(crate) struct Builder {
    files: Vec<SnapshotFile>,
    skipped: Vec<Skipped>,
}

impl Builder {
    pub(crate) fn skip(&mut self, path: impl Into<String>, reason: impl Into<String>) {
        self.skipped.push(Skipped { path: path.into(), reason: reason.into() });
    }

    /// Offers the bytes of a file at a relative path; checks the filter, size,
    /// binary content and encoding.
    pub(crate) fn offer(&mut self, path: &str, bytes: &[u8], limits: &Limits) {
        if !filter::keep(path) {
            return;
        }
        if bytes.len() as u64 > limits.max_file_bytes {
            return self.skip(path, format!("larger than {} bytes", limits.max_file_bytes));
        }
        if bytes.contains(&0) {
            return self.skip(path, "binary content (NUL byte)");
        }
        match std::str::from_utf8(bytes) {
            Ok(text) => self.files.push(SnapshotFile {
                path: path.to_string(),
                blake3: bench_core::content_id(bytes),
                bytes: bytes.len() as u64,
                text: text.to_string(),
            }),
            Err(e) => self.skip(path, format!("not UTF-8 (invalid byte at offset {})", e.valid_up_to())),
        }
    }

    pub(crate) fn finish(mut self) -> Snapshot {
        self.files.sort_by(|a, b| a.path.cmp(&b.path));
        self.files.dedup_by(|a, b| a.path == b.path);
        self.skipped.sort();
        self.skipped.dedup();
        let mut hasher = bench_core::Hasher::new();
        for f in &self.files {
            hasher.field(&f.path).field(&f.blake3);
        }
        Snapshot { snapshot_id: hasher.hex(), files: self.files, skipped: self.skipped }
    }
}
