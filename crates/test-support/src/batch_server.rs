//! A local test server for the two batch APIs a remote baseline uses,
//! written from the providers' documentation.
//!
//! OpenAI: `POST /v1/files` (multipart, `purpose=batch`), `POST /v1/batches`
//! (with `metadata`), `GET /v1/batches/{id}` (`validating`, `in_progress`,
//! `finalizing`, then `completed` or `expired`), `GET /v1/batches` (cursor
//! pagination: `limit`, `after`, `has_more`, `last_id`) and `GET
//! /v1/files/{id}/content` (output and error JSONL). Bearer auth.
//!
//! Anthropic: `POST /v1/messages/batches`, `GET /v1/messages/batches/{id}`
//! (`processing_status` `in_progress` then `ended`, `request_counts`,
//! `results_url`), `GET /v1/messages/batches` (`limit`, `after_id`,
//! `has_more`, `last_id`, newest first) and the results JSONL. `x-api-key` and
//! `anthropic-version` headers.
//!
//! Both: 401 without the key; the first `rate_limited` requests answer 429
//! with `retry-after: 0`; a batch stays in progress for `polls` status
//! requests; tasks in `fail` error, tasks in `expire` expire; `drop_create`
//! closes the connection after creating a batch, as a cut network would.

use std::collections::BTreeMap;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::{Arc, Mutex};

use serde_json::{json, Value};

use crate::http::{read, respond, Req};

/// How the server behaves.
#[derive(Debug, Clone, Default)]
pub struct Behaviour {
    /// Status requests a batch answers "in progress" before it ends.
    pub polls: usize,
    /// Requests (custom ids) that end in an error.
    pub fail: Vec<String>,
    /// Requests that expire unrun.
    pub expire: Vec<String>,
    /// Requests answered 429 before the server serves normally.
    pub rate_limited: usize,
    /// Create a batch, then cut the connection instead of answering (once).
    pub drop_create: bool,
    /// Unrelated batches already in the account, for pagination.
    pub others: usize,
}

/// What the server has seen and holds.
#[derive(Debug, Default)]
pub struct State {
    /// Requests of any kind.
    pub requests: usize,
    /// Files uploaded.
    pub uploads: usize,
    /// Batches created by the client.
    pub creates: usize,
    /// Status requests.
    pub polls: usize,
    /// List requests (pages).
    pub list_pages: usize,
    /// Every custom id submitted, each time it was submitted.
    pub submitted: Vec<String>,
    /// The model names requests asked for.
    pub models: Vec<String>,
    batches: Vec<Batch>,
    files: BTreeMap<String, Vec<u8>>,
    behaviour: Behaviour,
}

#[derive(Debug, Clone)]
struct Batch {
    id: String,
    openai: bool,
    created: u64,
    requests: Vec<(String, String, Value)>, // custom id, model, body or params
    metadata: Value,
    polls_left: usize,
    input_file: Option<String>,
}

/// A running server on a loopback port.
#[derive(Debug)]
pub struct FakeBatchApi {
    /// Where it listens.
    pub addr: SocketAddr,
    /// What it has seen.
    pub state: Arc<Mutex<State>>,
}

/// The key both APIs accept.
pub const KEY: &str = "test-key-not-secret";

impl FakeBatchApi {
    /// Serves both APIs on a free loopback port.
    pub fn start(behaviour: Behaviour) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let mut st = State { behaviour: behaviour.clone(), ..State::default() };
        for i in 0..behaviour.others {
            for openai in [true, false] {
                st.batches.push(Batch {
                    id: format!("{}_other{i:03}", if openai { "batch" } else { "msgbatch" }),
                    openai,
                    created: now() + 1000 + i as u64, // made by others after ours: a lookup must page
                    requests: vec![(format!("x{i}"), "m".into(), json!({}))],
                    metadata: json!({"team": "someone else"}),
                    polls_left: 0,
                    input_file: None,
                });
            }
        }
        let state = Arc::new(Mutex::new(st));
        let s = state.clone();
        std::thread::spawn(move || {
            for sock in listener.incoming().flatten() {
                let s = s.clone();
                std::thread::spawn(move || {
                    let _ = serve(sock, addr, &s);
                });
            }
        });
        FakeBatchApi { addr, state }
    }

    /// The API root, `http://ADDR`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Reads the state.
    pub fn seen<T>(&self, f: impl FnOnce(&State) -> T) -> T {
        f(&self.state.lock().unwrap())
    }
}

