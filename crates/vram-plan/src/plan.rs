//! The VRAM planner: weights + KV cache + recurrent state + compute buffer +
//! overhead, against a budget (DESIGN.md §6).
//!
//! KV bytes per token of one full-attention layer = (key length + value
//! length) × KV heads × bytes per element. A sliding-window layer holds the
//! whole context when the runtime keeps a full-size SWA cache
//! (llama-cpp-python), else the window plus one micro-batch, padded to 256
//! cells (llama.cpp's server, Ollama); a recurrent layer holds a fixed state
//! per sequence. Slots with separate caches multiply all three; slots sharing
//! one cache (llama-server's default) share the context's cells and keep a
//! window each on sliding layers. Weights are placed per device from the
//! tensor table ([`TensorSplit`], [`Device`]). The compute buffer is
//! the logits of one micro-batch (vocabulary × 4 B × 512) plus activations
//! (embedding × 4 B × 512 × 4); the output buffer is one row of logits per
//! sequence (vocabulary × 4 B). The allowance left on top is stated in the
//! plan and small: it covers allocator alignment and graph metadata, not the
//! GPU driver's own context, which the budget should already exclude.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::PlanError;

/// Element type of the KV cache.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KvType {
    /// 32-bit floats.
    F32,
    /// 16-bit floats (the servers' default).
    F16,
    /// 8-bit blocks.
    Q8_0,
    /// 4-bit blocks.
    Q4_0,
}

impl KvType {
    /// `f32`, `f16`, `q8_0` or `q4_0`.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s.to_ascii_lowercase().as_str() {
            "f32" => KvType::F32,
            "f16" => KvType::F16,
            "q8_0" => KvType::Q8_0,
            "q4_0" => KvType::Q4_0,
            _ => return None,
        })
    }

    /// `(numerator, denominator)` bytes per element: q8_0 is 34/32, q4_0 18/32.
    pub fn bytes_per_element(self) -> (u64, u64) {
        match self {
            KvType::F32 => (4, 1),
            KvType::F16 => (2, 1),
            KvType::Q8_0 => (34, 32),
            KvType::Q4_0 => (18, 32),
        }
    }
}

impl std::str::FromStr for KvType {
    type Err = PlanError;

    fn from_str(s: &str) -> Result<Self, PlanError> {
        Self::parse(s).ok_or_else(|| setting(s, "f16, q8_0, q4_0 or f32"))
    }
}

fn setting(given: &str, expected: &'static str) -> PlanError {
    PlanError::Setting { given: given.into(), expected }
}

/// The runtime that will hold the model, with the defaults that change its
/// allocations.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Runtime {
    /// llama.cpp's `llama-server`: a windowed SWA cache (`--swa-full` off).
    #[default]
    #[serde(rename = "llama.cpp")]
    LlamaCpp,
    /// llama-cpp-python's server: always a full-size SWA cache.
    LlamaCppPython,
    /// Ollama: a windowed SWA cache.
    Ollama,
}

impl Runtime {
    /// The micro-batch every profile uses by default.
    pub const UBATCH: u64 = 512;

    /// `llama.cpp`, `llama-cpp-python` or `ollama`.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s.to_ascii_lowercase().as_str() {
            "llama.cpp" | "llama-cpp" | "llama-server" => Runtime::LlamaCpp,
            "llama-cpp-python" => Runtime::LlamaCppPython,
            "ollama" => Runtime::Ollama,
            _ => return None,
        })
    }

    /// `llama.cpp`, `llama-cpp-python` or `ollama`.
    pub fn as_str(self) -> &'static str {
        match self {
            Runtime::LlamaCpp => "llama.cpp",
            Runtime::LlamaCppPython => "llama-cpp-python",
            Runtime::Ollama => "ollama",
        }
    }

    /// Whether sliding-window layers get a cache as long as the context.
    pub fn swa_full(self) -> bool {
        self == Runtime::LlamaCppPython
    }

    /// The slots the server holds memory for by default: llama-server's
    /// automatic choice is 4 slots sharing one cache; llama-cpp-python serves
    /// one sequence, and Ollama one per model (`OLLAMA_NUM_PARALLEL`).
    pub fn parallel(self) -> u64 {
        if self == Runtime::LlamaCpp {
            4
        } else {
            1
        }
    }

    /// Whether the slots share one cache of `ctx` cells (llama-server's
    /// automatic choice) rather than each keeping its own.
    pub fn kv_unified(self) -> bool {
        self == Runtime::LlamaCpp
    }

    /// Whether flash attention is on by default: llama.cpp's `auto` turns it
    /// on where the device supports it (every GPU backend it plans for);
    /// llama-cpp-python and Ollama leave it off unless asked.
    pub fn flash_attn(self) -> bool {
        self == Runtime::LlamaCpp
    }
}

impl std::str::FromStr for Runtime {
    type Err = PlanError;

    fn from_str(s: &str) -> Result<Self, PlanError> {
        Self::parse(s).ok_or_else(|| setting(s, "llama.cpp, llama-cpp-python or ollama"))
    }
}

/// How one layer keeps state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LayerKind {
    /// Attention over the whole context.
    Full,
    /// Attention over a sliding window.
    Sliding,
    /// A recurrent layer (Mamba, Gated DeltaNet) with a fixed-size state.
    Recurrent,
}

