//! Remote batch baselines: OpenAI's Files + Batches API and Anthropic's
//! Message Batches, from their documented request and result formats. These
//! are the only requests this crate sends off the network, and only when the
//! caller allows a remote endpoint and acknowledges the provider by name.
//! Every request is counted (bytes sent and received) for the manifest.

use std::time::Duration;

use bench_core::{Completion, EndpointScope, FinishReason, SamplingOptions, Task};
use serde_json::{json, Value};

use crate::{BackendError, EndpointError};

/// A batch API provider.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Provider {
    /// `POST /v1/files` (purpose `batch`), `POST /v1/batches`, output and error files.
    OpenAi,
    /// `POST /v1/messages/batches` and its `results_url`.
    Anthropic,
}

impl Provider {
    /// `openai` or `anthropic`: the name an egress acknowledgement uses.
    pub fn name(self) -> &'static str {
        match self {
            Provider::OpenAi => "openai",
            Provider::Anthropic => "anthropic",
        }
    }

    /// The manifest's backend kind.
    pub fn backend_kind(self) -> &'static str {
        match self {
            Provider::OpenAi => "openai-batch",
            Provider::Anthropic => "anthropic-batch",
        }
    }

    /// The environment variable the key is read from.
    pub fn key_var(self) -> &'static str {
        match self {
            Provider::OpenAi => "OPENAI_API_KEY",
            Provider::Anthropic => "ANTHROPIC_API_KEY",
        }
    }
}

/// What the provider says about a batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchState {
    /// The batch id.
    pub id: String,
    /// The provider's status word (`in_progress`, `completed`, `ended`, ...).
    pub status: String,
    /// Whether the batch will not change any more.
    pub terminal: bool,
    /// Requests finished so far (succeeded or not).
    pub done: u64,
    /// Requests in the batch.
    pub total: u64,
    /// Where results come from: OpenAI's output and error file ids, or
    /// Anthropic's `results_url`.
    pub results: Vec<String>,
    /// Batch-level errors (OpenAI's `errors` on a failed validation).
    pub errors: Vec<String>,
}

/// Counts of what a client sent and received.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Traffic {
    /// Requests sent.
    pub requests: u64,
    /// Request body bytes.
    pub bytes_sent: u64,
    /// Response body bytes.
    pub bytes_received: u64,
}

/// A client for one provider's batch API, counting its traffic.
#[derive(Debug)]
pub struct BatchClient {
    provider: Provider,
    base: String,
    key: String,
    http: reqwest::Client,
    traffic: Traffic,
    retries: u32,
}

impl BatchClient {
    /// A client for `endpoint` (the API root, `https://api.openai.com`).
    /// A remote endpoint needs `allow_remote` and `acknowledged` (egress to
    /// this provider named by the user); `key` is sent, never stored.
    pub fn new(
        provider: Provider,
        endpoint: &str,
        key: String,
        allow_remote: bool,
        acknowledged: bool,
    ) -> Result<(Self, EndpointScope), EndpointError> {
        let scope = crate::require_local(endpoint, allow_remote)?;
        if scope == EndpointScope::Remote && !acknowledged {
            return Err(EndpointError::Unacknowledged { endpoint: endpoint.into(), provider: provider.name().into() });
        }
        if key.trim().is_empty() {
            return Err(EndpointError::MissingKey { provider: provider.name(), var: provider.key_var() });
        }
        let http = reqwest::Client::builder()
            .connect_timeout(crate::CONTROL_TIMEOUT)
            .timeout(Duration::from_secs(600))
            .build()
            .map_err(|source| EndpointError::BadEndpoint { endpoint: endpoint.into(), source: source.into() })?;
        let base = endpoint.trim_end_matches('/').to_string();
        Ok((Self { provider, base, key, http, traffic: Traffic::default(), retries: 5 }, scope))
    }

    /// The provider.
    pub fn provider(&self) -> Provider {
        self.provider
    }

    /// The API root.
    pub fn endpoint(&self) -> &str {
        &self.base
    }

    /// What this client has sent and received so far.
    pub fn traffic(&self) -> Traffic {
        self.traffic
    }

