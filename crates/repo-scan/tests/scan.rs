//! Scan tests on fixture repositories built by the tests themselves, hostile
//! ones included: syntax errors, non-UTF-8 bytes, binary files, oversized
//! files, a symlink loop, a link out of the root, tar entries with `..` or an
//! absolute path, and an archive bomb.

#![allow(clippy::unwrap_used)] // tests and benches fail loudly

use std::io::Write;
use std::path::Path;
use std::process::Command;

use repo_scan::{scan, Limits};

fn write(root: &Path, rel: &str, bytes: &[u8]) {
    let p = root.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, bytes).unwrap();
}

fn small_limits() -> Limits {
    Limits { max_file_bytes: 4096, max_expanded_bytes: 64 * 1024, max_entries: 1000 }
}

/// A project with every kind of file a scan must keep, filter or skip.
fn nasty_tree(root: &Path) {
    write(root, "pkg/__init__.py", b"from .core import check\n");
    write(root, "pkg/core.py", b"def check(x):\n    return x is not None\n");
    write(root, "pkg/broken.py", b"def broken(:\n    pass\n");
    write(root, "pkg/latin1.py", b"name = '\xe9t\xe9'\n");
    write(root, "pkg/binary.py", b"\x00\x01\x02");
    write(root, "pkg/huge.py", &vec![b'#'; 5000]);
    write(root, "pkg/__pycache__/core.cpython-311.pyc", b"\x00pyc");
    write(root, "pkg/__pycache__/stale.py", b"x = 1\n");
    write(root, "build/lib/pkg/core.py", b"x = 1\n");
    write(root, "dist/pkg.py", b"x = 1\n");
    write(root, "Pkg.egg-info/setup.py", b"x = 1\n");
    write(root, ".venv/lib/site.py", b"x = 1\n");
    write(root, "node_modules/x.py", b"x = 1\n");
    write(root, ".git/hooks/x.py", b"x = 1\n");
    write(root, ".gitignore", b"generated/\n*.tmp.py\n");
    write(root, "generated/out.py", b"x = 1\n");
    write(root, "pkg/scratch.tmp.py", b"x = 1\n");
    write(root, "README.md", b"# not kept\n");
    write(root, "pyproject.toml", b"[project]\nname = 'pkg'\ndependencies = ['requests>=2']\n");
    write(root, "requirements-dev.txt", b"pytest\n");
    write(root, "setup.cfg", b"[metadata]\nname = pkg\n");
    std::os::unix::fs::symlink(".", root.join("pkg/loop")).unwrap();
    std::os::unix::fs::symlink("/etc/hostname", root.join("pkg/escape.py")).unwrap();
}

#[test]
fn directory_scan_keeps_sources_and_records_every_skip() {
    let dir = tempfile::tempdir().unwrap();
    nasty_tree(dir.path());
    let snap = scan(dir.path(), None, &small_limits()).unwrap();
    insta::assert_json_snapshot!("nasty_directory", snap);
    let again = scan(dir.path(), None, &small_limits()).unwrap();
    assert_eq!(serde_json::to_string(&snap).unwrap(), serde_json::to_string(&again).unwrap());
}

fn tar_gz(entries: &[(&[u8], &[u8])]) -> Vec<u8> {
    let mut builder = tar::Builder::new(flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default()));
    for (name, body) in entries {
        let mut header = tar::Header::new_old();
        // Written raw: the tar crate refuses `..` and absolute paths, which is
        // exactly what a hostile archive carries.
        header.as_old_mut().name[..name.len()].copy_from_slice(name);
        header.set_size(body.len() as u64);
        header.set_mode(0o644);
        header.set_entry_type(tar::EntryType::Regular);
        header.set_cksum();
        builder.append(&header, *body).unwrap();
    }
    builder.into_inner().unwrap().finish().unwrap()
}

#[test]
fn tar_with_dotdot_and_absolute_entries_is_read_safely() {
    let dir = tempfile::tempdir().unwrap();
    let archive = dir.path().join("hostile.tar.gz");
    let bytes = tar_gz(&[
        (b"proj/pkg/ok.py", b"def ok():\n    return 1\n"),
        (b"proj/../evil.py", b"import os\n"),
        (b"/abs/evil.py", b"import os\n"),
        (b"proj/pkg/../../../escape.py", b"import os\n"),
    ]);
    std::fs::write(&archive, bytes).unwrap();
    let snap = scan(&archive, None, &Limits::default()).unwrap();
    insta::assert_json_snapshot!("hostile_tar", snap);
    // Nothing was written next to the archive.
    assert!(!dir.path().join("evil.py").exists());
    assert!(!dir.path().parent().unwrap().join("evil.py").exists());
}