/// The shape facts the plan needs, from GGUF metadata.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelShape {
    /// `general.architecture`.
    pub architecture: String,
    /// Each layer's kind, in order.
    pub layers: Vec<LayerKind>,
    /// KV heads per layer (grouped-query attention).
    pub kv_heads: Vec<u64>,
    /// Query heads: the width of the attention scores without flash attention.
    #[serde(default)]
    pub head_count: u64,
    /// Key width per head.
    pub key_length: u64,
    /// Value width per head.
    pub value_length: u64,
    /// The window of sliding layers.
    pub sliding_window: Option<u64>,
    /// Bytes of fixed state per recurrent layer per sequence.
    pub recurrent_state_bytes: u64,
    /// The hidden size.
    pub embedding_length: u64,
    /// The vocabulary size.
    pub vocab_size: u64,
    /// The context the model was trained for.
    pub trained_context: Option<u64>,
    /// The weights' bytes.
    pub weight_bytes: u64,
    /// How the weights divide between devices, when a GGUF tensor table is
    /// known; without it every byte is planned on the device.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tensors: Option<TensorSplit>,
}

/// The tensors whose placement differs from the layers', from a GGUF tensor
/// table. llama.cpp keeps the token embedding (the input layer, read by row
/// lookup) in host memory even when every layer is offloaded; a model
/// without an `output` tensor ties it to the embedding, and the output layer
/// then gets its own copy on the device. On a CPU, llama.cpp repacks the
/// matrix weights of Q4_0, Q4_K and IQ4_NL into interleaved blocks, a second
/// copy beside the mapped file.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TensorSplit {
    /// Bytes of `token_embd.weight`.
    pub token_embedding: u64,
    /// Whether there is no `output.weight` (the output reuses the embedding).
    pub tied_output: bool,
    /// Bytes of the matrix weights a CPU backend repacks.
    pub repackable: u64,
}

/// Where the layers live: the device the budget is for.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Device {
    /// Every layer offloaded to one GPU; the token embedding stays in host memory.
    #[default]
    Gpu,
    /// A CPU-only server: the budget is host memory, holding the mapped file
    /// and the repacked copies.
    Cpu,
}

impl std::str::FromStr for Device {
    type Err = PlanError;

    fn from_str(s: &str) -> Result<Self, PlanError> {
        match s.to_ascii_lowercase().as_str() {
            "gpu" => Ok(Device::Gpu),
            "cpu" => Ok(Device::Cpu),
            _ => Err(setting(s, "gpu or cpu")),
        }
    }
}

/// What to plan for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlanRequest {
    /// The budget.
    pub vram_bytes: u64,
    /// Context length per sequence (with a unified cache, the cells all
    /// sequences share).
    pub ctx: u64,
    /// Slots the server holds memory for (the runtime's default unless set).
    pub parallel: u64,
    /// The KV cache's element type.
    pub kv_type: KvType,
    /// The allowance left on top of the modelled components.
    pub overhead_bytes: u64,
    /// The runtime whose allocation policy the plan follows.
    #[serde(default)]
    pub runtime: Runtime,
    /// Where the server departs from the runtime's defaults.
    #[serde(flatten)]
    pub policy: Policy,
}

/// The server settings that change memory, where they depart from the
/// runtime's defaults (`None`: the default).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Policy {
    /// The micro-batch (`n_ubatch`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ubatch: Option<u64>,
    /// Flash attention on or off.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub flash_attn: Option<bool>,
    /// A full-size sliding-window cache.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub swa_full: Option<bool>,
    /// The device holding the layers (default: a GPU).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device: Option<Device>,
    /// Whether the slots share one cache (llama.cpp's `--kv-unified`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kv_unified: Option<bool>,
}

impl PlanRequest {
    /// A request for `ctx` tokens under `runtime`'s defaults (its slots too).
    pub fn new(vram_bytes: u64, ctx: u64, kv_type: KvType, runtime: Runtime) -> Self {
        Self {
            vram_bytes,
            ctx,
            parallel: runtime.parallel(),
            kv_type,
            overhead_bytes: crate::PLAN_OVERHEAD,
            runtime,
            policy: Policy::default(),
        }
    }

    /// The request with `policy`, and `parallel` slots where given.
    pub fn with(self, policy: Policy, parallel: Option<u64>) -> Self {
        Self { policy, parallel: parallel.unwrap_or(self.parallel).max(1), ..self }
    }

    /// The micro-batch in effect.
    pub fn ubatch(&self) -> u64 {
        self.policy.ubatch.unwrap_or(Runtime::UBATCH).max(1)
    }

    /// Whether flash attention is in effect.
    pub fn flash_attn(&self) -> bool {
        self.policy.flash_attn.unwrap_or(self.runtime.flash_attn())
    }

    /// Whether sliding layers keep the whole context.
    pub fn swa_full(&self) -> bool {
        self.policy.swa_full.unwrap_or(self.runtime.swa_full())
    }

    /// Whether the slots share one cache.
    pub fn kv_unified(&self) -> bool {
        self.policy.kv_unified.unwrap_or(self.runtime.kv_unified())
    }

    /// The device holding the layers.
    pub fn device(&self) -> Device {
        self.policy.device.unwrap_or_default()
    }
}

