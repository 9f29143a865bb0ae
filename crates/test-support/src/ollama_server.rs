//! A local test server that speaks Ollama's documented HTTP API faithfully
//! enough to test a client against: NDJSON streams from `/api/chat`, metric
//! fields omitted when zero (Go's `omitempty`), `done_reason` values `stop`,
//! `length` and `load`, `{"error": ...}` bodies with their status codes, an
//! error line in the middle of a stream, and `/api/show`, `/api/ps`,
//! `/api/tags`, `/api/version`, `/api/generate` (unload).
//!
//! Model names choose the behaviour: `missing` is not installed (404); `cut`
//! closes the stream before its done line; `midstream-error` sends an error
//! line; `length` stops on the output budget; `load` answers a load-only
//! request; `partial` is only partly in VRAM; `slow` takes 150 ms per answer.

// Its own request reader (on tokio, unlike `http`'s std one): streams are
// written line by line with delays and cut mid-way on purpose, which neither
// `http`'s one-response model nor a conforming server library allows.
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

/// What the server has seen, for assertions.
#[derive(Debug, Default)]
pub struct State {
    /// Chat requests received.
    pub chat_requests: AtomicUsize,
    /// Chat requests being answered now.
    pub in_flight: AtomicUsize,
    /// The most ever answered at once.
    pub max_in_flight: AtomicUsize,
    /// Unload requests received.
    pub unloads: AtomicUsize,
    /// The `options` of every chat request.
    pub options: Mutex<Vec<Value>>,
}

/// A running server on a loopback port, until the test's runtime ends.
#[derive(Debug)]
pub struct FakeOllama {
    /// Where it listens.
    pub addr: SocketAddr,
    /// What it has seen.
    pub state: Arc<State>,
}

impl FakeOllama {
    /// `http://ADDR`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Starts the server on a free loopback port, on its own thread and runtime.
    pub fn start() -> Self {
        let state = Arc::new(State::default());
        let (tx, rx) = std::sync::mpsc::channel();
        let st = state.clone();
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
            rt.block_on(async move {
                let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
                tx.send(listener.local_addr().unwrap()).unwrap();
                loop {
                    let Ok((sock, _)) = listener.accept().await else { continue };
                    let st = st.clone();
                    tokio::spawn(async move {
                        let _ = serve(sock, st).await;
                    });
                }
            });
        });
        let addr = rx.recv().unwrap();
        FakeOllama { addr, state }
    }
}

async fn serve(sock: TcpStream, st: Arc<State>) -> std::io::Result<()> {
    let mut reader = BufReader::new(sock);
    let mut line = String::new();
    reader.read_line(&mut line).await?;
    let mut parts = line.split_whitespace();
    let (method, path) = (parts.next().unwrap_or("").to_string(), parts.next().unwrap_or("").to_string());
    let mut length = 0usize;
    loop {
        let mut h = String::new();
        reader.read_line(&mut h).await?;
        if h == "\r\n" || h.is_empty() {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            if k.eq_ignore_ascii_case("content-length") {
                length = v.trim().parse().unwrap_or(0);
            }
        }
    }
    let mut body = vec![0u8; length];
    reader.read_exact(&mut body).await?;
    let req: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let mut sock = reader.into_inner();
    let model = req["model"].as_str().unwrap_or("").to_string();
    match (method.as_str(), path.as_str()) {
        ("GET", "/api/version") => respond(&mut sock, 200, &json!({"version": "0.12.6"})).await,
        ("GET", "/api/tags") => {
            let models: Vec<Value> = ["qwen-test", "slow", "length", "cut", "midstream-error", "partial", "load"]
                .iter()
                .map(|m| json!({
                    "name": format!("{m}:latest"), "model": format!("{m}:latest"),
                    "modified_at": "2026-11-01T10:00:00.000000000Z", "size": 24_000_000_000u64,
                    "digest": format!("sha256:{:0>64}", m.len()),
                    "details": {"parent_model": "", "format": "gguf", "family": "qwen35moe", "families": ["qwen35moe"], "parameter_size": "35B", "quantization_level": "Q4_K_M"}
                }))
                .collect();
            respond(&mut sock, 200, &json!({"models": models})).await
        }
        ("POST", "/api/show") if model == "missing" => respond(&mut sock, 404, &json!({"error": "model 'missing' not found"})).await,
        ("POST", "/api/show") => {
            respond(&mut sock, 200, &json!({
                "license": "", "modelfile": "# Modelfile", "parameters": "temperature 0", "template": "{{ .Prompt }}",
                "details": {"parent_model": "", "format": "gguf", "family": "qwen35moe", "families": ["qwen35moe"], "parameter_size": "35B", "quantization_level": "Q4_K_M"},
                "model_info": {
                    "general.architecture": "qwen35moe", "general.parameter_count": 35_000_000_000u64,
                    "qwen35moe.block_count": 40, "qwen35moe.attention.head_count": 16, "qwen35moe.attention.head_count_kv": 2,
                    "qwen35moe.attention.key_length": 256, "qwen35moe.attention.value_length": 256,
                    "qwen35moe.full_attention_interval": 4, "qwen35moe.embedding_length": 2048,
                    "qwen35moe.context_length": 262144, "qwen35moe.vocab_size": 151936,
                    "tokenizer.ggml.tokens": null
                },
                "capabilities": ["completion"], "modified_at": "2026-11-01T10:00:00.000000000Z"
            })).await
        }
        ("GET", "/api/ps") => {
            let vram = if std::env::var("FAKE_OLLAMA_PARTIAL").is_ok() { 12_000_000_000u64 } else { 26_000_000_000 };
            let models: Vec<Value> = ["qwen-test", "slow", "length", "partial"]
                .iter()
                .map(|m| json!({
                    "name": format!("{m}:latest"), "model": format!("{m}:latest"), "size": 26_000_000_000u64,
                    "size_vram": if *m == "partial" { 12_000_000_000u64 } else { vram },
                    "digest": "sha256:00", "details": {}, "expires_at": "2026-11-30T13:00:00Z"
                }))
                .collect();
            respond(&mut sock, 200, &json!({"models": models})).await
        }
        ("POST", "/api/generate") if req["keep_alive"] == json!(0) => {
            st.unloads.fetch_add(1, Ordering::SeqCst);
            respond(&mut sock, 200, &json!({"model": model, "created_at": "2026-11-30T12:00:00Z", "response": "", "done": true, "done_reason": "unload"})).await
        }
        ("POST", "/api/chat") => chat(&mut sock, &req, &model, &st).await,
        _ => respond(&mut sock, 404, &json!({"error": "404 page not found"})).await,
    }
}

