//! `github:` sources against a local server written from GitHub's REST
//! documentation: the snapshot of `github:OWNER/REPO@REF` is byte-identical
//! to the one of a local clone at the same commit, the tarball is cached by
//! SHA (a SHA ref then needs no request), and errors name the repository and
//! the status.

#![allow(clippy::unwrap_used)] // tests fail loudly

use std::path::Path;
use std::process::Command;

use bench_eval::{GithubSpec, Source};
use test_support::github_server::{FakeGithub, Repo};
use test_support::tools::workspace_root;

fn git(dir: &Path, args: &[&str]) -> Vec<u8> {
    let out = Command::new("git")
        .args(["-c", "user.name=bench", "-c", "user.email=bench@localhost", "-c", "init.defaultBranch=main"])
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(out.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    out.stdout
}

/// A git repository of the tinyvalidator fixture, its commit, and that
/// commit's tarball as GitHub serves it (`git archive` with a top folder).
fn repository(dir: &Path) -> (String, Vec<u8>) {
    let fixture = workspace_root().join("tests/fixtures/tinyvalidator");
    for entry in walk(&fixture) {
        let rel = entry.strip_prefix(&fixture).unwrap();
        let dest = dir.join(rel);
        std::fs::create_dir_all(dest.parent().unwrap()).unwrap();
        std::fs::copy(&entry, dest).unwrap();
    }
    git(dir, &["init", "-q"]);
    git(dir, &["add", "-A"]);
    git(dir, &["commit", "-q", "-m", "fixture"]);
    let sha = String::from_utf8(git(dir, &["rev-parse", "HEAD"])).unwrap().trim().to_string();
    let prefix = format!("--prefix=me-tiny-{}/", &sha[..7]);
    let tarball = git(dir, &["archive", "--format=tar.gz", &prefix, &sha]);
    (sha, tarball)
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

fn github(path: &str, spec: &GithubSpec) -> Source {
    Source { path: path.into(), rev: None, github: Some(spec.clone()) }
}

#[test]
fn a_github_source_is_the_local_clone_cached_by_commit() {
    let work = tempfile::tempdir().unwrap();
    let repo_dir = work.path().join("repo");
    std::fs::create_dir_all(&repo_dir).unwrap();
    let (sha, tarball) = repository(&repo_dir);
    let server = FakeGithub::start(vec![Repo {
        full_name: "me/tiny".into(),
        refs: vec![("main".into(), sha.clone()), ("v1.0".into(), sha.clone()), (sha.clone(), sha.clone())],
        tarball,
    }]);
    let mut spec = GithubSpec::new(work.path().join("cache"));
    spec.api = server.url();
    spec.token = Some("secret-token".into());

    let local = Source::local(&repo_dir, Some(sha.clone())).snapshot().unwrap();
    let remote = github("github:me/tiny@main", &spec).snapshot().unwrap();
    assert_eq!(remote.snapshot_id, local.snapshot_id, "the same commit, the same snapshot");
    assert_eq!(serde_json::to_string(&remote).unwrap(), serde_json::to_string(&local).unwrap());
    // The commit, the tarball's redirect and the download.
    assert_eq!(server.requests(), 3);
    assert!(server.seen.authorizations.lock().unwrap().iter().all(|a| a == "Bearer secret-token"));

    // By SHA, from the cache: no request at all.
    let again = github(&format!("github:me/tiny@{sha}"), &spec).snapshot().unwrap();
    assert_eq!(again.snapshot_id, local.snapshot_id);
    assert_eq!(server.requests(), 3);
    // A tag resolves (one request) to a commit already cached.
    github("github:me/tiny@v1.0", &spec).snapshot().unwrap();
    assert_eq!(server.requests(), 4);
}

#[test]
fn errors_name_the_repository_and_the_status() {
    let work = tempfile::tempdir().unwrap();
    let server = FakeGithub::start(vec![Repo { full_name: "me/tiny".into(), refs: vec![], tarball: vec![] }]);
    let mut spec = GithubSpec::new(work.path().join("cache"));
    spec.api = server.url();
    let err = |source: &str| github(source, &spec).snapshot().unwrap_err().to_string();

    let e = err("github:me/missing@main");
    assert!(e.starts_with("github:me/missing: HTTP 404") && e.contains("Not Found"), "{e}");
    let e = err("github:me/tiny@nope");
    assert!(e.starts_with("github:me/tiny: HTTP 422") && e.contains("\"nope\""), "{e}");
    let e = err("github:rate/limited@main");
    assert!(e.contains("HTTP 403 rate limited until 1764590400") && e.contains("GITHUB_TOKEN"), "{e}");
    assert!(!e.contains('\n'), "one line: {e}");

    // A non-local API needs the egress acknowledged; nothing is sent before.
    let mut remote = GithubSpec::new(work.path().join("cache"));
    remote.api = "https://api.github.com".into();
    let e = github("github:me/tiny@main", &remote).snapshot().unwrap_err().to_string();
    assert!(e.contains("egress to github"), "{e}");
    // Without a spec at all, github sources are refused.
    let e = Source::local("github:me/tiny@main", None).snapshot().unwrap_err().to_string();
    assert!(e.contains("not enabled"), "{e}");
}