/// The plan, every figure in bytes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    /// What was asked.
    pub request: PlanRequest,
    /// `general.architecture`.
    pub architecture: String,
    /// Bytes of weights on the device.
    pub weights: u64,
    /// Bytes of the CPU's repacked copies (a CPU device only).
    #[serde(default)]
    pub repacked: u64,
    /// Bytes of weights kept in host memory beside a GPU (the token
    /// embedding); not counted against the budget.
    #[serde(default)]
    pub host_weights: u64,
    /// KV bytes per token of one full-attention layer.
    pub kv_bytes_per_token_per_full_layer: u64,
    /// KV bytes per token summed over layers that grow with the context.
    pub kv_bytes_per_token: u64,
    /// Layers that attend over the whole context.
    pub full_layers: usize,
    /// Layers that attend over a window.
    pub sliding_layers: usize,
    /// Layers with a recurrent state.
    pub recurrent_layers: usize,
    /// Bytes of KV cache.
    pub kv_cache: u64,
    /// Bytes of recurrent state.
    pub recurrent_state: u64,
    /// Bytes of the compute buffer.
    pub compute_buffer: u64,
    /// Bytes of the output buffer (logits kept per sequence).
    #[serde(default)]
    pub output_buffer: u64,
    /// The fixed margin for the runtime's own allocations.
    pub overhead: u64,
    /// The sum of the above.
    pub total: u64,
    /// Whether the total is within the budget.
    pub fits: bool,
    /// Budget minus total (negative when it does not fit).
    pub headroom: i64,
    /// Largest context that fits at this parallelism, at most the trained
    /// context (0 if none fits).
    pub max_ctx: u64,
    /// Largest parallelism that fits at this context (0 if none).
    pub max_parallel: u64,
}

fn num(meta: &BTreeMap<String, Value>, key: &str) -> Option<u64> {
    meta.get(key).and_then(|v| v.as_u64().or_else(|| v.as_f64().map(|f| f as u64)))
}

/// Bounds far above any real model: metadata beyond them is corrupt or
/// hostile, and the shape is refused rather than multiplied out.
const MAX_LAYERS: u64 = 4096;
const MAX_DIM: u64 = 1 << 24;

impl ModelShape {
    /// Reads the shape from GGUF metadata (a file header or Ollama's
    /// `model_info`). `weight_bytes` comes from the tensor table or the file size.
    pub fn from_metadata(meta: &BTreeMap<String, Value>, weight_bytes: u64) -> Option<Self> {
        let arch = meta.get("general.architecture")?.as_str()?.to_string();
        let k = |s: &str| format!("{arch}.{s}");
        let n_layers = num(meta, &k("block_count")).filter(|n| *n <= MAX_LAYERS)? as usize;
        let dim = |key: &str| match num(meta, &k(key)) {
            Some(v) if v > MAX_DIM => Err(()),
            v => Ok(v),
        };
        let heads = dim("attention.head_count").ok()?.unwrap_or(1);
        let embd = dim("embedding_length").ok()?.unwrap_or(0);
        let kv_heads: Vec<u64> = match meta.get(&k("attention.head_count_kv")) {
            Some(Value::Array(a)) if a.len() as u64 > MAX_LAYERS => return None,
            Some(Value::Array(a)) => a.iter().map(|v| v.as_u64().unwrap_or(0).min(MAX_DIM)).collect(),
            Some(v) => vec![v.as_u64().unwrap_or(heads).min(MAX_DIM); n_layers],
            None => vec![heads; n_layers],
        };
        let head_dim = embd.checked_div(heads).unwrap_or(0);
        let key_length = dim("attention.key_length").ok()?.unwrap_or(head_dim);
        let value_length = dim("attention.value_length").ok()?.unwrap_or(key_length);
        let sliding_window = num(meta, &k("attention.sliding_window")).filter(|w| *w > 0);
        // Which layers slide: an explicit pattern, or the architecture's known one.
        let swa_period = num(meta, &k("attention.sliding_window_pattern")).or(match arch.as_str() {
            "gemma3" | "gemma3n" => Some(6),
            "gemma2" => Some(2),
            _ => None,
        });
        let full_interval = num(meta, &k("full_attention_interval"));
        let layers: Vec<LayerKind> = (0..n_layers)
            .map(|il| {
                if let Some(i) = full_interval.filter(|i| *i > 0) {
                    if (il as u64 + 1).is_multiple_of(i) {
                        LayerKind::Full
                    } else {
                        LayerKind::Recurrent
                    }
                } else if kv_heads.get(il) == Some(&0) {
                    LayerKind::Recurrent
                } else if let (Some(_), Some(p)) = (sliding_window, swa_period) {
                    if (il as u64 + 1).is_multiple_of(p) {
                        LayerKind::Full
                    } else {
                        LayerKind::Sliding
                    }
                } else {
                    LayerKind::Full
                }
            })
            .collect();
        // Recurrent state (Mamba-2 / Gated DeltaNet style), f32: the conv state
        // (kernel - 1) x (inner + 2 x groups x state) plus the SSM state state x inner.
        let conv = dim("ssm.conv_kernel").ok()?.unwrap_or(0);
        let inner = dim("ssm.inner_size").ok()?.unwrap_or(0);
        let state = dim("ssm.state_size").ok()?.unwrap_or(0);
        let groups = dim("ssm.group_count").ok()?.unwrap_or(1);
        let per_conv = inner.saturating_add(groups.saturating_mul(state).saturating_mul(2));
        let recurrent_state_bytes = conv
            .saturating_sub(1)
            .saturating_mul(per_conv)
            .saturating_add(state.saturating_mul(inner))
            .saturating_mul(4);
        let vocab_size = dim("vocab_size").ok()?.or_else(|| {
            meta.get("tokenizer.ggml.tokens")
                .and_then(|t| t["array_length"].as_u64().or(t.as_array().map(|a| a.len() as u64)))
        });
        Some(ModelShape {
            architecture: arch.clone(),
            layers,
            kv_heads,
            head_count: heads,
            key_length,
            value_length,
            sliding_window,
            recurrent_state_bytes,
            embedding_length: embd,
            vocab_size: vocab_size.unwrap_or(0),
            trained_context: num(meta, &k("context_length")),
            weight_bytes,
            tensors: None,
        })
    }

