//! `github:OWNER/REPO@REF` sources: the ref resolves to a commit SHA through
//! the REST API, the tree at that SHA comes as a tarball, cached by SHA, and
//! is read like any archive, so the snapshot is the one a local checkout of
//! that commit gives. A full SHA already in the cache needs no network.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::error::BoxError;
use crate::EvalError;

/// Where and how `github:` sources are fetched.
#[derive(Debug, Clone)]
pub struct GithubSpec {
    /// The API root (`https://api.github.com`, or GitHub Enterprise's).
    pub api: String,
    /// A token for private repositories and a higher rate limit.
    pub token: Option<String>,
    /// Where tarballs are kept, by SHA.
    pub cache_dir: PathBuf,
    /// Whether a non-local API may be reached (egress acknowledged).
    pub allow_egress: bool,
}

impl GithubSpec {
    /// GitHub's public API, a token from `GITHUB_TOKEN` or `GH_TOKEN`, and
    /// `cache_dir`; egress not yet acknowledged.
    pub fn new(cache_dir: PathBuf) -> Self {
        let token = ["GITHUB_TOKEN", "GH_TOKEN"].iter().find_map(|k| std::env::var(k).ok()).filter(|t| !t.is_empty());
        Self { api: "https://api.github.com".into(), token, cache_dir, allow_egress: false }
    }
}

/// A parsed `github:OWNER/REPO@REF` (REF defaults to `HEAD`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GithubRef {
    /// The owner.
    pub owner: String,
    /// The repository.
    pub repo: String,
    /// A branch, tag or commit SHA.
    pub reference: String,
}

impl GithubRef {
    /// `None` when `source` is not a `github:` source.
    pub fn parse(source: &str) -> Option<Self> {
        let rest = source.strip_prefix("github:")?;
        let (path, reference) = rest.split_once('@').unwrap_or((rest, "HEAD"));
        let (owner, repo) = path.split_once('/')?;
        let ok = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c));
        (ok(owner) && ok(repo) && !reference.is_empty() && !reference.contains(char::is_whitespace)).then(|| Self {
            owner: owner.into(),
            repo: repo.into(),
            reference: reference.into(),
        })
    }

    fn name(&self) -> String {
        format!("github:{}/{}", self.owner, self.repo)
    }
}

/// A fetched source: the tarball on disk and what it cost.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fetched {
    /// The cached tarball.
    pub tarball: PathBuf,
    /// The commit it holds.
    pub sha: String,
    /// Requests sent (0 when the cache answered).
    pub requests: u32,
}

/// Resolves and downloads `r` into the cache (or finds it there).
pub fn fetch(r: &GithubRef, spec: &GithubSpec) -> Result<Fetched, EvalError> {
    let fail = |what: String| EvalError::Github { repo: r.name(), what, source: None };
    let cause = |what: &str, e: BoxError| EvalError::Github { repo: r.name(), what: what.into(), source: Some(e) };
    let cached = |sha: &str| spec.cache_dir.join("github").join(&r.owner).join(&r.repo).join(format!("{sha}.tar.gz"));
    let is_sha = r.reference.len() == 40 && r.reference.chars().all(|c| c.is_ascii_hexdigit());
    if is_sha && cached(&r.reference).is_file() {
        return Ok(Fetched { tarball: cached(&r.reference), sha: r.reference.to_lowercase(), requests: 0 });
    }
    let scope = ollama_runner::endpoint_scope(&spec.api).map_err(|e| cause("the API URL", e.into()))?;
    if scope == bench_core::EndpointScope::Remote && !spec.allow_egress {
        return Err(fail(format!(
            "{} is not local; fetching from it must be acknowledged as egress to github",
            spec.api
        )));
    }
    // Its own thread and runtime: callers may be inside a runtime already.
    std::thread::scope(|s| s.spawn(|| download(r, spec, &cached)).join())
        .unwrap_or_else(|_| Err(fail("the download thread failed".into())))
}

fn download(r: &GithubRef, spec: &GithubSpec, cached: &dyn Fn(&str) -> PathBuf) -> Result<Fetched, EvalError> {
    let fail = |what: String| EvalError::Github { repo: r.name(), what, source: None };
    let cause = |what: &str, e: BoxError| EvalError::Github { repo: r.name(), what: what.into(), source: Some(e) };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| cause("cannot start a runtime", e.into()))?;
    rt.block_on(async {
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(30))
            .timeout(Duration::from_secs(600))
            .user_agent(concat!("bench-cli/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| cause("cannot build an HTTP client", e.into()))?;
        let get = |url: String| {
            let mut req = http
                .get(url)
                .header("accept", "application/vnd.github+json")
                .header("x-github-api-version", "2022-11-28");
            if let Some(t) = &spec.token {
                req = req.bearer_auth(t);
            }
            req.send()
        };
        let base = format!("{}/repos/{}/{}", spec.api.trim_end_matches('/'), r.owner, r.repo);
        let resp = get(format!("{base}/commits/{}", r.reference)).await.map_err(|e| cause("commit", e.into()))?;
        let resp = checked(resp, r).await?;
        let v: serde_json::Value = resp.json().await.map_err(|e| cause("commit", e.into()))?;
        let sha = v["sha"].as_str().filter(|s| s.len() == 40).ok_or_else(|| fail("the commit has no sha".into()))?;
        let path = cached(sha);
        if path.is_file() {
            return Ok(Fetched { tarball: path, sha: sha.into(), requests: 1 });
        }
        let resp =
            checked(get(format!("{base}/tarball/{sha}")).await.map_err(|e| cause("tarball", e.into()))?, r).await?;
        let bytes = resp.bytes().await.map_err(|e| cause("tarball", e.into()))?;
        write_atomically(&path, &bytes).map_err(|e| cause(&path.display().to_string(), e.into()))?;
        Ok(Fetched { tarball: path, sha: sha.into(), requests: 2 })
    })
}

/// The response, or a one-line error naming the repository and the status
/// (and the reset time when the rate limit is spent).
async fn checked(resp: reqwest::Response, r: &GithubRef) -> Result<reqwest::Response, EvalError> {
    let status = resp.status();
    if status.is_success() {
        return Ok(resp);
    }
    let header = |k: &str| resp.headers().get(k).and_then(|v| v.to_str().ok()).map(str::to_string);
    let limited = header("x-ratelimit-remaining").as_deref() == Some("0");
    let reset = header("x-ratelimit-reset");
    let message = resp.json::<serde_json::Value>().await.ok().and_then(|v| v["message"].as_str().map(str::to_string));
    let mut reason = format!("HTTP {}", status.as_u16());
    if limited {
        reason.push_str(" rate limited");
        if let Some(reset) = reset {
            reason.push_str(&format!(" until {reset} (epoch seconds); a token (GITHUB_TOKEN) raises the limit"));
        }
    }
    if let Some(m) = message {
        reason.push_str(&format!(": {m}"));
    }
    if !limited && status.as_u16() == 422 {
        reason.push_str(&format!(" (ref {:?})", r.reference));
    }
    Err(EvalError::Github { repo: r.name(), what: reason, source: None })
}

fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    let tmp = path.with_extension("partial");
    std::fs::write(&tmp, bytes)?;
    std::fs::rename(tmp, path)
}
