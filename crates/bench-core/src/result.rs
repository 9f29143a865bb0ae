use std::collections::BTreeSet;
use std::future::Future;

use serde::{Deserialize, Serialize};

use crate::{SinkError, TaskSet};

/// Why generation stopped.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FinishReason {
    /// A natural stop (end of sequence or a stop string).
    Stop,
    /// The output budget ran out: the answer is truncated.
    Length,
    /// Ollama's `load`: the request only loaded the model.
    Load,
    /// No completion: every attempt failed.
    Error,
    /// Anything else a server reported, verbatim.
    Other(String),
}

impl FinishReason {
    /// The reason a server reported (`stop`, `eos`, `length`, `load`, ...).
    pub fn from_server(s: Option<&str>) -> Self {
        match s {
            Some("stop") | Some("eos") => FinishReason::Stop,
            Some("length") => FinishReason::Length,
            Some("load") => FinishReason::Load,
            Some(other) => FinishReason::Other(other.to_string()),
            None => FinishReason::Other("unknown".into()),
        }
    }

    /// `stop`, `length`, `load` or the server's word.
    pub fn as_str(&self) -> &str {
        match self {
            FinishReason::Stop => "stop",
            FinishReason::Length => "length",
            FinishReason::Load => "load",
            FinishReason::Error => "error",
            FinishReason::Other(s) => s,
        }
    }
}

/// Timings of one completion. Server-reported durations are `None` when the
/// server did not report them (Ollama omits zero values).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Timings {
    /// Wall time of the request as seen by the client.
    pub wall_ms: f64,
    /// Time to the first streamed content token, as seen by the client.
    pub ttft_ms: Option<f64>,
    /// The whole request, as the server timed it.
    pub total_ms: Option<f64>,
    /// Loading the model, when it happened.
    pub load_ms: Option<f64>,
    /// Reading the prompt.
    pub prompt_eval_ms: Option<f64>,
    /// Time the server spent generating tokens.
    pub eval_ms: Option<f64>,
}

/// One try at a task; a completion keeps every attempt.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Attempt {
    /// 1 for the first try.
    pub number: u32,
    /// Its wall-clock time.
    pub wall_ms: f64,
    /// `None` when the attempt succeeded.
    pub error: Option<String>,
}

/// A model's answer to one task, with what it cost.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Completion {
    /// The task answered.
    pub task_id: String,
    /// The model's answer, verbatim.
    pub text: String,
    /// Prompt tokens, when the server reports them.
    pub prompt_tokens: Option<u64>,
    /// Where `prompt_tokens` came from: `response` (the answer's own usage
    /// or timings) or `count request` (see `ollama_runner`'s OpenAI backend).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prompt_tokens_from: Option<String>,
    /// Generated tokens, when the server reports them.
    pub completion_tokens: Option<u64>,
    /// Why generation stopped.
    pub finish_reason: FinishReason,
    /// The server's timings.
    pub timings: Timings,
    /// Every try, the last one included.
    pub attempts: Vec<Attempt>,
    /// Set when no attempt succeeded.
    pub error: Option<String>,
}

impl Completion {
    /// An answer given without a server (a recorded or built-in answerer):
    /// no tokens, timings or attempts.
    pub fn answer(task_id: &str, text: String) -> Self {
        Self {
            task_id: task_id.to_string(),
            text,
            prompt_tokens: None,
            prompt_tokens_from: None,
            completion_tokens: None,
            finish_reason: FinishReason::Stop,
            timings: Timings::default(),
            attempts: Vec::new(),
            error: None,
        }
    }

    /// Generated tokens per second of server generation time, where known.
    pub fn tokens_per_second(&self) -> Option<f64> {
        let tokens = self.completion_tokens? as f64;
        let ms = self.timings.eval_ms.filter(|ms| *ms > 0.0)?;
        Some(tokens / (ms / 1000.0))
    }
}