async fn respond(sock: &mut TcpStream, status: u16, body: &Value) -> std::io::Result<()> {
    let text = body.to_string();
    let head = format!("HTTP/1.1 {status} X\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n", text.len());
    sock.write_all(head.as_bytes()).await?;
    sock.write_all(text.as_bytes()).await?;
    sock.shutdown().await
}

async fn chat(sock: &mut TcpStream, req: &Value, model: &str, st: &State) -> std::io::Result<()> {
    if model == "missing" {
        return respond(sock, 404, &json!({"error": "model \"missing\" not found, try pulling it first"})).await;
    }
    st.chat_requests.fetch_add(1, Ordering::SeqCst);
    st.options.lock().unwrap().push(req["options"].clone());
    let now = st.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
    st.max_in_flight.fetch_max(now, Ordering::SeqCst);
    // Decrements however the request ends, a client that vanished included,
    // and before the last line goes out: the client may send its next request
    // as soon as it reads that line.
    let mut in_flight = Some(InFlight(&st.in_flight));
    // A chunked NDJSON stream, as Ollama sends it; one request per connection.
    sock.write_all(b"HTTP/1.1 200 OK\r\nContent-Type: application/x-ndjson\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n")
        .await?;
    let user = req["messages"][1]["content"].as_str().unwrap_or("");
    // A deterministic answer: the grader-facing JSON of a "no bug" verdict,
    // tagged with a digest of the prompt so answers differ per task.
    let tag = user.bytes().fold(0u32, |h, b| h.wrapping_mul(31).wrapping_add(u32::from(b)));
    let answer = format!("{{\"line\": null, \"kind\": null, \"tag\": {tag}}}");
    let pieces: Vec<String> = answer.chars().collect::<Vec<_>>().chunks(4).map(|c| c.iter().collect()).collect();
    let mut result = Ok(());
    for (i, p) in pieces.iter().enumerate() {
        if model == "slow" {
            tokio::time::sleep(Duration::from_millis(150 / pieces.len() as u64 + 1)).await;
        }
        if model == "cut" && i == 2 {
            // Close without the terminating chunk: the body ends early.
            return sock.shutdown().await;
        }
        if model == "midstream-error" && i == 2 {
            in_flight.take();
            result = chunk(sock, &json!({"error": "an error was encountered while running the model: unexpected EOF"}))
                .await;
            break;
        }
        let line = json!({"model": model, "created_at": "2026-11-30T12:00:00Z", "message": {"role": "assistant", "content": p}, "done": false});
        chunk(sock, &line).await?;
    }
    if model != "midstream-error" {
        let mut done = json!({
            "model": model, "created_at": "2026-11-30T12:00:00Z",
            "message": {"role": "assistant", "content": ""},
            "done": true,
            "done_reason": match model { "length" => "length", "load" => "load", _ => "stop" },
            "total_duration": 812_000_000u64,
            "eval_count": pieces.len(),
            "eval_duration": 400_000_000u64
        });
        // Ollama omits zero values: a warm model has no load_duration, and a
        // cached prompt no prompt_eval_duration.
        if model != "qwen-test" {
            done["load_duration"] = json!(2_000_000u64);
            done["prompt_eval_count"] = json!(user.len() / 4);
            done["prompt_eval_duration"] = json!(90_000_000u64);
        }
        in_flight.take();
        result = chunk(sock, &done).await;
    }
    result?;
    sock.write_all(b"0\r\n\r\n").await?;
    sock.shutdown().await
}

struct InFlight<'a>(&'a AtomicUsize);

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

async fn chunk(sock: &mut TcpStream, v: &Value) -> std::io::Result<()> {
    let line = format!("{v}\n");
    sock.write_all(format!("{:x}\r\n{line}\r\n", line.len()).as_bytes()).await?;
    sock.flush().await
}
