use std::time::{Duration, Instant};

use bench_core::{FinishReason, Timings};
use futures_util::StreamExt;
use serde_json::{json, Value};

use crate::backend::ms;
use crate::{Backend, BackendError, EndpointError, ModelInfo, Reply, Request, Residency};

/// An OpenAI-compatible chat-completions server (llama.cpp's server, vLLM,
/// LM Studio, Ollama's `/v1`). Streams, to time the first token.
#[derive(Debug, Clone)]
pub struct OpenAiBackend {
    endpoint: String,
    base: String,
    http: reqwest::Client,
    /// The limit on control requests.
    control: std::time::Duration,
    sent: std::sync::Arc<crate::backend::Sent>,
}

impl OpenAiBackend {
    /// `endpoint` is the server root (`http://127.0.0.1:8080`) or its `/v1`.
    pub fn new(endpoint: &str) -> Result<Self, EndpointError> {
        crate::endpoint_scope(endpoint)?;
        let trimmed = endpoint.trim_end_matches('/');
        let base = if trimmed.ends_with("/v1") { trimmed.to_string() } else { format!("{trimmed}/v1") };
        let http = reqwest::Client::builder()
            .no_proxy()
            .connect_timeout(crate::CONTROL_TIMEOUT)
            .build()
            .map_err(|e| EndpointError::BadEndpoint { endpoint: endpoint.into(), source: e.into() })?;
        Ok(Self {
            endpoint: trimmed.to_string(),
            base,
            http,
            control: crate::CONTROL_TIMEOUT,
            sent: Default::default(),
        })
    }

    /// Another limit for control requests (the default is [`crate::CONTROL_TIMEOUT`]).
    pub fn with_control_timeout(mut self, limit: std::time::Duration) -> Self {
        self.control = limit;
        self
    }

    async fn error_of(&self, model: &str, resp: reqwest::Response) -> BackendError {
        let status = resp.status().as_u16();
        let body = resp.text().await.unwrap_or_default();
        let message = serde_json::from_str::<Value>(&body)
            .ok()
            .and_then(|v| {
                v.pointer("/error/message")
                    .or(v.get("error"))
                    .or(v.get("detail"))
                    .map(|m| m.as_str().map(str::to_string).unwrap_or(m.to_string()))
            })
            .unwrap_or_else(|| body.chars().take(300).collect());
        if status == 404 {
            BackendError::ModelNotFound { endpoint: self.endpoint.clone(), model: model.into(), message }
        } else {
            BackendError::Http { endpoint: self.endpoint.clone(), model: model.into(), status, message }
        }
    }
}

impl OpenAiBackend {
    /// llama-server's `/props`: its slots and build. Other servers have no
    /// such route; any failure is an answer of none.
    async fn props(&self) -> (Option<u64>, Option<String>) {
        let root = self.base.trim_end_matches("/v1");
        self.sent.note(None);
        let resp = self.http.get(format!("{root}/props")).timeout(self.control).send().await;
        let Ok(resp) = resp.and_then(reqwest::Response::error_for_status) else { return (None, None) };
        let v: Value = resp.json().await.unwrap_or_default();
        let slots = v["total_slots"].as_u64().filter(|n| (1..=4096).contains(n));
        (slots, v["build_info"].as_str().map(str::to_string))
    }

    /// The prompt's token count as the server applies its chat template:
    /// the `usage` of a one-token, non-streamed request with the same
    /// messages. The server's prompt cache makes it nearly free.
    async fn count_prompt(&self, body: &Value) -> Result<Option<u64>, BackendError> {
        let mut body = body.clone();
        body["stream"] = json!(false);
        body["max_tokens"] = json!(1);
        if let Some(o) = body.as_object_mut() {
            o.remove("stream_options");
        }
        let model = body["model"].as_str().unwrap_or_default().to_string();
        self.sent.note(Some(&body));
        let resp = self
            .http
            .post(format!("{}/chat/completions", self.base))
            .timeout(self.control)
            .json(&body)
            .send()
            .await
            .map_err(|e| BackendError::from_reqwest(&self.endpoint, &model, e, self.control.as_secs().max(1)))?;
        if !resp.status().is_success() {
            return Err(self.error_of(&model, resp).await);
        }
        let v: Value = resp.json().await.map_err(|e| BackendError::Protocol {
            endpoint: self.endpoint.clone(),
            what: "the body".into(),
            source: Some(e.into()),
        })?;
        Ok(v["usage"]["prompt_tokens"].as_u64())
    }
}

