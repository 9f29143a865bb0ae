//! What the workspace's tests and benches share, and nothing else uses: the
//! paths of the real tools `scripts/setup-tools.sh` installs ([`tools`]) and
//! a local server that speaks Ollama's documented API ([`ollama_server`]).
//! A dev-dependency only; never published.

#![allow(clippy::unwrap_used)] // test helpers fail loudly

pub mod ollama_server;
pub mod tools;
