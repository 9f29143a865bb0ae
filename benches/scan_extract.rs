//! Scan + extract throughput over a large real tree: the Django sdist by
//! default, downloaded at bench time into target/bench-data (never committed),
//! or any archive or directory named by BENCH_LARGE_TREE.
//!
//! cargo bench -p benches --bench scan_extract
//! (scripts/bench.sh also measures peak RSS and CPython's `ast` on the same files.)

#![allow(clippy::unwrap_used)] // tests and benches fail loudly

use std::path::PathBuf;
use std::sync::OnceLock;

use divan::counter::ItemsCount;
use py_ast_meta::{extract, ExtractRules, SourceFile};
use repo_scan::{scan, Limits, Snapshot};

fn main() {
    divan::main();
}

fn tree() -> &'static PathBuf {
    static TREE: OnceLock<PathBuf> = OnceLock::new();
    TREE.get_or_init(|| {
        if let Ok(p) = std::env::var("BENCH_LARGE_TREE") {
            return PathBuf::from(p);
        }
        let dir = test_support::tools::workspace_root().join("target/bench-data");
        let archive = dir.join("django-5.1.4.tar.gz");
        if !archive.exists() {
            let status = std::process::Command::new("python3")
                .args(["-m", "pip", "download", "--quiet", "--no-deps", "--no-binary", ":all:", "django==5.1.4", "-d"])
                .arg(&dir)
                .status()
                .expect("pip runs");
            assert!(status.success(), "could not download the Django sdist; set BENCH_LARGE_TREE");
            let found = std::fs::read_dir(&dir)
                .unwrap()
                .filter_map(Result::ok)
                .map(|e| e.path())
                .find(|p| p.to_string_lossy().ends_with(".tar.gz"));
            std::fs::rename(found.expect("an sdist"), &archive).unwrap();
        }
        archive
    })
}

fn snapshot() -> &'static Snapshot {
    static SNAP: OnceLock<Snapshot> = OnceLock::new();
    SNAP.get_or_init(|| scan(tree(), None, &Limits::default()).expect("the tree scans"))
}

fn files() -> Vec<SourceFile> {
    snapshot().files.iter().map(|f| SourceFile { path: f.path.clone(), text: f.text.clone() }).collect()
}

#[divan::bench(sample_count = 5)]
fn scan_only(bencher: divan::Bencher<'_, '_>) {
    let n = snapshot().files.len();
    bencher.counter(ItemsCount::new(n)).bench(|| scan(tree(), None, &Limits::default()).expect("scan"));
}

#[divan::bench(sample_count = 5)]
fn extract_only(bencher: divan::Bencher<'_, '_>) {
    let files = files();
    bencher.counter(ItemsCount::new(files.len())).bench(|| extract("bench", &files, &ExtractRules::default()));
}

#[divan::bench(sample_count = 5)]
fn scan_and_extract(bencher: divan::Bencher<'_, '_>) {
    let n = snapshot().files.len();
    bencher.counter(ItemsCount::new(n)).bench(|| {
        let snap = scan(tree(), None, &Limits::default()).expect("scan");
        let files: Vec<SourceFile> =
            snap.files.into_iter().map(|f| SourceFile { path: f.path, text: f.text }).collect();
        extract(&snap.snapshot_id, &files, &ExtractRules::default())
    });
}