    /// `(device weights, repacked copies, host weights)` on `device`.
    pub fn weights(&self, device: Device) -> (u64, u64, u64) {
        let Some(t) = self.tensors else { return (self.weight_bytes, 0, 0) };
        match device {
            Device::Cpu => (self.weight_bytes, t.repackable, 0),
            // A tied output's copy on the device replaces the embedding's bytes.
            Device::Gpu if t.tied_output => (self.weight_bytes, 0, t.token_embedding),
            Device::Gpu => (self.weight_bytes.saturating_sub(t.token_embedding), 0, t.token_embedding),
        }
    }

    /// KV bytes per token for layer `il`, rounded up.
    fn kv_per_token(&self, il: usize, kv: KvType) -> u64 {
        let (n, d) = kv.bytes_per_element();
        let heads = self.kv_heads.get(il).copied().unwrap_or(0);
        (self.key_length + self.value_length).saturating_mul(heads).saturating_mul(n).div_ceil(d)
    }

    fn kv_cache(&self, req: &PlanRequest, ctx: u64, parallel: u64) -> u64 {
        let kv = req.kv_type;
        // llama.cpp: min(ctx, pad(window + ubatch, 256)) cells per cache; a
        // cache the slots share keeps a window for each.
        let unified = req.kv_unified();
        let windows = if unified { parallel } else { 1 };
        let swa_cells = |window: u64| {
            let cells = window.saturating_mul(windows).saturating_add(req.ubatch());
            ctx.min(cells.div_ceil(256).saturating_mul(256))
        };
        let per_seq: u64 = self
            .layers
            .iter()
            .enumerate()
            .map(|(il, kind)| match kind {
                LayerKind::Full => ctx.saturating_mul(self.kv_per_token(il, kv)),
                LayerKind::Sliding => {
                    let cells = match self.sliding_window {
                        Some(w) if !req.swa_full() => swa_cells(w),
                        _ => ctx,
                    };
                    cells.saturating_mul(self.kv_per_token(il, kv))
                }
                LayerKind::Recurrent => 0,
            })
            .fold(0, u64::saturating_add);
        // Saturating: an impossible size must read as "does not fit", never wrap.
        if unified {
            per_seq
        } else {
            per_seq.saturating_mul(parallel)
        }
    }

    fn total(&self, req: &PlanRequest, ctx: u64, parallel: u64) -> u64 {
        let (weights, repacked, _) = self.weights(req.device());
        let recurrent = (self.layers.iter().filter(|k| **k == LayerKind::Recurrent).count() as u64)
            .saturating_mul(self.recurrent_state_bytes)
            .saturating_mul(parallel);
        [
            self.kv_cache(req, ctx, parallel),
            recurrent,
            self.compute_buffer(req, ctx),
            self.output_buffer(parallel),
            req.overhead_bytes,
        ]
        .into_iter()
        .fold(weights.saturating_add(repacked), u64::saturating_add)
    }

    /// Bytes of the compute buffer for one micro-batch: the larger of the
    /// output phase (the logits of every token of the micro-batch) and, without
    /// flash attention, the attention phase (the f32 scores of every query
    /// head over every cached token, and the f32 mask), each with the
    /// micro-batch's activations. llama.cpp's graph allocator reuses memory
    /// between the phases, so they do not add up.
    pub fn compute_buffer(&self, req: &PlanRequest, ctx: u64) -> u64 {
        let ub = req.ubatch();
        let activations = self.embedding_length.saturating_mul(16).saturating_mul(ub);
        let logits = self.vocab_size.saturating_mul(4).saturating_mul(ub);
        let attention = if req.flash_attn() || self.layers.iter().all(|k| *k == LayerKind::Recurrent) {
            0
        } else {
            // One micro-batch's queries over one stream's cells: separate
            // caches split the micro-batch between them.
            let n_kv = ctx;
            let scores = self.head_count.saturating_mul(n_kv).saturating_mul(ub).saturating_mul(4);
            scores.saturating_add(n_kv.saturating_mul(ub).saturating_mul(4))
        };
        logits.max(attention).saturating_add(activations)
    }