impl Backend for OpenAiBackend {
    fn kind(&self) -> &'static str {
        "openai"
    }

    fn sent(&self) -> (u64, u64) {
        self.sent.totals()
    }

    fn endpoint(&self) -> &str {
        &self.endpoint
    }

    async fn describe(&self, model: &str) -> Result<ModelInfo, BackendError> {
        let url = format!("{}/models", self.base);
        self.sent.note(None);
        let resp = self
            .http
            .get(&url)
            .timeout(self.control)
            .send()
            .await
            .map_err(|e| BackendError::from_reqwest(&self.endpoint, model, e, self.control.as_secs().max(1)))?;
        let server = resp.headers().get("server").and_then(|v| v.to_str().ok()).map(str::to_string);
        if !resp.status().is_success() {
            return Err(self.error_of(model, resp).await);
        }
        let v: Value = resp.json().await.map_err(|e| BackendError::Protocol {
            endpoint: self.endpoint.clone(),
            what: "the body".into(),
            source: Some(e.into()),
        })?;
        let ids: Vec<&str> = v["data"].as_array().into_iter().flatten().filter_map(|m| m["id"].as_str()).collect();
        // Single-model servers (llama.cpp) answer whatever name is asked; only
        // insist on the name when the server lists several.
        if ids.len() > 1 && !ids.contains(&model) {
            return Err(BackendError::ModelNotFound {
                endpoint: self.endpoint.clone(),
                model: model.into(),
                message: format!("the server lists {}", ids.join(", ")),
            });
        }
        let (slots, build) = self.props().await;
        // llama-server names itself by its build in /props, not in a header.
        let backend_version = server.or(build.map(|b| format!("llama.cpp {b}")));
        Ok(ModelInfo { name: model.into(), backend_version, slots, ..Default::default() })
    }

    async fn complete(&self, req: &Request, timeout: Duration) -> Result<Reply, BackendError> {
        let o = &req.options;
        let mut body = json!({
            "model": req.model,
            "messages": [{"role": "system", "content": req.system}, {"role": "user", "content": req.user}],
            "temperature": o.temperature,
            "seed": o.seed,
            "max_tokens": o.num_predict,
            "stream": true,
            "stream_options": {"include_usage": true},
        });
        if let Some(k) = o.top_k {
            body["top_k"] = json!(k);
        }
        if let Some(p) = o.top_p {
            body["top_p"] = json!(p);
        }
        let secs = timeout.as_secs();
        let start = Instant::now();
        self.sent.note(Some(&body));
        let work = async {
            let resp = self
                .http
                .post(format!("{}/chat/completions", self.base))
                .json(&body)
                .send()
                .await
                .map_err(|e| BackendError::from_reqwest(&self.endpoint, &req.model, e, secs))?;
            if !resp.status().is_success() {
                return Err(self.error_of(&req.model, resp).await);
            }
            let mut stream = resp.bytes_stream();
            let mut buf = Vec::new();
            let mut reply = Reply {
                text: String::new(),
                prompt_tokens: None,
                prompt_tokens_from: None,
                completion_tokens: None,
                finish_reason: FinishReason::Other("unknown".into()),
                timings: Timings::default(),
            };
            let mut chunks = 0u64;
            let mut done = false;
            let mut finished = false;
            while let Some(piece) = stream.next().await {
                let piece = piece.map_err(|e| BackendError::from_reqwest(&self.endpoint, &req.model, e, secs))?;
                buf.extend_from_slice(&piece);
                while let Some(nl) = buf.iter().position(|b| *b == b'\n') {
                    let line: Vec<u8> = buf.drain(..=nl).collect();
                    let line = String::from_utf8_lossy(&line);
                    let Some(data) = line.trim().strip_prefix("data:") else { continue };
                    let data = data.trim();
                    if data == "[DONE]" {
                        done = true;
                        continue;
                    }
                    let v: Value = serde_json::from_str(data).map_err(|e| BackendError::Protocol {
                        endpoint: self.endpoint.clone(),
                        what: "bad stream chunk".into(),
                        source: Some(e.into()),
                    })?;
                    if let Some(err) = v.get("error") {
                        let message =
                            err.get("message").and_then(Value::as_str).map(str::to_string).unwrap_or(err.to_string());
                        return Err(BackendError::ServerError {
                            endpoint: self.endpoint.clone(),
                            model: req.model.clone(),
                            message,
                        });
                    }
                    if let Some(choice) = v["choices"].get(0) {
                        if let Some(t) = choice["delta"]["content"].as_str() {
                            if !t.is_empty() {
                                if reply.timings.ttft_ms.is_none() {
                                    reply.timings.ttft_ms = Some(ms(start.elapsed()));
                                }
                                reply.text.push_str(t);
                                chunks += 1;
                            }
                        }
                        if let Some(f) = choice["finish_reason"].as_str() {
                            reply.finish_reason = FinishReason::from_server(Some(f));
                            finished = true;
                        }
                    }
                    if let Some(u) = v.get("usage").filter(|u| !u.is_null()) {
                        reply.prompt_tokens = u["prompt_tokens"].as_u64();
                        reply.completion_tokens = u["completion_tokens"].as_u64();
                    }
                    if let Some(t) = v.get("timings") {
                        reply.timings.prompt_eval_ms = t["prompt_ms"].as_f64();
                        reply.timings.eval_ms = t["predicted_ms"].as_f64();
                        reply.completion_tokens = reply.completion_tokens.or(t["predicted_n"].as_u64());
                        reply.prompt_tokens = reply.prompt_tokens.or(t["prompt_n"].as_u64());
                    }
                }
            }
            if !done && !finished {
                return Err(BackendError::StreamCut {
                    endpoint: self.endpoint.clone(),
                    model: req.model.clone(),
                    source: "no finish_reason and no [DONE]".into(),
                });
            }
            // Servers that send no usage in streams: one chunk per token.
            if reply.completion_tokens.is_none() {
                reply.completion_tokens = Some(chunks);
            }
            Ok(reply)
        };
        let mut reply = tokio::time::timeout(timeout, work).await.map_err(|_| BackendError::Timeout {
            endpoint: self.endpoint.clone(),
            model: req.model.clone(),
            secs,
        })??;
        reply.timings.wall_ms = ms(start.elapsed());
        if reply.timings.eval_ms.is_none() {
            // Without server timings, generation time is the wall time after the first token.
            reply.timings.eval_ms = reply.timings.ttft_ms.map(|t| reply.timings.wall_ms - t);
        }
        if reply.prompt_tokens.is_some() {
            reply.prompt_tokens_from = Some("response".into());
        } else {
            // The stream carried no usage (llama-cpp-python): ask the server
            // itself, after the timed request, so the timings stay the answer's.
            reply.prompt_tokens = self.count_prompt(&body).await?;
            reply.prompt_tokens_from = reply.prompt_tokens.map(|_| "count request".into());
        }
        Ok(reply)
    }

    async fn residency(&self, _model: &str) -> Result<Option<Residency>, BackendError> {
        Ok(None)
    }

    async fn unload(&self, _model: &str) -> Result<(), BackendError> {
        Ok(())
    }
}
