use std::fs::File;
use std::io::{BufReader, Read};
use std::path::PathBuf;

use crate::snapshot::Builder;
use crate::{filter, Limits, ScanError, Snapshot, Source};

/// A `.tar.gz`, `.tgz`, `.tar`, `.zip` or `.whl` file. Nothing is ever written to
/// disk. When every entry sits under one top-level folder (as in an sdist),
/// paths are read relative to it, so the archive and its unpacked folder give
/// the same snapshot id.
#[derive(Debug, Clone)]
pub struct ArchiveSource {
    path: PathBuf,
}

impl ArchiveSource {
    /// The archive at `path`.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self { path: path.into() }
    }
}

/// An entry as read from the archive, before the common folder is stripped.
enum Entry {
    File(String, Vec<u8>),
    Skipped(String, String),
    /// An entry whose path is unsafe, kept verbatim.
    Unsafe(String, String),
    Dir(String),
    /// A file the snapshot does not keep; only its path matters.
    Other(String),
}

impl Source for ArchiveSource {
    fn snapshot(&self, limits: &Limits) -> Result<Snapshot, ScanError> {
        let name = self.path.file_name().map(|n| n.to_string_lossy().to_lowercase()).unwrap_or_default();
        let file = File::open(&self.path).map_err(|source| ScanError::Io { path: self.path.clone(), source })?;
        let mut reader = Reader { limits, expanded: 0, entries: Vec::new(), stopped: None };
        let result = if name.ends_with(".tar.gz") || name.ends_with(".tgz") {
            reader.tar(flate2::read::GzDecoder::new(BufReader::new(file)))
        } else if name.ends_with(".tar") {
            reader.tar(BufReader::new(file))
        } else if name.ends_with(".zip") || name.ends_with(".whl") {
            reader.zip(file)
        } else {
            return Err(ScanError::UnknownArchive(self.path.clone()));
        };
        result.map_err(|source| ScanError::Archive { path: self.path.clone(), source })?;
        Ok(reader.finish())
    }
}

struct Reader<'a> {
    limits: &'a Limits,
    expanded: u64,
    entries: Vec<Entry>,
    /// Why reading stopped early (a bomb), if it did.
    stopped: Option<String>,
}

impl Reader<'_> {
    /// Reads an entry's body, counting it against the expansion limit. Reads
    /// at most one byte past the per-file limit, so a huge entry costs nothing.
    fn body(&mut self, raw: &str, read: &mut dyn Read) -> Option<Vec<u8>> {
        let mut bytes = Vec::new();
        let cap = self.limits.max_file_bytes + 1;
        if let Err(e) = read.take(cap).read_to_end(&mut bytes) {
            self.entries.push(Entry::Skipped(raw.into(), format!("unreadable entry: {}", bench_core::error_chain(&e))));
            return None;
        }
        self.expanded += bytes.len() as u64;
        if self.expanded > self.limits.max_expanded_bytes {
            self.stopped = Some(format!(
                "archive expands past {} bytes; entries from here on were not read",
                self.limits.max_expanded_bytes
            ));
            return None;
        }
        Some(bytes)
    }

    fn entry(&mut self, raw: String, is_dir: bool, is_file: bool, read: &mut dyn Read) {
        if self.entries.len() >= self.limits.max_entries {
            self.stopped = Some(format!("more than {} entries; the rest were not read", self.limits.max_entries));
            return;
        }
        let Some(rel) = filter::safe_relative(&raw) else {
            self.entries.push(Entry::Unsafe(raw, "unsafe archive path (absolute or with ..)".into()));
            return;
        };
        if is_dir {
            self.entries.push(Entry::Dir(rel));
        } else if !is_file {
            self.entries.push(Entry::Skipped(rel, "not a regular file (link or device entry)".into()));
        } else if !filter::wanted_file(rel.rsplit('/').next().unwrap_or_default()) {
            self.entries.push(Entry::Other(rel));
        } else if let Some(bytes) = self.body(&raw, read) {
            self.entries.push(Entry::File(rel, bytes));
        }
    }

    fn tar(&mut self, read: impl Read) -> Result<(), crate::error::Cause> {
        let mut archive = tar::Archive::new(read);
        for entry in archive.entries()? {
            let mut entry = entry?;
            let raw = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
            let kind = entry.header().entry_type();
            if matches!(kind, tar::EntryType::XGlobalHeader | tar::EntryType::XHeader) {
                continue;
            }
            self.entry(raw, kind.is_dir(), kind.is_file(), &mut entry);
            if self.stopped.is_some() {
                break;
            }
        }
        Ok(())
    }

    fn zip(&mut self, file: File) -> Result<(), crate::error::Cause> {
        let mut archive = zip::ZipArchive::new(file)?;
        for i in 0..archive.len() {
            let mut entry = archive.by_index(i)?;
            let raw = entry.name().to_string();
            let is_link = entry.unix_mode().is_some_and(|m| m & 0o170000 == 0o120000);
            let (is_dir, is_file) = (entry.is_dir(), entry.is_file() && !is_link);
            self.entry(raw, is_dir, is_file, &mut entry);
            if self.stopped.is_some() {
                break;
            }
        }
        Ok(())
    }

    fn finish(self) -> Snapshot {
        let prefix = common_folder(&self.entries);
        let strip = |p: &str| -> String {
            match &prefix {
                Some(pre) => p.strip_prefix(pre.as_str()).and_then(|p| p.strip_prefix('/')).unwrap_or(p).to_string(),
                None => p.to_string(),
            }
        };
        let mut builder = Builder::default();
        for entry in &self.entries {
            match entry {
                Entry::File(path, bytes) => builder.offer(&strip(path), bytes, self.limits),
                Entry::Skipped(path, reason) => builder.skip(strip(path), reason.clone()),
                Entry::Unsafe(path, reason) => builder.skip(path.clone(), reason.clone()),
                Entry::Dir(_) | Entry::Other(_) => {}
            }
        }
        if let Some(reason) = self.stopped {
            builder.skip("(archive)", reason);
        }
        builder.finish()
    }
}

/// The one top-level folder every entry sits under, if there is one.
fn common_folder(entries: &[Entry]) -> Option<String> {
    let mut first: Option<&str> = None;
    for e in entries {
        let path = match e {
            Entry::File(p, _) | Entry::Dir(p) | Entry::Other(p) => p.as_str(),
            Entry::Skipped(..) | Entry::Unsafe(..) => continue,
        };
        let (top, rest) = path.split_once('/').unwrap_or((path, ""));
        // A file at the top level means there is no common folder.
        if rest.is_empty() && !matches!(e, Entry::Dir(..)) {
            return None;
        }
        match first {
            None => first = Some(top),
            Some(f) if f != top => return None,
            Some(_) => {}
        }
    }
    first.map(str::to_string)
}
