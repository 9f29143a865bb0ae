//! Uses `promptfoo-emit` alone: writes one promptfoo config per model for a
//! task set (from `bench-cli synth` or the `synth_tasks` example), with a
//! README saying how to run them, and lists what it wrote.
//!
//! cargo run -p examples --example emit_promptfoo -- tasks.json out/ ollama:qwen3:32b openai:gemma3@http://127.0.0.1:8080/v1

use bench_core::{SamplingOptions, TaskSet};
use promptfoo_emit::{write_dir, ModelSpec};

fn main_() -> Result<(), String> {
    let args: Vec<String> = std::env::args().collect();
    let [_, tasks, out, models @ ..] = args.as_slice() else {
        return Err("usage: emit_promptfoo TASKS.json OUT_DIR PROVIDER:MODEL[@URL]...".into());
    };
    if models.is_empty() {
        return Err("name at least one model, e.g. ollama:qwen3:32b".into());
    }
    let text = std::fs::read_to_string(tasks).map_err(|e| format!("{tasks}: {e}"))?;
    let set: TaskSet = serde_json::from_str(&text).map_err(|e| format!("{tasks}: not a task set: {e}"))?;
    let specs = models.iter().map(|m| ModelSpec::parse(m)).collect::<Result<Vec<_>, _>>().map_err(|e| e.to_string())?;
    let written =
        write_dir(std::path::Path::new(out), &set, &specs, &SamplingOptions::default()).map_err(|e| e.to_string())?;
    for path in &written {
        println!("wrote {}", path.display());
    }
    println!("{} tasks of {} in {} files", set.tasks.len(), set.taskset_id, written.len());
    Ok(())
}

fn main() {
    if let Err(e) = main_() {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}
