//! Paths to the real tools and targets the test suites use (the Gemma GGUF,
//! the Cerberus sdist, promptfoo, the llama.cpp server's Python), installed by
//! `scripts/setup-tools.sh` into `.tools/` and listed in `.tools/env.sh`.
//!
//! A test asks for one by its variable; when it is missing the test is skipped
//! with a note, unless `BENCH_REQUIRE_TOOLS=1` (as in CI), where it fails.

use std::path::PathBuf;

/// The value of `var` from the environment or `.tools/env.sh`, as a path that exists.
pub fn tool(var: &str) -> Option<PathBuf> {
    let value = std::env::var(var).ok().or_else(|| from_env_file(var));
    match value.map(PathBuf::from).filter(|p| p.exists()) {
        Some(p) => Some(p),
        None if required() => panic!("{var} is not set up; run scripts/setup-tools.sh (BENCH_REQUIRE_TOOLS=1)"),
        None => {
            eprintln!("skipped: {var} is not set up (run scripts/setup-tools.sh)");
            None
        }
    }
}

/// A fresh, empty PostgreSQL database on the throw-away server that
/// `scripts/test.sh` starts (`BENCH_POSTGRES_URL`), as a URL; one per call,
/// so tests running at once never share tables.
pub async fn fresh_postgres() -> Option<String> {
    use sqlx::Connection as _;
    static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let Some(base) = std::env::var("BENCH_POSTGRES_URL").ok().filter(|u| !u.is_empty()) else {
        if required() {
            panic!("BENCH_POSTGRES_URL is not set; scripts/test.sh starts PostgreSQL (BENCH_REQUIRE_TOOLS=1)");
        }
        eprintln!("skipped: BENCH_POSTGRES_URL is not set (scripts/test.sh starts PostgreSQL)");
        return None;
    };
    let name = format!(
        "t_{}_{}_{}",
        std::process::id(),
        N.fetch_add(1, std::sync::atomic::Ordering::SeqCst),
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.subsec_nanos()).unwrap_or(0)
    );
    let mut conn = sqlx::PgConnection::connect(&base).await.unwrap();
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}"))).execute(&mut conn).await.unwrap();
    let (root, _) = base.rsplit_once('/').unwrap();
    Some(format!("{root}/{name}"))
}

/// Whether missing tools fail tests instead of skipping them.
pub fn required() -> bool {
    std::env::var("BENCH_REQUIRE_TOOLS").is_ok_and(|v| v == "1")
}

/// The workspace root.
pub fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn from_env_file(var: &str) -> Option<String> {
    let text = std::fs::read_to_string(workspace_root().join(".tools/env.sh")).ok()?;
    let prefix = format!("export {var}=");
    text.lines().find_map(|l| l.strip_prefix(&prefix)).map(|v| v.trim_matches('"').to_string())
}

/// Every file under `tests/fixtures/<name>`, as sorted (relative path, text) pairs.
pub fn fixture_files(name: &str) -> Vec<(String, String)> {
    let root = workspace_root().join("tests/fixtures").join(name);
    let mut out = Vec::new();
    let mut stack = vec![root.clone()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
            let path = entry.expect("a readable fixture entry").path();
            if path.is_dir() {
                stack.push(path);
            } else if let Ok(text) = std::fs::read_to_string(&path) {
                let rel = path.strip_prefix(&root).expect("under the root").to_string_lossy().replace('\\', "/");
                out.push((rel, text));
            }
        }
    }
    out.sort();
    out
}

/// A llama.cpp server (llama-cpp-python) on a free loopback port, stopped
/// when dropped: the Gemma 3 270M model, SmolLM2 135M Instruct, or both
/// behind one endpoint (the one asked for is loaded, the other unloaded).
#[derive(Debug)]
pub struct LlamaServer {
    child: std::process::Child,
    /// Its loopback port.
    pub port: u16,
    /// Its log: llama.cpp's start-up lines, allocations included.
    pub log: PathBuf,
}