fn serve(sock: TcpStream, addr: SocketAddr, st: &Mutex<State>) -> std::io::Result<()> {
    let req = read(&sock)?;
    let json = |status: u16, v: Value| (status, String::new(), "application/json", v.to_string().into_bytes());
    let (status, extra, ct, body) = {
        let mut st = st.lock().unwrap();
        st.requests += 1;
        let anthropic = req.path.starts_with("/v1/messages");
        let authorised = if anthropic {
            req.headers.get("x-api-key").map(String::as_str) == Some(KEY)
                && req.headers.contains_key("anthropic-version")
        } else {
            req.headers.get("authorization").map(String::as_str) == Some(&format!("Bearer {KEY}"))
        };
        if !authorised {
            json(401, error(anthropic, "authentication_error", "invalid x-api-key"))
        } else if st.behaviour.rate_limited > 0 {
            st.behaviour.rate_limited -= 1;
            let (s, _, ct, b) = json(429, error(anthropic, "rate_limit_error", "Rate limit reached"));
            (s, "retry-after: 0\r\n".into(), ct, b)
        } else {
            match route(&mut st, &req, addr) {
                Route::Json(status, v) => json(status, v),
                Route::Text(b) => (200, String::new(), "application/binary", b),
                Route::Drop => return Ok(()),
            }
        }
    };
    respond(&sock, status, &extra, ct, &body)
}

enum Route {
    Json(u16, Value),
    Text(Vec<u8>),
    Drop,
}

fn error(anthropic: bool, kind: &str, message: &str) -> Value {
    if anthropic {
        json!({"type": "error", "error": {"type": kind, "message": message}})
    } else {
        json!({"error": {"message": message, "type": kind, "param": null, "code": null}})
    }
}

fn route(st: &mut State, req: &Req, addr: SocketAddr) -> Route {
    let segs: Vec<&str> = req.path.trim_start_matches('/').split('/').collect();
    let not_found = |anthropic| Route::Json(404, error(anthropic, "not_found_error", "No such object"));
    match (req.method.as_str(), segs.as_slice()) {
        ("POST", ["v1", "files"]) => {
            let Some(file) = multipart_file(req) else {
                return Route::Json(400, error(false, "invalid_request_error", "expected purpose=batch and a file"));
            };
            st.uploads += 1;
            let id = format!("file-{:04}", st.files.len() + 1);
            let bytes = file.len();
            st.files.insert(id.clone(), file);
            Route::Json(
                200,
                json!({"id": id, "object": "file", "bytes": bytes, "created_at": 1_764_000_000, "filename": "requests.jsonl", "purpose": "batch"}),
            )
        }
        ("POST", ["v1", "batches"]) => {
            let v: Value = serde_json::from_slice(&req.body).unwrap_or(Value::Null);
            let Some(file) = v["input_file_id"].as_str().and_then(|f| st.files.get(f)).cloned() else {
                return Route::Json(400, error(false, "invalid_request_error", "input_file_id not found"));
            };
            if v["endpoint"] != "/v1/chat/completions" || v["completion_window"] != "24h" {
                return Route::Json(400, error(false, "invalid_request_error", "bad endpoint or completion_window"));
            }
            let requests = String::from_utf8_lossy(&file)
                .lines()
                .filter_map(|l| serde_json::from_str::<Value>(l).ok())
                .map(|l| {
                    (
                        l["custom_id"].as_str().unwrap_or("").to_string(),
                        l["body"]["model"].as_str().unwrap_or("").to_string(),
                        l["body"].clone(),
                    )
                })
                .collect();
            create(st, addr, true, requests, v["metadata"].clone(), v["input_file_id"].as_str().map(str::to_string))
        }
        ("POST", ["v1", "messages", "batches"]) => {
            let v: Value = serde_json::from_slice(&req.body).unwrap_or(Value::Null);
            let Some(reqs) = v["requests"].as_array() else {
                return Route::Json(400, error(true, "invalid_request_error", "requests: Field required"));
            };
            let requests = reqs
                .iter()
                .map(|r| {
                    (
                        r["custom_id"].as_str().unwrap_or("").to_string(),
                        r["params"]["model"].as_str().unwrap_or("").to_string(),
                        r["params"].clone(),
                    )
                })
                .collect();
            create(st, addr, false, requests, Value::Null, None)
        }
        ("GET", ["v1", "batches"]) | ("GET", ["v1", "messages", "batches"]) => {
            let openai = segs.len() == 2;
            st.list_pages += 1;
            let limit: usize = req.query.get("limit").and_then(|l| l.parse().ok()).unwrap_or(20).min(100);
            // Our pages are small on purpose, so that a client must follow the cursor.
            let limit = limit.min(7);
            let cursor = req.query.get(if openai { "after" } else { "after_id" });
            let mut all: Vec<&Batch> = st.batches.iter().filter(|b| b.openai == openai).collect();
            all.sort_by(|a, b| b.created.cmp(&a.created).then(b.id.cmp(&a.id)));
            let start = cursor.and_then(|c| all.iter().position(|b| &b.id == c).map(|p| p + 1)).unwrap_or(0);
            let page: Vec<Value> =
                all[start.min(all.len())..].iter().take(limit).map(|b| view(b, addr, &st.behaviour)).collect();
            let has_more = start + page.len() < all.len();
            let (first, last) = (page.first().map(|b| b["id"].clone()), page.last().map(|b| b["id"].clone()));
            let mut v = json!({"data": page, "has_more": has_more, "first_id": first, "last_id": last});
            if openai {
                v["object"] = json!("list");
            }
            Route::Json(200, v)
        }
        ("GET", ["v1", "batches", id]) | ("GET", ["v1", "messages", "batches", id]) => {
            let openai = segs.len() == 3;
            st.polls += 1;
            let be = st.behaviour.clone();
            match st.batches.iter_mut().find(|b| b.id == *id && b.openai == openai) {
                Some(b) => {
                    b.polls_left = b.polls_left.saturating_sub(1);
                    Route::Json(200, view(b, addr, &be))
                }
                None => not_found(!openai),
            }
        }
        ("GET", ["v1", "files", id, "content"]) => match st.files.get(*id) {
            Some(b) => Route::Text(b.clone()),
            None => not_found(false),
        },
        ("GET", ["v1", "messages", "batches", id, "results"]) => {
            match st.batches.iter().find(|b| b.id == *id && !b.openai && b.polls_left == 0) {
                Some(b) => Route::Text(anthropic_results(b, &st.behaviour)),
                None => not_found(true),
            }
        }
        _ => not_found(req.path.starts_with("/v1/messages")),
    }
}

