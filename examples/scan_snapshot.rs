//! Uses `repo-scan` alone: reads a directory, a git revision or an archive
//! into a content-addressed snapshot and prints its id, its files and what
//! was skipped (and why).
//!
//! cargo run -p examples --example scan_snapshot -- tests/fixtures/tinyvalidator [REV]

use std::path::Path;

use repo_scan::{scan, Limits};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let Some(path) = args.get(1) else {
        eprintln!("usage: scan_snapshot DIR|REPO|ARCHIVE [REV]");
        std::process::exit(2);
    };
    let snapshot = match scan(Path::new(path), args.get(2).map(String::as_str), &Limits::default()) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(1);
        }
    };
    println!("snapshot {}", snapshot.snapshot_id);
    for f in &snapshot.files {
        println!("{}  {:>7} bytes  {}", &f.blake3[..12], f.bytes, f.path);
    }
    for s in &snapshot.skipped {
        println!("skipped {}: {}", s.path, s.reason);
    }
    println!("{} files, {} skipped", snapshot.files.len(), snapshot.skipped.len());
}