    /// Each component of the plan for `req` with its formula, the numbers
    /// put into it and the metadata keys they came from.
    pub fn explain(&self, req: &PlanRequest) -> Vec<String> {
        let a = &self.architecture;
        let plan = self.plan(req);
        let (n, d) = req.kv_type.bytes_per_element();
        let ub = req.ubatch();
        let heads: std::collections::BTreeSet<u64> = self
            .layers
            .iter()
            .zip(&self.kv_heads)
            .filter(|(k, _)| **k != LayerKind::Recurrent)
            .map(|(_, h)| *h)
            .collect();
        let heads: Vec<String> = heads.iter().map(u64::to_string).collect();
        let sliding = match (self.sliding_window, req.swa_full()) {
            (None, _) => "no sliding layers".to_string(),
            (Some(_), true) => format!("sliding layers keep the whole context (a full-size SWA cache; {} keeps one by default)", req.runtime.as_str()),
            (Some(w), false) if req.kv_unified() => format!(
                "sliding layers keep min(ctx, pad256(window {w} x slots {} + micro-batch {})) cells ({a}.attention.sliding_window)",
                req.parallel,
                req.ubatch()
            ),
            (Some(w), false) => format!(
                "sliding layers keep min(ctx, pad256(window {w} + micro-batch {})) cells ({a}.attention.sliding_window)",
                req.ubatch()
            ),
        };
        vec![
            self.explain_weights(&plan),
            format!(
                "KV cache = {} B = per layer (key {} + value {}) x KV heads [{}] x {n}/{d} B ({:?}) x cells{}; {} full layers keep ctx {} cells; {sliding} ({a}.block_count, {a}.attention.head_count_kv, {a}.attention.key_length / value_length or embedding_length / head_count)",
                plan.kv_cache,
                self.key_length,
                self.value_length,
                heads.join(", "),
                req.kv_type,
                if req.kv_unified() {
                    format!(" (one cache shared by {} slots: a window per slot)", req.parallel)
                } else {
                    format!(" x slots {}", req.parallel)
                },
                plan.full_layers,
                req.ctx
            ),
            format!(
                "recurrent state = {} B = {} recurrent layers x {} B x parallel {} ({a}.ssm.conv_kernel, inner_size, state_size, group_count; f32)",
                plan.recurrent_state, plan.recurrent_layers, self.recurrent_state_bytes, req.parallel
            ),
            format!(
                "compute buffer = {} B = max(logits: vocabulary {} x 4 B x micro-batch {ub}, {}) + activations embedding {} x 16 B x {ub} ({a}.vocab_size or tokenizer.ggml.tokens, {a}.attention.head_count, {a}.embedding_length)",
                plan.compute_buffer,
                self.vocab_size,
                if req.flash_attn() {
                    "no attention scores: flash attention".to_string()
                } else {
                    format!("attention scores: (heads {} + mask 1) x cells {} x {ub} x 4 B, flash attention off", self.head_count, req.ctx)
                },
                self.embedding_length,
            ),
            format!(
                "output buffer = {} B = vocabulary {} x 4 B x parallel {}",
                plan.output_buffer, self.vocab_size, req.parallel
            ),
            format!("allowance = {} B: allocator alignment and graph metadata, not the GPU driver's context", plan.overhead),
            format!("total = {} B of {} B: {}", plan.total, req.vram_bytes, if plan.fits { "fits" } else { "does not fit" }),
        ]
    }

    fn explain_weights(&self, plan: &Plan) -> String {
        let w = plan.weights;
        match (self.tensors, plan.request.device()) {
            (None, _) => format!("weights = {w} B: the server's model size, all on the device (no tensor table)"),
            (Some(_), Device::Cpu) => format!(
                "weights = {w} B: the tensor table's sizes, mapped in host memory; repacked = {} B: the Q4_0, Q4_K and IQ4_NL matrix weights copied into the CPU's interleaved layout",
                plan.repacked
            ),
            (Some(t), Device::Gpu) => format!(
                "weights = {w} B on the GPU: the tensor table's sizes{}; token_embd.weight ({} B) stays in host memory (input layer)",
                if t.tied_output { ", with the output layer's copy of the tied embedding" } else { " less the token embedding" },
                plan.host_weights
            ),
        }
    }

    /// Bytes of the output buffer: one row of logits per sequence.
    pub fn output_buffer(&self, parallel: u64) -> u64 {
        self.vocab_size.saturating_mul(4).saturating_mul(parallel)
    }

    /// The plan for `req`.
    pub fn plan(&self, req: &PlanRequest) -> Plan {
        let count = |k: LayerKind| self.layers.iter().filter(|x| **x == k).count();
        let first_full = self.layers.iter().position(|k| *k == LayerKind::Full).unwrap_or(0);
        let kv_bytes_per_token = self
            .layers
            .iter()
            .enumerate()
            .filter(|(_, k)| **k == LayerKind::Full)
            .map(|(il, _)| self.kv_per_token(il, req.kv_type))
            .fold(0, u64::saturating_add);
        let total = self.total(req, req.ctx, req.parallel);
        let fits_at = |ctx: u64, p: u64| self.total(req, ctx, p) <= req.vram_bytes;
        // Largest context at this parallelism, by bisection.
        // Bounded by the trained context: a longer one would fit but not work.
        let (mut lo, mut hi) = (0u64, self.trained_context.unwrap_or(1 << 24));
        while lo < hi {
            let mid = (lo + hi).div_ceil(2);
            if fits_at(mid, req.parallel) {
                lo = mid
            } else {
                hi = mid - 1
            }
        }
        let max_ctx = lo;
        let mut max_parallel = 0;
        while max_parallel < 1024 && fits_at(req.ctx, max_parallel + 1) {
            max_parallel += 1;
        }
        let (weights, repacked, host_weights) = self.weights(req.device());
        Plan {
            request: req.clone(),
            architecture: self.architecture.clone(),
            weights,
            repacked,
            host_weights,
            kv_bytes_per_token_per_full_layer: self.kv_per_token(first_full, req.kv_type),
            kv_bytes_per_token,
            full_layers: count(LayerKind::Full),
            sliding_layers: count(LayerKind::Sliding),
            recurrent_layers: count(LayerKind::Recurrent),
            kv_cache: self.kv_cache(req, req.ctx, req.parallel),
            recurrent_state: (count(LayerKind::Recurrent) as u64)
                .saturating_mul(self.recurrent_state_bytes)
                .saturating_mul(req.parallel),
            compute_buffer: self.compute_buffer(req, req.ctx),
            output_buffer: self.output_buffer(req.parallel),
            overhead: req.overhead_bytes,
            total,
            fits: total <= req.vram_bytes,
            headroom: (i128::from(req.vram_bytes) - i128::from(total)).clamp(i64::MIN.into(), i64::MAX.into()) as i64,
            max_ctx,
            max_parallel,
        }
    }
}