fn create(
    st: &mut State,
    addr: SocketAddr,
    openai: bool,
    requests: Vec<(String, String, Value)>,
    metadata: Value,
    input_file: Option<String>,
) -> Route {
    st.creates += 1;
    st.submitted.extend(requests.iter().map(|r| r.0.clone()));
    st.models.extend(requests.iter().map(|r| r.1.clone()));
    let n = st.batches.len();
    let b = Batch {
        id: format!("{}_{n:04}", if openai { "batch" } else { "msgbatch" }),
        openai,
        created: now(),
        requests,
        metadata,
        polls_left: st.behaviour.polls,
        input_file,
    };
    if openai {
        // The output and error files exist from the start; the view names them once the batch ends.
        let (out, err) = openai_results(&b, &st.behaviour);
        st.files.insert(format!("{}-output", b.id), out);
        st.files.insert(format!("{}-errors", b.id), err);
    }
    st.batches.push(b.clone());
    if st.behaviour.drop_create {
        st.behaviour.drop_create = false;
        return Route::Drop;
    }
    Route::Json(200, view(&b, addr, &st.behaviour))
}

fn view(b: &Batch, addr: SocketAddr, be: &Behaviour) -> Value {
    let ended = b.polls_left == 0;
    let count = |list: &[String]| b.requests.iter().filter(|r| list.contains(&r.0)).count();
    let (total, failed, expired) = (b.requests.len(), count(&be.fail), count(&be.expire));
    if b.openai {
        let status = match (ended, expired > 0) {
            (true, true) => "expired",
            (true, false) => "completed",
            (false, _) if b.polls_left > 1 => "in_progress",
            (false, _) => "finalizing",
        };
        let done = |n: usize| if ended { n } else { 0 };
        json!({
            "id": b.id, "object": "batch", "endpoint": "/v1/chat/completions", "errors": null,
            "input_file_id": b.input_file, "completion_window": "24h", "status": status,
            "output_file_id": ended.then(|| format!("{}-output", b.id)),
            "error_file_id": ended.then(|| format!("{}-errors", b.id)),
            "created_at": b.created, "in_progress_at": b.created + 1, "expires_at": b.created + 86_400,
            "completed_at": (ended && expired == 0).then_some(b.created + 60),
            "expired_at": (ended && expired > 0).then_some(b.created + 86_400),
            "request_counts": {"total": total, "completed": done(total - failed - expired), "failed": done(failed + expired)},
            "metadata": b.metadata,
        })
    } else {
        let n = |k: usize| if ended { k } else { 0 };
        json!({
            "id": b.id, "type": "message_batch",
            "processing_status": if ended { "ended" } else { "in_progress" },
            "request_counts": {"processing": if ended { 0 } else { total }, "succeeded": n(total - failed - expired),
                "errored": n(failed), "canceled": 0, "expired": n(expired)},
            "ended_at": ended.then(|| rfc3339(b.created + 60)), "created_at": rfc3339(b.created),
            "expires_at": rfc3339(b.created + 86_400), "cancel_initiated_at": null,
            "results_url": ended.then(|| format!("http://{addr}/v1/messages/batches/{}/results", b.id)),
        })
    }
}

