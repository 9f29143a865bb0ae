//! Runs a task set one request at a time against a local model server, under
//! the conditions that keep the numbers honest (DESIGN.md §6): temperature 0,
//! a fixed seed, context and output budget, one stream, the whole model
//! resident in VRAM, and nothing leaving the network.
//!
//! Two [`Backend`]s: Ollama's native API ([`OllamaBackend`]) and any
//! OpenAI-compatible chat server ([`OpenAiBackend`]: llama.cpp, vLLM, LM
//! Studio, Ollama's `/v1`). The `vram-plan` crate (re-exported as [`plan`]
//! and [`gguf`]) sizes weights, KV cache and recurrent state against a VRAM
//! budget from GGUF metadata. [`run`] writes
//! every result through a [`bench_core::ResultSink`] the moment it arrives.
//! [`prepare`] wraps it into a whole run: the air-gap check, the model's
//! description, the plan (refused when it does not fit), the manifest, and
//! [`Prepared::execute`], which records what the run observed. [`AnyBackend`]
//! picks a backend at run time. Errors come per operation: [`EndpointError`]
//! (opening an endpoint), [`BackendError`] (one request), [`RunError`] (a run).
//!
//! ```no_run
//! # async fn demo() -> Result<(), ollama_runner::RunError> {
//! use ollama_runner::{Backend, OpenAiBackend, Request};
//! let backend = OpenAiBackend::new("http://127.0.0.1:8080")?;
//! let req = Request::new("gemma3", "You are terse.", "Say hi.", &Default::default());
//! let reply = backend.complete(&req, std::time::Duration::from_secs(60)).await?;
//! println!("{} ({:?} tokens)", reply.text, reply.completion_tokens);
//! # Ok(()) }
//! ```

mod airgap;
mod any;
mod backend;
pub mod batch;
mod error;
mod ollama;
mod openai;
mod run;
mod session;

// The planner is its own crate; its modules stay reachable from here.
pub use vram_plan::{gguf, plan, PlanError};

pub use airgap::{acknowledged, endpoint_host, endpoint_scope, require_local};
pub use any::{AnyBackend, BackendKind};
pub use backend::{Backend, ModelInfo, Reply, Request, Residency};
pub use bench_core::error_chain;
pub use error::{BackendError, BoxError, EndpointError, RunError};
pub use ollama::OllamaBackend;
pub use openai::OpenAiBackend;
pub use run::{run, Progress, RunConfig, RunSummary, WARMUP_TASK_ID};
pub use session::{describe_model, infer_runtime, prepare, Finished, Prepared, RunSpec, PLAN_OVERHEAD};

/// The limit on control requests (describe, residency, unload, version) and
/// on connecting; completions have their own per-task timeout.
pub const CONTROL_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);