    /// The payload for `tasks`: OpenAI's JSONL input file, or Anthropic's
    /// create body. Its blake3 goes into the manifest.
    pub fn payload(&self, model: &str, options: &SamplingOptions, tasks: &[&Task]) -> Vec<u8> {
        match self.provider {
            Provider::OpenAi => {
                let mut out = Vec::new();
                for t in tasks {
                    let line = json!({
                        "custom_id": t.id, "method": "POST", "url": "/v1/chat/completions",
                        "body": {
                            "model": model,
                            "messages": [{"role": "system", "content": t.prompt.system}, {"role": "user", "content": t.prompt.user}],
                            "temperature": options.temperature, "seed": options.seed,
                            "max_completion_tokens": options.num_predict,
                        },
                    });
                    out.extend_from_slice(line.to_string().as_bytes());
                    out.push(b'\n');
                }
                out
            }
            Provider::Anthropic => {
                let requests: Vec<Value> = tasks
                    .iter()
                    .map(|t| {
                        json!({"custom_id": t.id, "params": {
                            "model": model, "max_tokens": options.num_predict, "temperature": options.temperature,
                            "system": t.prompt.system, "messages": [{"role": "user", "content": t.prompt.user}],
                        }})
                    })
                    .collect();
                json!({ "requests": requests }).to_string().into_bytes()
            }
        }
    }

    /// Uploads `payload` (OpenAI only; `None` for Anthropic) and returns the
    /// input file id.
    pub async fn upload(&mut self, payload: &[u8]) -> Result<Option<String>, BackendError> {
        if self.provider != Provider::OpenAi {
            return Ok(None);
        }
        let boundary = format!("bench-cli-{}", &blake3::hash(payload).to_hex()[..24]);
        let mut body = format!(
            "--{boundary}\r\ncontent-disposition: form-data; name=\"purpose\"\r\n\r\nbatch\r\n--{boundary}\r\ncontent-disposition: form-data; name=\"file\"; filename=\"requests.jsonl\"\r\ncontent-type: application/jsonl\r\n\r\n"
        )
        .into_bytes();
        body.extend_from_slice(payload);
        body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
        let v = self
            .call(reqwest::Method::POST, "/v1/files", Some((body, format!("multipart/form-data; boundary={boundary}"))))
            .await?;
        Ok(Some(self.field(&v, "id")?))
    }

    /// Creates the batch; `label` is stored with it (OpenAI's `metadata`) so
    /// that [`BatchClient::find`] can recognise it.
    pub async fn create(
        &mut self,
        payload: &[u8],
        input_file: Option<&str>,
        label: &str,
    ) -> Result<BatchState, BackendError> {
        let v = match self.provider {
            Provider::OpenAi => {
                let body = json!({
                    "input_file_id": input_file, "endpoint": "/v1/chat/completions",
                    "completion_window": "24h", "metadata": {"bench_run": label},
                });
                self.post_json("/v1/batches", &body).await?
            }
            Provider::Anthropic => {
                self.call(
                    reqwest::Method::POST,
                    "/v1/messages/batches",
                    Some((payload.to_vec(), "application/json".into())),
                )
                .await?
            }
        };
        self.state(&v)
    }

    /// Looks for a batch this run created whose answer was lost (a kill or a
    /// cut connection between creation and its record), paging through the
    /// provider's list: OpenAI's by its `metadata` label; Anthropic's, which
    /// has no metadata, by creation time at or after `since` (RFC 3339) and
    /// its request count.
    pub async fn find(&mut self, label: &str, since: &str, requests: u64) -> Result<Option<BatchState>, BackendError> {
        let since = since.parse::<jiff::Timestamp>().ok().map(|t| t.as_second() - 300);
        let mut after: Option<String> = None;
        for _ in 0..100 {
            let (path, cursor) = match self.provider {
                Provider::OpenAi => ("/v1/batches?limit=100", "after"),
                Provider::Anthropic => ("/v1/messages/batches?limit=100", "after_id"),
            };
            let path = match &after {
                Some(a) => format!("{path}&{cursor}={a}"),
                None => path.to_string(),
            };
            let page = self.call(reqwest::Method::GET, &path, None).await?;
            let data = page["data"].as_array().cloned().unwrap_or_default();
            for b in &data {
                let hit = match self.provider {
                    Provider::OpenAi => b["metadata"]["bench_run"].as_str() == Some(label),
                    Provider::Anthropic => {
                        let created = b["created_at"].as_str().and_then(|c| c.parse::<jiff::Timestamp>().ok());
                        let counts = &b["request_counts"];
                        let n: u64 = ["processing", "succeeded", "errored", "canceled", "expired"]
                            .iter()
                            .filter_map(|k| counts[k].as_u64())
                            .sum();
                        n == requests && matches!((created, since), (Some(c), Some(s)) if c.as_second() >= s)
                    }
                };
                if hit {
                    return self.state(b).map(Some);
                }
            }
            match (page["has_more"].as_bool(), page["last_id"].as_str()) {
                (Some(true), Some(last)) if !data.is_empty() => after = Some(last.to_string()),
                _ => return Ok(None),
            }
        }
        Ok(None)
    }

