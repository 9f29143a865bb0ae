//! A local test server for the two GitHub REST endpoints a `github:` source
//! uses, written from GitHub's documentation: `GET
//! /repos/{owner}/{repo}/commits/{ref}` (JSON with the commit's `sha`; 404
//! `{"message": "Not Found"}` for an unknown repository, 422 for an unknown
//! ref) and `GET /repos/{owner}/{repo}/tarball/{ref}` (a 302 to a download
//! host path that serves the gzip tarball). The repository `rate/limited`
//! answers 403 with `x-ratelimit-remaining: 0` and `x-ratelimit-reset`, as
//! GitHub does when the hourly quota is spent.

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use crate::http::{read, respond};

/// One repository the server knows.
#[derive(Debug, Clone)]
pub struct Repo {
    /// `owner/name`.
    pub full_name: String,
    /// Refs (branch, tag or the SHA itself) to the commit SHA.
    pub refs: Vec<(String, String)>,
    /// The SHA's gzip tarball, as `git archive` makes it.
    pub tarball: Vec<u8>,
}

/// What the server has seen.
#[derive(Debug, Default)]
pub struct Seen {
    /// Requests of any kind.
    pub requests: AtomicUsize,
    /// `Authorization` headers received, in order.
    pub authorizations: Mutex<Vec<String>>,
}

/// A running server on a loopback port (a thread per connection).
#[derive(Debug)]
pub struct FakeGithub {
    /// Where it listens.
    pub addr: SocketAddr,
    /// What it has seen.
    pub seen: Arc<Seen>,
}

impl FakeGithub {
    /// Serves `repos` on a free loopback port.
    pub fn start(repos: Vec<Repo>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let seen = Arc::new(Seen::default());
        let (repos, s) = (Arc::new(repos), seen.clone());
        std::thread::spawn(move || {
            for sock in listener.incoming().flatten() {
                let (repos, s) = (repos.clone(), s.clone());
                std::thread::spawn(move || {
                    let _ = serve(sock, &repos, &s);
                });
            }
        });
        FakeGithub { addr, seen }
    }

    /// The API root, `http://ADDR`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Requests served so far.
    pub fn requests(&self) -> usize {
        self.seen.requests.load(Ordering::SeqCst)
    }
}

fn serve(sock: TcpStream, repos: &[Repo], seen: &Seen) -> std::io::Result<()> {
    let req = read(&sock)?;
    if let Some(auth) = req.headers.get("authorization") {
        seen.authorizations.lock().unwrap().push(auth.clone());
    }
    seen.requests.fetch_add(1, Ordering::SeqCst);
    let parts: Vec<&str> = req.path.trim_start_matches('/').split('/').collect();
    let json = |status: u16, body: &str, extra: &str| {
        (status, extra.to_string(), "application/json", body.as_bytes().to_vec())
    };
    let (status, headers, ct, body) = match parts.as_slice() {
        ["repos", "rate", "limited", ..] => json(
            403,
            r#"{"message": "API rate limit exceeded for 127.0.0.1."}"#,
            "x-ratelimit-limit: 60\r\nx-ratelimit-remaining: 0\r\nx-ratelimit-reset: 1764590400\r\n",
        ),
        ["repos", owner, name, kind, reference] => {
            let full = format!("{owner}/{name}");
            match repos.iter().find(|r| r.full_name == full) {
                None => json(404, r#"{"message": "Not Found"}"#, ""),
                Some(repo) => match repo.refs.iter().find(|(r, _)| r == reference).map(|(_, sha)| sha) {
                    None => json(422, r#"{"message": "No commit found for SHA"}"#, ""),
                    Some(sha) if *kind == "commits" => json(200, &format!(r#"{{"sha": "{sha}"}}"#), ""),
                    Some(sha) => {
                        (302, format!("location: /codeload/{full}/legacy.tar.gz/{sha}\r\n"), "text/plain", Vec::new())
                    }
                },
            }
        }
        ["codeload", owner, name, "legacy.tar.gz", _] => {
            let full = format!("{owner}/{name}");
            match repos.iter().find(|r| r.full_name == full) {
                Some(r) => (200, String::new(), "application/x-gzip", r.tarball.clone()),
                None => json(404, r#"{"message": "Not Found"}"#, ""),
            }
        }
        _ => json(404, r#"{"message": "Not Found"}"#, ""),
    };
    respond(&sock, status, &headers, ct, &body)
}
