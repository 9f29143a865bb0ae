//! Uses `ollama-runner` alone: runs a task set (from `bench-cli synth`)
//! against an OpenAI-compatible server, writing results as JSON lines through
//! its own `ResultSink`, resumable from that file.
//!
//! cargo run -p ollama-runner --example run_tasks -- tasks.json http://127.0.0.1:8080 gemma3 out.jsonl

use std::collections::BTreeSet;
use std::io::Write;

use bench_core::{Completion, ResultSink, SamplingOptions, SinkError, TaskSet};
use ollama_runner::{OpenAiBackend, RunConfig};

/// One JSON object a line; the file is the resume state.
struct JsonLines(std::path::PathBuf);

impl ResultSink for JsonLines {
    async fn already_done(&mut self) -> Result<BTreeSet<String>, SinkError> {
        let text = std::fs::read_to_string(&self.0).unwrap_or_default();
        Ok(text
            .lines()
            .filter_map(|l| serde_json::from_str::<Completion>(l).ok())
            .filter(|c| c.error.is_none() && c.task_id != ollama_runner::WARMUP_TASK_ID)
            .map(|c| c.task_id)
            .collect())
    }

    async fn record(&mut self, c: &Completion, _warmup: bool) -> Result<(), SinkError> {
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.0)
            .map_err(|e| SinkError(e.to_string()))?;
        let line = serde_json::to_string(c).map_err(|e| SinkError(e.to_string()))?;
        writeln!(f, "{line}").and_then(|_| f.sync_data()).map_err(|e| SinkError(e.to_string()))
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 5 {
        eprintln!("usage: run_tasks TASKS.json ENDPOINT MODEL OUT.jsonl");
        std::process::exit(2);
    }
    let set: TaskSet =
        serde_json::from_str(&std::fs::read_to_string(&args[1]).expect("readable tasks")).expect("a task set");
    let backend = OpenAiBackend::new(&args[2]).expect("a valid endpoint");
    let cfg = RunConfig::new(&args[3], SamplingOptions { num_predict: 128, ..Default::default() });
    let mut sink = JsonLines(args[4].clone().into());
    match ollama_runner::run(&backend, &set.tasks, &mut sink, &cfg, |p| {
        eprintln!("{}/{} {}", p.done, p.total, p.task_id)
    })
    .await
    {
        Ok(s) => println!("{} completed, {} failed, {} already done", s.completed, s.failed, s.skipped_already_done),
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(1);
        }
    }
}