/// One named part of a grade.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Component {
    /// What this component checks (`parses`, `tests_pass`, `verdict`, ...).
    pub name: String,
    /// Whether the answer passed it.
    pub pass: bool,
    /// Why, for a reader checking the verdict.
    pub detail: String,
}

/// The verdict on one completion, with its components.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Grade {
    /// The task graded.
    pub task_id: String,
    /// Whether every component passed.
    pub pass: bool,
    /// The first failing component's reason, e.g. `unparseable`.
    pub reason: Option<String>,
    /// Each check, in order.
    pub components: Vec<Component>,
    /// Names the answer used that do not exist (invented imports and APIs).
    pub invented: Vec<String>,
    /// The invented-API check of a generation answer that parsed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api: Option<crate::ApiCheck>,
    /// A generation answer's token similarity to the original function
    /// (docstrings, comments and formatting left out): near 1.0 is a copy,
    /// which on a public repository measures recall.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub similarity: Option<f64>,
}

/// Whether an endpoint stays on this machine or this network.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EndpointScope {
    /// 127.0.0.0/8, ::1 or `localhost`.
    Loopback,
    /// A private or link-local address.
    Private,
    /// Anything else: egress.
    Remote,
}

/// Every sampling option sent with each request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SamplingOptions {
    /// Sampling temperature (0 for reproducible runs).
    pub temperature: f64,
    /// The sampler's seed.
    pub seed: u64,
    /// Context length.
    pub num_ctx: u32,
    /// Output budget in tokens.
    pub num_predict: u32,
    /// Top-k, when set.
    pub top_k: Option<u32>,
    /// Top-p, when set.
    pub top_p: Option<f64>,
}

impl Default for SamplingOptions {
    fn default() -> Self {
        Self { temperature: 0.0, seed: 42, num_ctx: 4096, num_predict: 512, top_k: None, top_p: None }
    }
}

/// What a reviewer needs to defend a run months later (DESIGN.md §4).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunManifest {
    /// The task set run.
    pub taskset_id: String,
    /// The snapshot it came from.
    pub snapshot_id: String,
    /// The hash of the rules it was derived under.
    pub rules_hash: String,
    /// This tool's version.
    pub tool_version: String,
    /// `native` or `promptfoo <version>`.
    pub driver: String,
    /// `ollama` or `openai`.
    pub backend_kind: String,
    /// The server's version, when it reports one.
    pub backend_version: Option<String>,
    /// The server root.
    pub endpoint: String,
    /// Where the endpoint points.
    pub endpoint_scope: EndpointScope,
    /// The model name as the server knows it.
    pub model: String,
    /// Ollama's digest, or the GGUF file's blake3.
    pub model_digest: Option<String>,
    /// The quantisation, when known.
    pub quantization: Option<String>,
    /// Sent unchanged with every request.
    pub options: SamplingOptions,
    /// The VRAM plan the run was checked against.
    pub vram_plan: Option<serde_json::Value>,
    /// The residency the server reported after the warm-up.
    pub residency: Option<serde_json::Value>,
    /// This machine, in one line.
    pub host: String,
    /// RFC 3339 UTC. Text, not a time type: the manifest is stored and
    /// compared as JSON, and text round-trips byte-exact; the report parses
    /// it (jiff) where it computes a duration.
    pub started_at: String,
    /// RFC 3339 UTC; `None` while the run is unfinished.
    pub finished_at: Option<String>,
    /// What the run observed that casts doubt on its numbers (a throughput
    /// collapse, say).
    #[serde(default)]
    pub warnings: Vec<String>,
    /// What left the network, for a run against a remote provider.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub egress: Option<Egress>,
    /// The provider's batch, for a remote batch baseline.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub batch: Option<BatchRecord>,
}