    /// The batch's current state.
    pub async fn poll(&mut self, id: &str) -> Result<BatchState, BackendError> {
        let path = match self.provider {
            Provider::OpenAi => format!("/v1/batches/{id}"),
            Provider::Anthropic => format!("/v1/messages/batches/{id}"),
        };
        let v = self.call(reqwest::Method::GET, &path, None).await?;
        self.state(&v)
    }

    /// A terminal batch's results, one completion per request found, and the
    /// provider's model id where an answer names it. Requests the batch did
    /// not run (errored, expired, cancelled) come back with their error.
    pub async fn results(&mut self, state: &BatchState) -> Result<(Vec<Completion>, Option<String>), BackendError> {
        let mut out = Vec::new();
        let mut model = None;
        for source in &state.results {
            let path = match self.provider {
                Provider::OpenAi => format!("/v1/files/{source}/content"),
                // results_url is absolute; keep its path and query on our endpoint.
                Provider::Anthropic => {
                    let u = reqwest::Url::parse(source).map_err(|e| BackendError::Protocol {
                        endpoint: self.base.clone(),
                        what: format!("results_url {source:?}"),
                        source: Some(e.into()),
                    })?;
                    u.query().map_or_else(|| u.path().to_string(), |q| format!("{}?{q}", u.path()))
                }
            };
            let text = self.call_text(&path).await?;
            for (n, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
                let v: Value = serde_json::from_str(line).map_err(|e| BackendError::Protocol {
                    endpoint: self.base.clone(),
                    what: format!("results line {}", n + 1),
                    source: Some(e.into()),
                })?;
                let (c, m) = self.completion(&v)?;
                model = model.or(m);
                out.push(c);
            }
        }
        Ok((out, model))
    }

    fn completion(&self, v: &Value) -> Result<(Completion, Option<String>), BackendError> {
        let id = v["custom_id"].as_str().ok_or_else(|| BackendError::Protocol {
            endpoint: self.base.clone(),
            what: "a result without custom_id".into(),
            source: None,
        })?;
        let failed = |why: String| {
            let mut c = Completion::answer(id, String::new());
            c.finish_reason = FinishReason::Error;
            c.error = Some(why);
            (c, None)
        };
        Ok(match self.provider {
            Provider::OpenAi => {
                let status = v["response"]["status_code"].as_u64();
                let body = &v["response"]["body"];
                if status == Some(200) {
                    let choice = &body["choices"][0];
                    let mut c = Completion::answer(id, choice["message"]["content"].as_str().unwrap_or("").into());
                    c.finish_reason = FinishReason::from_server(choice["finish_reason"].as_str());
                    c.prompt_tokens = body["usage"]["prompt_tokens"].as_u64();
                    c.prompt_tokens_from = c.prompt_tokens.map(|_| "response".into());
                    c.completion_tokens = body["usage"]["completion_tokens"].as_u64();
                    (c, body["model"].as_str().map(str::to_string))
                } else if !v["error"].is_null() {
                    failed(format!(
                        "{}: {}",
                        v["error"]["code"].as_str().unwrap_or("error"),
                        v["error"]["message"].as_str().unwrap_or("")
                    ))
                } else {
                    failed(format!("HTTP {}: {}", status.unwrap_or(0), body["error"]["message"].as_str().unwrap_or("")))
                }
            }
            Provider::Anthropic => {
                let r = &v["result"];
                match r["type"].as_str() {
                    Some("succeeded") => {
                        let m = &r["message"];
                        let text: String = m["content"]
                            .as_array()
                            .map(|blocks| blocks.iter().filter_map(|b| b["text"].as_str()).collect())
                            .unwrap_or_default();
                        let mut c = Completion::answer(id, text);
                        c.finish_reason = match m["stop_reason"].as_str() {
                            Some("end_turn") | Some("stop_sequence") => FinishReason::Stop,
                            Some("max_tokens") => FinishReason::Length,
                            other => FinishReason::from_server(other),
                        };
                        c.prompt_tokens = m["usage"]["input_tokens"].as_u64();
                        c.prompt_tokens_from = c.prompt_tokens.map(|_| "response".into());
                        c.completion_tokens = m["usage"]["output_tokens"].as_u64();
                        (c, m["model"].as_str().map(str::to_string))
                    }
                    Some("errored") => failed(format!(
                        "{}: {}",
                        r["error"]["error"]["type"].as_str().unwrap_or("error"),
                        r["error"]["error"]["message"].as_str().unwrap_or("")
                    )),
                    Some(other) => failed(format!("{other}: the batch did not run this request")),
                    None => failed("a result without a type".into()),
                }
            }
        })
    }

