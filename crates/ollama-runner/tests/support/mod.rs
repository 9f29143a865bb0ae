#![allow(clippy::unwrap_used)] // tests and benches fail loudly

pub mod ollama_server;