/// Every byte a run sent off the network, by provider (issue: egress is
/// explicit and recorded).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Egress {
    /// The provider acknowledged (`openai`, `anthropic`).
    pub provider: String,
    /// The host the requests went to.
    pub host: String,
    /// HTTP requests sent, polls included.
    pub requests: u64,
    /// Request bodies sent, in bytes.
    pub bytes_sent: u64,
    /// Response bodies received, in bytes.
    pub bytes_received: u64,
    /// The task set whose prompts were sent.
    pub taskset_id: String,
    /// blake3 of the request payload as uploaded (the JSONL file, or the
    /// batch's JSON body).
    pub payload_blake3: Option<String>,
}

/// A provider batch a run submitted, recorded before and after creation so a
/// resumed run finds it instead of paying twice.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BatchRecord {
    /// When creation was attempted (RFC 3339 UTC).
    pub submitted_at: String,
    /// The provider's batch id, once creation answered.
    pub id: Option<String>,
    /// The uploaded input file (OpenAI).
    pub input_file_id: Option<String>,
    /// The provider's last reported status.
    pub status: String,
    /// The model id the provider answered with.
    pub provider_model: Option<String>,
    /// Whether its results are in the store (a later submission is then a
    /// new batch for what failed, never this one again).
    #[serde(default)]
    pub ingested: bool,
}

impl RunManifest {
    /// The one place a manifest starts: the task set's identity, this tool,
    /// this host and now; the driver fills in what it learns (model digest,
    /// plan, residency, end) as the run goes.
    pub fn new(
        set: &TaskSet,
        driver: &str,
        backend_kind: &str,
        endpoint: &str,
        scope: EndpointScope,
        model: &str,
    ) -> Self {
        Self {
            taskset_id: set.taskset_id.clone(),
            snapshot_id: set.snapshot_id.clone(),
            rules_hash: set.rules_hash.clone(),
            tool_version: crate::TOOL_VERSION.into(),
            driver: driver.into(),
            backend_kind: backend_kind.into(),
            backend_version: None,
            endpoint: endpoint.into(),
            endpoint_scope: scope,
            model: model.into(),
            model_digest: None,
            quantization: None,
            options: SamplingOptions::default(),
            vram_plan: None,
            residency: None,
            host: host_description(),
            started_at: now_rfc3339(),
            finished_at: None,
            warnings: Vec::new(),
            egress: None,
            batch: None,
        }
    }
}

/// Now, as RFC 3339 UTC with milliseconds (`2026-12-01T04:43:01.893Z`).
pub fn now_rfc3339() -> String {
    format!("{:.3}", jiff::Timestamp::now())
}

/// A one-line description of this machine for the run manifest.
pub fn host_description() -> String {
    let name =
        std::fs::read_to_string("/etc/hostname").map(|s| s.trim().to_string()).unwrap_or_else(|_| "unknown".into());
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|s| s.trim().to_string())
        })
        .unwrap_or_else(|| std::env::consts::ARCH.to_string());
    let mem = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| m.lines().next().and_then(|l| l.split_whitespace().nth(1)).and_then(|k| k.parse::<u64>().ok()))
        .map(|kb| format!("{:.1} GiB", kb as f64 / 1024.0 / 1024.0))
        .unwrap_or_default();
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    format!("{name}; {} {}; {cpu}; {cores} cores; {mem}", std::env::consts::OS, std::env::consts::ARCH)
}

/// Where the runner writes results as they arrive; the store implements it.
pub trait ResultSink {
    /// The ids of the tasks this run already has results for.
    fn already_done(&mut self) -> impl Future<Output = Result<BTreeSet<String>, SinkError>> + Send;
    /// Records one completion durably before returning. `warmup` results are
    /// kept but excluded from statistics.
    fn record(&mut self, completion: &Completion, warmup: bool) -> impl Future<Output = Result<(), SinkError>> + Send;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stamps_are_rfc3339_utc_with_milliseconds() {
        let a = now_rfc3339();
        assert_eq!(a.len(), 24);
        assert!(a.starts_with("20") && a.ends_with('Z') && &a[10..11] == "T", "{a}");
    }
}