    fn state(&self, v: &Value) -> Result<BatchState, BackendError> {
        let id = self.field(v, "id")?;
        Ok(match self.provider {
            Provider::OpenAi => {
                let status = v["status"].as_str().unwrap_or("unknown").to_string();
                let c = &v["request_counts"];
                BatchState {
                    id,
                    terminal: matches!(status.as_str(), "completed" | "failed" | "expired" | "cancelled"),
                    status,
                    done: c["completed"].as_u64().unwrap_or(0) + c["failed"].as_u64().unwrap_or(0),
                    total: c["total"].as_u64().unwrap_or(0),
                    results: ["output_file_id", "error_file_id"]
                        .iter()
                        .filter_map(|k| v[k].as_str().map(str::to_string))
                        .collect(),
                    errors: v["errors"]["data"]
                        .as_array()
                        .map(|es| es.iter().map(|e| e["message"].as_str().unwrap_or("").to_string()).collect())
                        .unwrap_or_default(),
                }
            }
            Provider::Anthropic => {
                let status = v["processing_status"].as_str().unwrap_or("unknown").to_string();
                let c = &v["request_counts"];
                let n = |k: &str| c[k].as_u64().unwrap_or(0);
                let done = n("succeeded") + n("errored") + n("canceled") + n("expired");
                BatchState {
                    id,
                    terminal: status == "ended",
                    status,
                    done,
                    total: done + n("processing"),
                    results: v["results_url"].as_str().map(str::to_string).into_iter().collect(),
                    errors: Vec::new(),
                }
            }
        })
    }

    fn field(&self, v: &Value, k: &str) -> Result<String, BackendError> {
        v[k].as_str().map(str::to_string).ok_or_else(|| BackendError::Protocol {
            endpoint: self.base.clone(),
            what: format!("the response has no {k:?}"),
            source: None,
        })
    }

    async fn post_json(&mut self, path: &str, body: &Value) -> Result<Value, BackendError> {
        self.call(reqwest::Method::POST, path, Some((body.to_string().into_bytes(), "application/json".into()))).await
    }

    async fn call(
        &mut self,
        method: reqwest::Method,
        path: &str,
        body: Option<(Vec<u8>, String)>,
    ) -> Result<Value, BackendError> {
        let bytes = self.send(method, path, body).await?;
        serde_json::from_slice(&bytes).map_err(|e| BackendError::Protocol {
            endpoint: format!("{}{path}", self.base),
            what: "the body".into(),
            source: Some(e.into()),
        })
    }

    async fn call_text(&mut self, path: &str) -> Result<String, BackendError> {
        let bytes = self.send(reqwest::Method::GET, path, None).await?;
        String::from_utf8(bytes).map_err(|e| BackendError::Protocol {
            endpoint: format!("{}{path}", self.base),
            what: "the body".into(),
            source: Some(e.into()),
        })
    }

    /// One request with the provider's auth, retried on 429, 5xx and
    /// Anthropic's 529 after `retry-after` (capped) or a doubling wait.
    async fn send(
        &mut self,
        method: reqwest::Method,
        path: &str,
        body: Option<(Vec<u8>, String)>,
    ) -> Result<Vec<u8>, BackendError> {
        let url = format!("{}{path}", self.base);
        let mut wait = Duration::from_secs(1);
        let mut attempt = 0;
        loop {
            attempt += 1;
            let mut req = self.http.request(method.clone(), &url);
            req = match self.provider {
                Provider::OpenAi => req.bearer_auth(&self.key),
                Provider::Anthropic => req.header("x-api-key", &self.key).header("anthropic-version", "2023-06-01"),
            };
            if let Some((b, ct)) = &body {
                req = req.header("content-type", ct).body(b.clone());
                self.traffic.bytes_sent += b.len() as u64;
            }
            self.traffic.requests += 1;
            let resp = req.send().await.map_err(|source| BackendError::Request { endpoint: url.clone(), source })?;
            let status = resp.status().as_u16();
            let retry_after = resp
                .headers()
                .get("retry-after")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.parse::<u64>().ok())
                .map(|s| Duration::from_secs(s.min(60)));
            let bytes = resp.bytes().await.map_err(|source| BackendError::Request { endpoint: url.clone(), source })?;
            self.traffic.bytes_received += bytes.len() as u64;
            if (200..300).contains(&status) {
                return Ok(bytes.to_vec());
            }
            let retryable = status == 429 || status >= 500;
            if !retryable || attempt >= self.retries {
                let v: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
                let message = v["error"]["message"]
                    .as_str()
                    .map(str::to_string)
                    .unwrap_or_else(|| String::from_utf8_lossy(&bytes).chars().take(200).collect());
                return Err(BackendError::Http {
                    endpoint: url,
                    model: self.provider.name().into(),
                    status,
                    message: format!("{message} (after {attempt} attempts)"),
                });
            }
            tokio::time::sleep(retry_after.unwrap_or(wait)).await;
            wait = (wait * 2).min(Duration::from_secs(60));
        }
    }
}
