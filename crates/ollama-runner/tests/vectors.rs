//! Test vectors for the models the write-up names, from their published
//! metadata written into the test (no weights are downloaded): KV bytes per
//! token at f16 and q8_0, and the 32 GiB verdict at 8k and 32k context under
//! llama.cpp's server profile. Weights are the published Q4_K_M file sizes.
//!
//! Gemma 4 31B, which the write-up also names, has no vector: neither its
//! GGUF metadata nor its config was available to this project (no network
//! beyond the package registries, and no package carries them), and a vector
//! from guessed dimensions would pin a guess.

#![allow(clippy::unwrap_used)] // tests fail loudly

use std::collections::BTreeMap;

use ollama_runner::plan::{KvType, ModelShape, PlanRequest, Runtime};
use serde_json::{json, Value};

struct Vector {
    name: &'static str,
    /// Where the metadata comes from.
    source: &'static str,
    meta: Vec<(&'static str, Value)>,
    weight_bytes: u64,
    kv_f16: u64,
    kv_q8_0: u64,
    /// Fits 32 GiB at (8k, 32k) with an f16 cache.
    fits_f16: (bool, bool),
}

fn vectors() -> Vec<Vector> {
    vec![
        Vector {
            name: "Qwen3.6-35B-A3B Q4_K_M",
            source: "the write-up's figure (10,880 B/token at q8_0) and the qwen35moe GGUF keys: 40 blocks, \
                     a full-attention layer every 4th (the rest Gated DeltaNet), 2 KV heads of 256",
            meta: vec![
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
            ],
            weight_bytes: 24_000_000_000, // an estimate: the Q4_K_M file size is not in the write-up
            kv_f16: 10 * 2 * 2 * 256 * 2,
            kv_q8_0: 10_880,
            fits_f16: (true, true),
        },
        Vector {
            name: "DeepSeek-R1-Distill-Qwen-32B Q4_K_M",
            source: "the model's config.json (Qwen2.5-32B base): 64 layers, hidden 5120, 40 heads, 8 KV heads, \
                     head dim 128, vocabulary 152064, 131072 positions",
            meta: vec![
                ("general.architecture", json!("qwen2")),
                ("qwen2.block_count", json!(64)),
                ("qwen2.embedding_length", json!(5120)),
                ("qwen2.attention.head_count", json!(40)),
                ("qwen2.attention.head_count_kv", json!(8)),
                ("qwen2.context_length", json!(131072)),
                ("qwen2.vocab_size", json!(152064)),
            ],
            weight_bytes: 19_850_000_000,
            kv_f16: 64 * 2 * 128 * 8 * 2,
            kv_q8_0: 64 * 2 * 128 * 8 * 34 / 32,
            fits_f16: (true, true),
        },
        Vector {
            name: "Mistral NeMo 12B Q4_K_M",
            source: "the model's config.json (Mistral-Nemo-Base-2407): 40 layers, hidden 5120, 32 heads, \
                     8 KV heads, head dim 128 (not hidden / heads), vocabulary 131072",
            meta: vec![
                ("general.architecture", json!("llama")),
                ("llama.block_count", json!(40)),
                ("llama.embedding_length", json!(5120)),
                ("llama.attention.head_count", json!(32)),
                ("llama.attention.head_count_kv", json!(8)),
                ("llama.attention.key_length", json!(128)),
                ("llama.attention.value_length", json!(128)),
                ("llama.context_length", json!(1024000)),
                ("llama.vocab_size", json!(131072)),
            ],
            weight_bytes: 7_480_000_000,
            kv_f16: 40 * 2 * 128 * 8 * 2,
            kv_q8_0: 40 * 2 * 128 * 8 * 34 / 32,
            fits_f16: (true, true),
        },
        Vector {
            name: "Gemma 3 270M Q4_K_M",
            source: "the GGUF file's own header (the setup's model): 18 blocks, one global layer in six, \
                     window 512, one KV head of 256",
            meta: vec![
                ("general.architecture", json!("gemma3")),
                ("gemma3.block_count", json!(18)),
                ("gemma3.embedding_length", json!(640)),
                ("gemma3.attention.head_count", json!(4)),
                ("gemma3.attention.head_count_kv", json!(1)),
                ("gemma3.attention.key_length", json!(256)),
                ("gemma3.attention.value_length", json!(256)),
                ("gemma3.attention.sliding_window", json!(512)),
                ("gemma3.context_length", json!(32768)),
                ("gemma3.vocab_size", json!(262144)),
            ],
            weight_bytes: 246_587_904,
            kv_f16: 3 * 2 * 256 * 2,
            kv_q8_0: 3 * 2 * 256 * 34 / 32,
            fits_f16: (true, true),
        },
    ]
}

#[test]
fn the_write_up_models_plan_as_published() {
    for v in vectors() {
        let meta: BTreeMap<String, Value> = v.meta.iter().map(|(k, x)| (k.to_string(), x.clone())).collect();
        let shape = ModelShape::from_metadata(&meta, v.weight_bytes).unwrap();
        let plan = |ctx: u64, kv_type: KvType| {
            shape.plan(&PlanRequest {
                vram_bytes: 32 << 30,
                ctx,
                parallel: 1,
                kv_type,
                overhead_bytes: ollama_runner::PLAN_OVERHEAD,
                runtime: Runtime::LlamaCpp,
                policy: Default::default(),
            })
        };
        let (f16, q8) = (plan(8192, KvType::F16), plan(8192, KvType::Q8_0));
        assert_eq!(f16.kv_bytes_per_token, v.kv_f16, "{} ({})", v.name, v.source);
        assert_eq!(q8.kv_bytes_per_token, v.kv_q8_0, "{} ({})", v.name, v.source);
        let verdict = (f16.fits, plan(32768, KvType::F16).fits);
        assert_eq!(verdict, v.fits_f16, "{}: 32 GiB at 8k/32k", v.name);
        eprintln!(
            "{}: {} B/token f16, {} B/token q8_0; 32 GiB at 8k: {:.2} GiB, at 32k: {:.2} GiB",
            v.name,
            v.kv_f16,
            v.kv_q8_0,
            f16.total as f64 / (1u64 << 30) as f64,
            plan(32768, KvType::F16).total as f64 / (1u64 << 30) as f64
        );
    }
}