impl LlamaServer {
    /// Starts the server with Gemma 3 270M (`gemma3`) and waits until it
    /// answers; `None` (skip) when the tools are not set up.
    pub fn start() -> Option<Self> {
        Self::start_with(&[])
    }

    /// Starts the Gemma server with `extra` arguments after the usual ones (a
    /// later `--n_ctx` replaces the default 4096).
    pub fn start_with(extra: &[&str]) -> Option<Self> {
        Self::start_model("BENCH_GGUF", "gemma3", Some("gemma"), extra)
    }

    /// Starts a server for the GGUF file `BENCH_*` variable `gguf_var` names,
    /// served as `alias` with `chat_format` (the GGUF's own template when
    /// `None`).
    pub fn start_model(gguf_var: &str, alias: &str, chat_format: Option<&str>, extra: &[&str]) -> Option<Self> {
        let gguf = tool(gguf_var)?;
        let mut args: Vec<String> =
            vec!["--model".into(), gguf.display().to_string(), "--model_alias".into(), alias.into()];
        if let Some(f) = chat_format {
            args.extend(["--chat_format".into(), f.into()]);
        }
        args.extend(["--n_ctx".into(), "4096".into()]);
        args.extend(extra.iter().map(|a| a.to_string()));
        Self::spawn(args, alias)
    }

    /// Starts one server with both real models, as the main job runs them
    /// (llama-cpp-python's config file: `gemma3` and `smollm2`, each at a
    /// 4096-token context).
    pub fn start_both() -> Option<Self> {
        let (gemma, smol) = (tool("BENCH_GGUF")?, tool("BENCH_GGUF_SMOLLM2")?);
        static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let config = std::env::temp_dir().join(format!("llama-both-{}-{n}.json", std::process::id()));
        let models = serde_json::json!({"models": [
            {"model": gemma, "model_alias": "gemma3", "chat_format": "gemma", "n_ctx": 4096},
            {"model": smol, "model_alias": "smollm2", "n_ctx": 4096},
        ]});
        std::fs::write(&config, models.to_string()).ok()?;
        Self::spawn(vec!["--config_file".into(), config.display().to_string()], "smollm2")
    }

    fn spawn(args: Vec<String>, alias: &str) -> Option<Self> {
        let python = tool("BENCH_PYTHON")?;
        let port = std::net::TcpListener::bind("127.0.0.1:0").ok()?.local_addr().ok()?.port();
        let log_path = std::env::temp_dir().join(format!("llama-test-{port}.log"));
        let log = std::fs::File::create(&log_path).ok()?;
        // With a config file the server takes its address from the
        // environment (or the file), not the command line.
        let child = std::process::Command::new(python)
            .args(["-m", "llama_cpp.server"])
            .args(&args)
            .args(["--host", "127.0.0.1", "--port"])
            .arg(port.to_string())
            .env("HOST", "127.0.0.1")
            .env("PORT", port.to_string())
            .stdout(log.try_clone().ok()?)
            .stderr(log)
            .spawn()
            .expect("the llama.cpp server starts");
        let server = LlamaServer { child, port, log: log_path };
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(180);
        while std::time::Instant::now() < deadline {
            if server.get("/v1/models").is_some_and(|r| r.contains(alias)) {
                return Some(server);
            }
            std::thread::sleep(std::time::Duration::from_millis(500));
        }
        panic!("the llama.cpp server on port {port} did not answer within 180 s");
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn get(&self, path: &str) -> Option<String> {
        use std::io::{Read, Write};
        let mut s = std::net::TcpStream::connect(("127.0.0.1", self.port)).ok()?;
        write!(s, "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n").ok()?;
        let mut out = String::new();
        s.read_to_string(&mut out).ok()?;
        Some(out)
    }
}

impl Drop for LlamaServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
