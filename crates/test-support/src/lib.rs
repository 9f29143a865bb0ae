//! What the workspace's tests and benches share, and nothing else uses: the
//! paths of the real tools `scripts/setup-tools.sh` installs ([`tools`]) and
//! a local server that speaks Ollama's documented API ([`ollama_server`]).
//! A dev-dependency only; never published.

#![allow(clippy::unwrap_used)] // test helpers fail loudly

pub mod batch_server;
pub mod github_server;
mod http;
pub mod ollama_server;
pub mod props_server;
pub mod tools;

/// `n` bug-localisation tasks with trivial prompts (ids `task0`, `task1`, ...),
/// for exercising a runner rather than a model.
pub fn tasks(n: usize) -> Vec<bench_core::Task> {
    use bench_core::{Category, Expected, Prompt, Task, Tier};
    (0..n)
        .map(|i| Task {
            id: format!("task{i}"),
            category: Category::CodeUnderstanding,
            tier: Tier::T1,
            tier_rule: String::new(),
            file: "m.py".into(),
            symbol: "f".into(),
            span: [1, 2],
            prompt: Prompt { system: "s".into(), user: format!("task number {i}") },
            expected: Expected::CodeUnderstanding { line: None, operator: None, original_line: None, pair: None },
            evidence: Default::default(),
        })
        .collect()
}