fn now() -> u64 {
    jiff::Timestamp::now().as_second() as u64
}

fn rfc3339(secs: u64) -> String {
    jiff::Timestamp::from_second(secs as i64).map(|t| t.to_string()).unwrap_or_default()
}

/// The answer the fake model gives: a fixed text naming the request, so a
/// test can tell answers apart.
fn answer(id: &str) -> String {
    format!("answer to {id}")
}

fn openai_results(b: &Batch, be: &Behaviour) -> (Vec<u8>, Vec<u8>) {
    let (mut out, mut err) = (String::new(), String::new());
    for (i, (id, model, body)) in b.requests.iter().enumerate() {
        let prompt_tokens = body.to_string().len() / 4;
        if be.expire.contains(id) {
            err += &json!({"id": format!("batch_req_{i}"), "custom_id": id, "response": null,
                "error": {"code": "batch_expired", "message": "This request could not be executed before the completion window expired."}})
            .to_string();
            err.push('\n');
        } else if be.fail.contains(id) {
            err += &json!({"id": format!("batch_req_{i}"), "custom_id": id, "error": null,
                "response": {"status_code": 400, "request_id": format!("req_{i}"),
                    "body": {"error": {"message": "Invalid 'messages': too long.", "type": "invalid_request_error"}}}})
            .to_string();
            err.push('\n');
        } else {
            out += &json!({"id": format!("batch_req_{i}"), "custom_id": id, "error": null,
                "response": {"status_code": 200, "request_id": format!("req_{i}"), "body": {
                    "id": format!("chatcmpl-{i}"), "object": "chat.completion", "created": b.created, "model": format!("{model}-2026-01-01"),
                    "choices": [{"index": 0, "message": {"role": "assistant", "content": answer(id)}, "finish_reason": "stop"}],
                    "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": 3, "total_tokens": prompt_tokens + 3}}}})
            .to_string();
            out.push('\n');
        }
    }
    (out.into_bytes(), err.into_bytes())
}

fn anthropic_results(b: &Batch, be: &Behaviour) -> Vec<u8> {
    let mut out = String::new();
    for (i, (id, model, params)) in b.requests.iter().enumerate() {
        let result = if be.expire.contains(id) {
            json!({"type": "expired"})
        } else if be.fail.contains(id) {
            json!({"type": "errored", "error": {"type": "error", "error": {"type": "invalid_request_error", "message": "prompt is too long"}}})
        } else {
            json!({"type": "succeeded", "message": {"id": format!("msg_{i}"), "type": "message", "role": "assistant",
                "model": format!("{model}-20260101"), "content": [{"type": "text", "text": answer(id)}],
                "stop_reason": "end_turn", "stop_sequence": null,
                "usage": {"input_tokens": params.to_string().len() / 4, "output_tokens": 3}}})
        };
        out += &json!({"custom_id": id, "result": result}).to_string();
        out.push('\n');
    }
    out.into_bytes()
}

/// The `file` part of a multipart body with `purpose=batch`.
fn multipart_file(req: &Req) -> Option<Vec<u8>> {
    let ct = req.headers.get("content-type")?;
    let boundary = ct.split("boundary=").nth(1)?.trim_matches('"');
    let body = &req.body;
    let delim = format!("--{boundary}");
    let mut parts = Vec::new();
    let mut rest: &[u8] = body;
    while let Some(p) = find(rest, delim.as_bytes()) {
        rest = &rest[p + delim.len()..];
        if rest.starts_with(b"--") {
            break;
        }
        let end = find(rest, delim.as_bytes()).unwrap_or(rest.len());
        parts.push(&rest[..end]);
    }
    let mut purpose_ok = false;
    let mut file = None;
    for part in parts {
        let split = find(part, b"\r\n\r\n")?;
        let head = String::from_utf8_lossy(&part[..split]).to_ascii_lowercase();
        let content = &part[split + 4..];
        let content = content.strip_suffix(b"\r\n").unwrap_or(content);
        if head.contains("name=\"purpose\"") {
            purpose_ok = content == b"batch";
        } else if head.contains("name=\"file\"") {
            file = Some(content.to_vec());
        }
    }
    file.filter(|_| purpose_ok)
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}
