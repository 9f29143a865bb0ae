use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use bench_core::{FinishReason, Timings};
use futures_util::StreamExt;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::backend::ms;
use crate::{Backend, BackendError, BoxError, EndpointError, ModelInfo, Reply, Request, Residency};

/// Ollama's native API. `ollama-rs` reads the GGUF metadata (`/api/show`
/// `model_info`); a small typed client covers what it lacks: `done_reason`,
/// metrics Ollama omits when zero, `/api/ps`, `/api/version`, digests
/// (docs/decisions/0003-ollama-client.md).
#[derive(Debug, Clone)]
pub struct OllamaBackend {
    endpoint: String,
    http: reqwest::Client,
    client: ollama_rs::Ollama,
    /// The limit on control requests.
    control: std::time::Duration,
    sent: std::sync::Arc<crate::backend::Sent>,
}

/// The last line of a `/api/chat` stream. Every metric is optional: Ollama
/// omits zero values (`omitempty`).
#[derive(Debug, Deserialize)]
struct ChatLine {
    #[serde(default)]
    message: Option<Message>,
    #[serde(default)]
    done: bool,
    done_reason: Option<String>,
    total_duration: Option<u64>,
    load_duration: Option<u64>,
    prompt_eval_count: Option<u64>,
    prompt_eval_duration: Option<u64>,
    eval_count: Option<u64>,
    eval_duration: Option<u64>,
    error: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Message {
    #[serde(default)]
    content: String,
}

#[derive(Debug, Deserialize)]
struct Ps {
    #[serde(default)]
    models: Vec<PsModel>,
}

#[derive(Debug, Deserialize)]
struct PsModel {
    name: String,
    #[serde(default)]
    model: String,
    #[serde(default)]
    size: u64,
    #[serde(default)]
    size_vram: u64,
}

#[derive(Debug, Deserialize)]
struct Tags {
    #[serde(default)]
    models: Vec<Tag>,
}

#[derive(Debug, Deserialize)]
struct Tag {
    name: String,
    #[serde(default)]
    digest: Option<String>,
    #[serde(default)]
    size: Option<u64>,
}

fn ns_to_ms(ns: Option<u64>) -> Option<f64> {
    ns.map(|n| n as f64 / 1e6)
}

impl OllamaBackend {
    /// A client for the server at `endpoint` (no request is made).
    pub fn new(endpoint: &str) -> Result<Self, EndpointError> {
        crate::endpoint_scope(endpoint)?;
        let endpoint = endpoint.trim_end_matches('/').to_string();
        let bad = |source: BoxError| EndpointError::BadEndpoint { endpoint: endpoint.clone(), source };
        let http = reqwest::Client::builder()
            .no_proxy()
            .connect_timeout(crate::CONTROL_TIMEOUT)
            .build()
            .map_err(|e| bad(e.into()))?;
        let client = ollama_rs::Ollama::try_new(endpoint.as_str()).map_err(|e| bad(e.into()))?;
        Ok(Self { endpoint, http, client, control: crate::CONTROL_TIMEOUT, sent: Default::default() })
    }

    /// Another limit for control requests (the default is [`crate::CONTROL_TIMEOUT`]).
    pub fn with_control_timeout(mut self, limit: std::time::Duration) -> Self {
        self.control = limit;
        self
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.endpoint)
    }

    async fn error_of(&self, model: &str, resp: reqwest::Response) -> BackendError {
        let status = resp.status().as_u16();
        let body = resp.text().await.unwrap_or_default();
        let message = serde_json::from_str::<Value>(&body)
            .ok()
            .and_then(|v| v.get("error").and_then(Value::as_str).map(str::to_string))
            .unwrap_or_else(|| body.chars().take(300).collect());
        if status == 404 {
            BackendError::ModelNotFound { endpoint: self.endpoint.clone(), model: model.into(), message }
        } else {
            BackendError::Http { endpoint: self.endpoint.clone(), model: model.into(), status, message }
        }
    }