/// [`parse_bytes`], with an error that says what was expected.
pub fn parse_size(s: &str) -> Result<u64, PlanError> {
    parse_bytes(s).ok_or_else(|| setting(s, "a size such as 32GiB, 24GB or 512MiB"))
}

/// Parses `32GiB`, `24GB`, `512MiB` or a plain byte count.
pub fn parse_bytes(s: &str) -> Option<u64> {
    let s = s.trim();
    let split = s.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(s.len());
    let (n, unit) = s.split_at(split);
    let n: f64 = n.parse().ok()?;
    let mult: f64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1.0,
        "kib" => 1024.0,
        "mib" => 1024.0 * 1024.0,
        "gib" => 1024.0 * 1024.0 * 1024.0,
        "tib" => 1024f64.powi(4),
        "kb" | "k" => 1e3,
        "mb" | "m" => 1e6,
        "gb" | "g" => 1e9,
        "tb" | "t" => 1e12,
        _ => return None,
    };
    Some((n * mult) as u64)
}

impl Plan {
    /// The plan as (component, description) rows for a report: sizes in MiB,
    /// the runtime's settings, the verdict and the largest context and
    /// parallelism that fit.
    pub fn rows(&self) -> Vec<(&'static str, String)> {
        let p = self;
        let verdict = if p.fits {
            format!("fits, {} to spare", mib(p.headroom.unsigned_abs()))
        } else {
            format!("does NOT fit, {} short", mib(p.headroom.unsigned_abs()))
        };
        let r = &p.request;
        let sliding = if r.swa_full() {
            "sliding layers keeping the whole context"
        } else {
            "sliding layers capped at their window"
        };
        vec![
            ("budget", mib(p.request.vram_bytes)),
            (
                "runtime",
                format!(
                    "{}: flash attention {}, micro-batch {}, {} sliding-window cache",
                    r.runtime.as_str(),
                    if r.flash_attn() { "on" } else { "off" },
                    r.ubatch(),
                    if r.swa_full() { "full-size" } else { "windowed" }
                ),
            ),
            ("weights", weights(p)),
            (
                "KV cache",
                format!(
                    "{}: {} tokens x {} sequence(s) at {:?}; {} B/token across {} full-attention layers, {} {sliding}",
                    mib(p.kv_cache),
                    p.request.ctx,
                    p.request.parallel,
                    p.request.kv_type,
                    p.kv_bytes_per_token,
                    p.full_layers,
                    p.sliding_layers
                ),
            ),
            ("recurrent state", format!("{} ({} layers)", mib(p.recurrent_state), p.recurrent_layers)),
            ("compute buffer", mib(p.compute_buffer)),
            ("overhead", mib(p.overhead)),
            ("total", format!("{}: {verdict}", mib(p.total))),
            ("largest context", format!("{} tokens at {} sequence(s)", p.max_ctx, p.request.parallel)),
            ("largest parallelism", format!("{} sequence(s) at {} tokens", p.max_parallel, p.request.ctx)),
        ]
    }
}

fn mib(b: u64) -> String {
    format!("{:.1} MiB", b as f64 / (1024.0 * 1024.0))
}

/// The weights on the device, with the CPU's repacked copies or the
/// embedding left in host memory.
fn weights(p: &Plan) -> String {
    let device = match p.request.device() {
        crate::Device::Gpu => "GPU",
        crate::Device::Cpu => "CPU",
    };
    let mut s = format!("{} on the {device} ({})", mib(p.weights), p.architecture);
    if p.repacked > 0 {
        s.push_str(&format!(" + {} repacked for the CPU", mib(p.repacked)));
    }
    if p.host_weights > 0 {
        s.push_str(&format!("; {} token embedding in host memory", mib(p.host_weights)));
    }
    s
}

