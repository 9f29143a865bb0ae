//! Writes a task set as promptfoo configs, one per model, so each model runs
//! in its own promptfoo process and a slow model load cannot starve another
//! provider; and reads promptfoo's results JSON back as completions.
//!
//! ```
//! use promptfoo_emit::ModelSpec;
//! let spec = ModelSpec::parse("ollama:qwen3:32b").unwrap();
//! assert_eq!(spec.model, "qwen3:32b");
//! assert_eq!(spec.slug(), "ollama-qwen3-32b");
//! ```

mod emit;
mod error;
mod ingest;

pub use emit::{config, readme, write_dir, ModelSpec, Provider};
pub use error::EmitError;
pub use ingest::{ingest, Ingested};