#[test]
fn archive_bomb_stops_at_the_expansion_limit() {
    let dir = tempfile::tempdir().unwrap();
    let archive = dir.path().join("bomb.zip");
    let mut zip = zip::ZipWriter::new(std::fs::File::create(&archive).unwrap());
    let opts = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    zip.start_file("pkg/a.py", opts).unwrap();
    zip.write_all(b"x = 1\n").unwrap();
    for i in 0..40 {
        zip.start_file(format!("pkg/zeros{i}.py"), opts).unwrap();
        zip.write_all(&vec![b' '; 4000]).unwrap();
    }
    zip.finish().unwrap();
    let snap = scan(&archive, None, &small_limits()).unwrap();
    // Every entry sits under `pkg/`, so paths are read relative to it.
    assert!(snap.files.iter().any(|f| f.path == "a.py"), "{snap:?}");
    assert!(snap.files.len() < 41, "the bomb was read whole");
    let stop = snap.skipped.iter().find(|s| s.path == "(archive)").expect("the stop is recorded");
    assert!(stop.reason.contains("expands past"), "{stop:?}");
}

fn git(dir: &Path, args: &[&str]) {
    let out = Command::new("git")
        .args(["-c", "user.name=t", "-c", "user.email=t@example.invalid", "-c", "commit.gpgsign=false"])
        .args(args)
        .current_dir(dir)
        .output()
        .expect("git runs");
    assert!(out.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn same_files_give_the_same_id_from_directory_archive_and_git() {
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path().join("proj");
    write(&repo, "pkg/__init__.py", b"");
    write(&repo, "pkg/core.py", b"def f(a, b=1):\n    return a + b\n");
    write(&repo, "setup.py", b"from setuptools import setup\nsetup(name='pkg')\n");
    git(&repo, &["init", "-q"]);
    git(&repo, &["add", "-A"]);
    git(&repo, &["commit", "-qm", "first"]);
    git(&repo, &["tag", "v1"]);
    let from_dir = scan(&repo, None, &Limits::default()).unwrap();

    let archive = dir.path().join("proj.tar.gz");
    let tarball = tar_gz(&[
        (b"proj-1.0/pkg/__init__.py", b""),
        (b"proj-1.0/pkg/core.py", b"def f(a, b=1):\n    return a + b\n"),
        (b"proj-1.0/setup.py", b"from setuptools import setup\nsetup(name='pkg')\n"),
    ]);
    std::fs::write(&archive, tarball).unwrap();
    let from_tar = scan(&archive, None, &Limits::default()).unwrap();

    // The work tree changes after the commit; the revision does not.
    write(&repo, "pkg/core.py", b"def f(a, b=2):\n    return a - b\n");
    write(&repo, "pkg/new.py", b"x = 1\n");
    let from_git = scan(&repo, Some("v1"), &Limits::default()).unwrap();

    assert_eq!(from_dir.snapshot_id, from_tar.snapshot_id);
    assert_eq!(from_dir.snapshot_id, from_git.snapshot_id);
    assert_eq!(from_git.files.len(), 3);
    let head_now = scan(&repo, None, &Limits::default()).unwrap();
    assert_ne!(head_now.snapshot_id, from_git.snapshot_id);
}

#[test]
fn bad_sources_are_one_line_errors_naming_them() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nope");
    let e = scan(&missing, None, &Limits::default()).unwrap_err().to_string();
    assert!(e.contains("nope") && !e.contains('\n'), "{e}");

    let junk = dir.path().join("junk.tar.gz");
    std::fs::write(&junk, b"this is not gzip").unwrap();
    let e = scan(&junk, None, &Limits::default()).unwrap_err().to_string();
    assert!(e.contains("junk.tar.gz") && !e.contains('\n'), "{e}");

    let repo = dir.path().join("r");
    write(&repo, "a.py", b"x = 1\n");
    git(&repo, &["init", "-q"]);
    git(&repo, &["add", "-A"]);
    git(&repo, &["commit", "-qm", "c"]);
    let e = scan(&repo, Some("no-such-rev"), &Limits::default()).unwrap_err().to_string();
    assert!(e.contains("no-such-rev") && e.contains("unknown revision"), "{e}");
    let e = scan(dir.path(), Some("HEAD"), &Limits::default()).unwrap_err().to_string();
    assert!(e.contains("not a git repository"), "{e}");
}