/// The plan as a table for a terminal: each component in bytes and GiB,
/// the verdict, and the largest context and parallelism that fit.
impl std::fmt::Display for Plan {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let gib = |b: u64| b as f64 / (1u64 << 30) as f64;
        let (ctx, parallel) = (self.request.ctx, self.request.parallel);
        writeln!(
            f,
            "{} architecture: {} full, {} sliding, {} recurrent layers",
            self.architecture, self.full_layers, self.sliding_layers, self.recurrent_layers
        )?;
        let rows = [
            ("weights", self.weights, String::new()),
            (
                "KV cache",
                self.kv_cache,
                format!("  ({} B/token over full layers, ctx {ctx} x {parallel})", self.kv_bytes_per_token),
            ),
            ("recurrent state", self.recurrent_state, String::new()),
            ("compute buffer", self.compute_buffer, String::new()),
            ("output buffer", self.output_buffer, String::new()),
            ("allowance", self.overhead, String::new()),
        ];
        for (name, bytes, note) in rows {
            writeln!(f, "  {name:<16} {bytes:>14} B  {:>8.2} GiB{note}", gib(bytes))?;
        }
        writeln!(
            f,
            "  {:<16} {:>14} B  {:>8.2} GiB of {:.2} GiB",
            "total",
            self.total,
            gib(self.total),
            gib(self.request.vram_bytes)
        )?;
        writeln!(
            f,
            "  {}; headroom {:.2} GiB",
            if self.fits { "fits" } else { "DOES NOT FIT" },
            self.headroom as f64 / (1u64 << 30) as f64
        )?;
        writeln!(
            f,
            "  largest context at parallel {parallel}: {}; largest parallelism at ctx {ctx}: {}",
            self.max_ctx, self.max_parallel
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn meta(pairs: &[(&str, Value)]) -> BTreeMap<String, Value> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.clone())).collect()
    }

    /// The seed's Qwen3.6-35B-A3B: 40 layers, every fourth one Gated Attention
    /// with 2 KV heads of dimension 256; the rest Gated DeltaNet.
    fn qwen() -> ModelShape {
        let m = meta(&[
            ("general.architecture", json!("qwen35moe")),
            ("qwen35moe.block_count", json!(40)),
            ("qwen35moe.attention.head_count", json!(16)),
            ("qwen35moe.attention.head_count_kv", json!(2)),
            ("qwen35moe.attention.key_length", json!(256)),
            ("qwen35moe.attention.value_length", json!(256)),
            ("qwen35moe.full_attention_interval", json!(4)),
            ("qwen35moe.embedding_length", json!(2048)),
            ("qwen35moe.vocab_size", json!(151936)),
            ("qwen35moe.ssm.conv_kernel", json!(4)),
            ("qwen35moe.ssm.inner_size", json!(4096)),
            ("qwen35moe.ssm.state_size", json!(128)),
            ("qwen35moe.ssm.group_count", json!(16)),
        ]);
        ModelShape::from_metadata(&m, 24_000_000_000).unwrap()
    }

    fn req(ctx: u64, kv: KvType) -> PlanRequest {
        PlanRequest {
            vram_bytes: parse_bytes("32GiB").unwrap(),
            ctx,
            parallel: 1,
            kv_type: kv,
            overhead_bytes: 512 << 20,
            runtime: Runtime::LlamaCpp,
            policy: Policy::default(),
        }
    }

    #[test]
    fn weights_divide_between_devices_as_llama_cpp_places_them() {
        let split = TensorSplit { token_embedding: 170 << 20, tied_output: true, repackable: 12 << 20 };
        let shape = ModelShape { tensors: Some(split), weight_bytes: 235 << 20, ..qwen() };
        let on = |device, tied_output| {
            let shape = ModelShape { tensors: Some(TensorSplit { tied_output, ..split }), ..shape.clone() };
            let p =
                shape.plan(&PlanRequest { policy: Policy { device, ..Policy::default() }, ..req(4096, KvType::F16) });
            (
                p.weights,
                p.repacked,
                p.host_weights,
                p.total - p.kv_cache - p.recurrent_state - p.compute_buffer - p.output_buffer - p.overhead,
            )
        };
        // A GPU: the embedding stays on the host; a tied output is copied to the device.
        assert_eq!(on(None, true), (235 << 20, 0, 170 << 20, 235 << 20));
        assert_eq!(on(Some(Device::Gpu), false), (65 << 20, 0, 170 << 20, 65 << 20));
        // A CPU: the mapped file and the repacked copies, both counted.
        assert_eq!(on(Some(Device::Cpu), true), (235 << 20, 12 << 20, 0, 247 << 20));
        // Without a tensor table: everything on the device, as before.
        let bare = ModelShape { tensors: None, ..shape }.plan(&req(4096, KvType::F16));
        assert_eq!((bare.weights, bare.repacked, bare.host_weights), (235 << 20, 0, 0));
        assert_eq!("CPU".parse::<Device>().unwrap(), Device::Cpu);
    }

    #[test]
    fn settings_parse_or_say_what_was_expected() {
        assert_eq!("Q8_0".parse::<KvType>().unwrap(), KvType::Q8_0);
        assert_eq!("llama-cpp-python".parse::<Runtime>().unwrap(), Runtime::LlamaCppPython);
        assert_eq!(parse_size("1GiB").unwrap(), 1 << 30);
        let e = "q3".parse::<KvType>().unwrap_err().to_string();
        assert_eq!(e, r#""q3": expected f16, q8_0, q4_0 or f32"#);
        let e = parse_size("32 parsecs").unwrap_err().to_string();
        assert!(e.starts_with(r#""32 parsecs": expected a size"#), "{e}");
        assert!("vllm".parse::<Runtime>().unwrap_err().to_string().contains("llama.cpp, llama-cpp-python or ollama"));
    }

    #[test]
    fn qwen_kv_is_10880_bytes_per_token_at_q8_0() {
        let plan = qwen().plan(&req(8192, KvType::Q8_0));
        assert_eq!(plan.full_layers, 10);
        assert_eq!(plan.recurrent_layers, 30);
        assert_eq!(plan.kv_bytes_per_token, 10 * 2 * 2 * 256 * 34 / 32);
        assert_eq!(plan.kv_bytes_per_token, 10_880);
        assert_eq!(plan.kv_cache, 10_880 * 8192);
        assert!(plan.fits, "{plan:?}");
        // The recurrent state does not grow with the context.
        let long = qwen().plan(&req(65536, KvType::Q8_0));
        assert_eq!(long.recurrent_state, plan.recurrent_state);
    }

    #[test]
    fn parallel_multiplies_the_cache_and_limits_are_consistent() {
        let one = qwen().plan(&req(8192, KvType::Q8_0));
        let mut r = req(8192, KvType::Q8_0);
        r.parallel = 4;
        r.policy.kv_unified = Some(false);
        let four = qwen().plan(&r);
        assert_eq!(four.kv_cache, 4 * one.kv_cache);
        assert_eq!(four.recurrent_state, 4 * one.recurrent_state);
        assert_eq!(four.output_buffer, 4 * one.output_buffer);
        // Slots sharing one cache (llama-server's default): the context's
        // cells are shared; each slot keeps its own recurrent state and logits.
        r.policy.kv_unified = Some(true);
        let shared = qwen().plan(&r);
        assert_eq!(shared.kv_cache, one.kv_cache);
        assert_eq!(shared.recurrent_state, 4 * one.recurrent_state);
        assert_eq!(shared.output_buffer, 4 * one.output_buffer);
        assert_eq!(PlanRequest::new(1, 8192, KvType::F16, Runtime::LlamaCpp).parallel, 4);
        assert_eq!(PlanRequest::new(1, 8192, KvType::F16, Runtime::Ollama).parallel, 1);
        let at_max = qwen().plan(&req(one.max_ctx, KvType::Q8_0));
        assert!(at_max.fits);
        assert!(!qwen().plan(&req(one.max_ctx + 1, KvType::Q8_0)).fits);
        assert!(one.max_parallel >= 1);
    }

    #[test]
    fn gemma3_layer_pattern_caps_sliding_layers_by_runtime() {
        let m = meta(&[
            ("general.architecture", json!("gemma3")),
            ("gemma3.block_count", json!(18)),
            ("gemma3.attention.head_count", json!(4)),
            ("gemma3.attention.head_count_kv", json!(1)),
            ("gemma3.attention.key_length", json!(256)),
            ("gemma3.attention.value_length", json!(256)),
            ("gemma3.attention.sliding_window", json!(512)),
            ("gemma3.embedding_length", json!(640)),
        ]);
        let shape = ModelShape::from_metadata(&m, 253_000_000).unwrap();
        let plan = shape.plan(&req(8192, KvType::F16));
        assert_eq!((plan.full_layers, plan.sliding_layers), (3, 15));
        // 1 KV head x (256 + 256) x 2 bytes = 1024 bytes per token per layer.
        assert_eq!(plan.kv_bytes_per_token_per_full_layer, 1024);
        // llama.cpp: window + micro-batch cells, padded to 256.
        assert_eq!(plan.kv_cache, 3 * 8192 * 1024 + 15 * 1024 * 1024);
        // llama-cpp-python: a full-size SWA cache.
        let full = shape.plan(&PlanRequest { runtime: Runtime::LlamaCppPython, ..req(8192, KvType::F16) });
        assert_eq!(full.kv_cache, 18 * 8192 * 1024);
        // A context shorter than the window's cells caps them.
        assert_eq!(shape.plan(&req(600, KvType::F16)).kv_cache, 18 * 600 * 1024);
        // llama-server's four slots sharing one cache: a window for each.
        let slots = shape.plan(&PlanRequest::new(1 << 30, 8192, KvType::F16, Runtime::LlamaCpp));
        assert_eq!(slots.kv_cache, 3 * 8192 * 1024 + 15 * (4 * 512 + 512) * 1024);
    }

    #[test]
    fn hostile_metadata_is_refused_or_reads_as_not_fitting() {
        use serde_json::json;
        let huge = meta(&[("general.architecture", json!("llama")), ("llama.block_count", json!(u64::MAX))]);
        assert!(ModelShape::from_metadata(&huge, 1).is_none());
        let wide = meta(&[
            ("general.architecture", json!("llama")),
            ("llama.block_count", json!(4096)),
            ("llama.attention.head_count", json!(1u64 << 24)),
            ("llama.attention.key_length", json!(1u64 << 24)),
            ("llama.ssm.conv_kernel", json!(1u64 << 24)),
            ("llama.ssm.inner_size", json!(1u64 << 24)),
            ("llama.ssm.state_size", json!(1u64 << 24)),
            ("llama.ssm.group_count", json!(1u64 << 24)),
        ]);
        let shape = ModelShape::from_metadata(&wide, u64::MAX - 1).unwrap();
        let plan = shape.plan(&req(1 << 20, KvType::F16));
        assert!(!plan.fits && plan.total == u64::MAX && plan.headroom < 0, "{plan:?}");
        let too_wide = meta(&[
            ("general.architecture", json!("llama")),
            ("llama.block_count", json!(2)),
            ("llama.embedding_length", json!(1u64 << 40)),
        ]);
        assert!(ModelShape::from_metadata(&too_wide, 1).is_none());
    }

    #[test]
    fn block_sizes_match_ggml() {
        use crate::gguf::block_size;
        assert_eq!(block_size(12), Some((144, 256))); // Q4_K: 4.5 bits
        assert_eq!(block_size(13), Some((176, 256))); // Q5_K
        assert_eq!(block_size(14), Some((210, 256))); // Q6_K: 6.5625 bits
        assert_eq!(block_size(8), Some((34, 32))); // Q8_0
        assert_eq!(block_size(2), Some((18, 32))); // Q4_0
        assert_eq!(block_size(1), Some((2, 1))); // F16
        assert_eq!(KvType::Q8_0.bytes_per_element(), (34, 32));
        assert_eq!(KvType::Q4_0.bytes_per_element(), (18, 32));
        assert_eq!(parse_bytes("32GiB"), Some(32 << 30));
    }
}