    async fn get_json(&self, path: &str, model: &str) -> Result<Value, BackendError> {
        self.sent.note(None);
        let resp = self
            .http
            .get(self.url(path))
            .timeout(self.control)
            .send()
            .await
            .map_err(|e| BackendError::from_reqwest(&self.endpoint, model, e, self.control.as_secs().max(1)))?;
        if !resp.status().is_success() {
            return Err(self.error_of(model, resp).await);
        }
        resp.json().await.map_err(|e| BackendError::Protocol {
            endpoint: self.endpoint.clone(),
            what: path.into(),
            source: Some(e.into()),
        })
    }

    /// The server's version (`/api/version`).
    pub async fn version(&self) -> Result<String, BackendError> {
        let v = self.get_json("/api/version", "").await?;
        v["version"].as_str().map(str::to_string).ok_or_else(|| BackendError::Protocol {
            endpoint: self.endpoint.clone(),
            what: "/api/version: no version field".into(),
            source: None,
        })
    }
}

impl Backend for OllamaBackend {
    fn kind(&self) -> &'static str {
        "ollama"
    }

    fn sent(&self) -> (u64, u64) {
        self.sent.totals()
    }

    fn endpoint(&self) -> &str {
        &self.endpoint
    }

    async fn describe(&self, model: &str) -> Result<ModelInfo, BackendError> {
        let body = json!({"model": model});
        self.sent.note(Some(&body));
        let resp = self
            .http
            .post(self.url("/api/show"))
            .json(&body)
            .timeout(self.control)
            .send()
            .await
            .map_err(|e| BackendError::from_reqwest(&self.endpoint, model, e, self.control.as_secs().max(1)))?;
        if !resp.status().is_success() {
            return Err(self.error_of(model, resp).await);
        }
        let show: Value = resp.json().await.map_err(|e| BackendError::Protocol {
            endpoint: self.endpoint.clone(),
            what: "/api/show".into(),
            source: Some(e.into()),
        })?;
        // GGUF metadata through ollama-rs, which carries `model_info` faithfully.
        self.sent.note(Some(&body)); // ollama-rs sends the same body
        let metadata: BTreeMap<String, Value> =
            match tokio::time::timeout(self.control, self.client.show_model_info(model.to_string())).await {
                Ok(Ok(info)) => info.model_info.into_iter().collect(),
                _ => show["model_info"].as_object().map(|m| m.clone().into_iter().collect()).unwrap_or_default(),
            };
        let tags: Tags = serde_json::from_value(self.get_json("/api/tags", model).await?).map_err(|e| {
            BackendError::Protocol { endpoint: self.endpoint.clone(), what: "/api/tags".into(), source: Some(e.into()) }
        })?;
        let tag = tags.models.into_iter().find(|t| t.name == model || t.name == format!("{model}:latest"));
        Ok(ModelInfo {
            name: model.to_string(),
            digest: tag.as_ref().and_then(|t| t.digest.clone()),
            quantization: show["details"]["quantization_level"].as_str().map(str::to_string),
            parameter_size: show["details"]["parameter_size"].as_str().map(str::to_string),
            size_bytes: tag.and_then(|t| t.size),
            backend_version: self.version().await.ok(),
            metadata,
            ..Default::default()
        })
    }

    async fn complete(&self, req: &Request, timeout: Duration) -> Result<Reply, BackendError> {
        let o = &req.options;
        let mut options = json!({
            "temperature": o.temperature,
            "seed": o.seed,
            "num_ctx": o.num_ctx,
            "num_predict": o.num_predict,
        });
        if let Some(k) = o.top_k {
            options["top_k"] = json!(k);
        }
        if let Some(p) = o.top_p {
            options["top_p"] = json!(p);
        }
        let body = json!({
            "model": req.model,
            "messages": [{"role": "system", "content": req.system}, {"role": "user", "content": req.user}],
            "stream": true,
            "options": options,
        });
        let secs = timeout.as_secs();
        let start = Instant::now();
        self.sent.note(Some(&body));
        let work = async {
            let resp = self
                .http
                .post(self.url("/api/chat"))
                .json(&body)
                .send()
                .await
                .map_err(|e| BackendError::from_reqwest(&self.endpoint, &req.model, e, secs))?;
            if !resp.status().is_success() {
                return Err(self.error_of(&req.model, resp).await);
            }
            let mut stream = resp.bytes_stream();
            let mut buf = Vec::new();
            let mut text = String::new();
            let mut ttft = None;
            while let Some(piece) = stream.next().await {
                let piece = piece.map_err(|e| BackendError::from_reqwest(&self.endpoint, &req.model, e, secs))?;
                buf.extend_from_slice(&piece);
                while let Some(nl) = buf.iter().position(|b| *b == b'\n') {
                    let line: Vec<u8> = buf.drain(..=nl).collect();
                    if line.iter().all(u8::is_ascii_whitespace) {
                        continue;
                    }
                    let l: ChatLine = serde_json::from_slice(&line).map_err(|e| BackendError::Protocol {
                        endpoint: self.endpoint.clone(),
                        what: "/api/chat: bad NDJSON line".into(),
                        source: Some(e.into()),
                    })?;
                    if let Some(message) = l.error {
                        return Err(BackendError::ServerError {
                            endpoint: self.endpoint.clone(),
                            model: req.model.clone(),
                            message,
                        });
                    }
                    if let Some(m) = &l.message {
                        if !m.content.is_empty() {
                            ttft.get_or_insert_with(|| ms(start.elapsed()));
                            text.push_str(&m.content);
                        }
                    }
                    if l.done {
                        return Ok(Reply {
                            text,
                            prompt_tokens: l.prompt_eval_count,
                            prompt_tokens_from: l.prompt_eval_count.map(|_| "response".into()),
                            completion_tokens: l.eval_count,
                            finish_reason: FinishReason::from_server(l.done_reason.as_deref().or(Some("stop"))),
                            timings: Timings {
                                wall_ms: 0.0,
                                ttft_ms: ttft,
                                total_ms: ns_to_ms(l.total_duration),
                                load_ms: ns_to_ms(l.load_duration),
                                prompt_eval_ms: ns_to_ms(l.prompt_eval_duration),
                                eval_ms: ns_to_ms(l.eval_duration),
                            },
                        });
                    }
                }
            }
            Err(BackendError::StreamCut {
                endpoint: self.endpoint.clone(),
                model: req.model.clone(),
                source: "the stream closed before a done line".into(),
            })
        };
        let mut reply = tokio::time::timeout(timeout, work).await.map_err(|_| BackendError::Timeout {
            endpoint: self.endpoint.clone(),
            model: req.model.clone(),
            secs,
        })??;
        reply.timings.wall_ms = ms(start.elapsed());
        Ok(reply)
    }

    async fn residency(&self, model: &str) -> Result<Option<Residency>, BackendError> {
        let ps: Ps = serde_json::from_value(self.get_json("/api/ps", model).await?).map_err(|e| {
            BackendError::Protocol { endpoint: self.endpoint.clone(), what: "/api/ps".into(), source: Some(e.into()) }
        })?;
        let want = |n: &str| n == model || n == format!("{model}:latest");
        Ok(ps
            .models
            .into_iter()
            .find(|m| want(&m.name) || want(&m.model))
            .map(|m| Residency { size: m.size, size_vram: m.size_vram }))
    }

    async fn unload(&self, model: &str) -> Result<(), BackendError> {
        let body = json!({"model": model, "keep_alive": 0});
        self.sent.note(Some(&body));
        let resp = self
            .http
            .post(self.url("/api/generate"))
            .json(&body)
            .timeout(self.control)
            .send()
            .await
            .map_err(|e| BackendError::from_reqwest(&self.endpoint, model, e, self.control.as_secs().max(1)))?;
        if !resp.status().is_success() {
            return Err(self.error_of(model, resp).await);
        }
        Ok(())
    }
}
