//! Uses `ollama-runner` alone, as an embedder would: prepares a run (air-gap
//! check, model description, VRAM plan refused when it does not fit, the
//! manifest), runs a task set (from `bench-cli synth`) through its own
//! JSON-lines `ResultSink`, resumable from that file, and writes the
//! finished manifest beside it.
//!
//! cargo run -p examples --example run_tasks -- tasks.json openai http://127.0.0.1:8080 gemma3 out.jsonl [VRAM [GGUF]]

use std::collections::BTreeSet;
use std::io::Write;
use std::path::PathBuf;

use bench_core::{Completion, ResultSink, SamplingOptions, SinkError, TaskSet};
use ollama_runner::plan::parse_bytes;
use ollama_runner::{AnyBackend, BackendKind, RunSpec};

/// One JSON object a line; the file is the resume state.
#[derive(Debug)]
struct JsonLines(PathBuf);

impl ResultSink for JsonLines {
    async fn already_done(&mut self) -> Result<BTreeSet<String>, SinkError> {
        let text = match std::fs::read_to_string(&self.0) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
            Err(e) => return Err(SinkError::new(format!("{}: {e}", self.0.display()))),
        };
        let mut done = BTreeSet::new();
        for (i, line) in text.lines().enumerate() {
            let c: Completion = serde_json::from_str(line)
                .map_err(|e| SinkError::new(format!("{}:{}: not a completion: {e}", self.0.display(), i + 1)))?;
            if c.error.is_none() && c.task_id != ollama_runner::WARMUP_TASK_ID {
                done.insert(c.task_id);
            }
        }
        Ok(done)
    }

    async fn record(&mut self, c: &Completion, _warmup: bool) -> Result<(), SinkError> {
        let err = |e: std::io::Error| SinkError::new(format!("{}: {e}", self.0.display()));
        let mut f = std::fs::OpenOptions::new().create(true).append(true).open(&self.0).map_err(err)?;
        let line = serde_json::to_string(c).map_err(SinkError::new)?;
        writeln!(f, "{line}").and_then(|_| f.sync_data()).map_err(err)
    }
}

async fn main_() -> Result<String, String> {
    let args: Vec<String> = std::env::args().collect();
    let [_, tasks, kind, endpoint, model, out, rest @ ..] = args.as_slice() else {
        return Err("usage: run_tasks TASKS.json ollama|openai ENDPOINT MODEL OUT.jsonl [VRAM [GGUF]]".into());
    };
    let text = std::fs::read_to_string(tasks).map_err(|e| format!("{tasks}: {e}"))?;
    let set: TaskSet = serde_json::from_str(&text).map_err(|e| format!("{tasks}: not a task set: {e}"))?;
    let kind = match kind.as_str() {
        "ollama" => BackendKind::Ollama,
        "openai" => BackendKind::OpenAi,
        other => return Err(format!("{other}: expected ollama or openai")),
    };
    let backend = AnyBackend::new(kind, endpoint).map_err(|e| e.to_string())?;
    let mut spec = RunSpec::new(model, SamplingOptions { num_predict: 128, ..Default::default() });
    if let Some(vram) = rest.first() {
        spec.vram_bytes = Some(parse_bytes(vram).ok_or_else(|| format!("{vram}: expected a size such as 8GiB"))?);
    }
    spec.gguf = rest.get(1).map(PathBuf::from);
    // The plan check happens here: an overcommitted plan is an error.
    let prepared = ollama_runner::prepare(&backend, &set, &spec).await.map_err(|e| e.to_string())?;
    if let Some(plan) = &prepared.plan {
        eprint!("{plan}");
    }
    let mut sink = JsonLines(out.into());
    let finished = prepared
        .execute(&backend, &mut sink, |p| eprintln!("{}/{} {}", p.done, p.total, p.task_id))
        .await
        .map_err(|e| e.to_string())?;
    let manifest = format!("{out}.manifest.json");
    let json = serde_json::to_string_pretty(&finished.manifest).map_err(|e| e.to_string())?;
    std::fs::write(&manifest, json).map_err(|e| format!("{manifest}: {e}"))?;
    let s = &finished.summary;
    Ok(format!(
        "{} completed, {} failed, {} already done; manifest {manifest}",
        s.completed, s.failed, s.skipped_already_done
    ))
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    match main_().await {
        Ok(line) => println!("{line}"),
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(1);
        }
    }
}
