//! The VRAM planner alone: reads a GGUF file's header ([`gguf`]), sizes the
//! weights per device, the KV cache, recurrent state and buffers against a
//! budget ([`plan`]), and renders the plan as text ([`Plan`]'s `Display`).
//! No HTTP, no runtime: a tool that only needs to know whether a model fits
//! depends on this crate, not on the runner.
//!
//! ```no_run
//! # fn demo() -> Result<(), vram_plan::PlanError> {
//! use vram_plan::{parse_bytes, KvType, PlanRequest, Runtime};
//! let shape = vram_plan::gguf::shape(std::path::Path::new("model.gguf"))?;
//! let request = PlanRequest::new(parse_bytes("24GiB").unwrap_or(0), 8192, KvType::F16, Runtime::LlamaCpp);
//! let plan = shape.plan(&request);
//! print!("{plan}");
//! # Ok(()) }
//! ```

mod error;
pub mod gguf;
pub mod plan;

pub use error::PlanError;
pub use plan::{parse_bytes, parse_size, Device, KvType, ModelShape, Plan, PlanRequest, Policy, Runtime};

/// The allowance the plan leaves on top of its modelled components: the
/// graph's and tensors' metadata (about 1 MiB for a 300-tensor model at
/// llama.cpp's 8 nodes per tensor) and allocator alignment, with room to
/// spare. It is not where errors hide: with every component modelled, it is
/// most of the gap between plan and allocation (see the runner's
/// `tests/allocations.rs`).
pub const PLAN_OVERHEAD: u64 = 8 << 20;
