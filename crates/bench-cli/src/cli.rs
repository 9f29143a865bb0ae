use std::path::PathBuf;

use bench_eval::args::{DeriveArgs, EvalArgs, GradingArgs, PlanArgs, RunArgs, SamplingArgs, SourceArgs};
use bench_eval::matrix::Engine;
use clap::{Parser, Subcommand};

/// Contamination-resistant, on-premises evaluation of code models on your own
/// Python repository. Exit codes: 0 success, 1 a failed check, 2 bad input.
#[derive(Debug, Parser)]
#[command(name = "bench-cli", version, args_override_self = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

// Parsed once per process; boxing the large `eval` arguments buys nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Read a source into a content-addressed snapshot.
    #[command(after_help = "Example:\n  bench-cli scan cerberus-1.3.4.tar.gz --json")]
    Scan {
        #[command(flatten)]
        src: SourceArgs,
        #[arg(long)]
        json: bool,
    },
    /// Parse the snapshot's Python into signatures, imports and significant methods.
    #[command(after_help = "Example:\n  bench-cli extract ./myrepo --rev v1.2.0 --json")]
    Extract {
        #[command(flatten)]
        src: SourceArgs,
        #[arg(long)]
        json: bool,
    },
    /// Synthesise the stratified task set and write it as JSON.
    #[command(
        after_help = "Examples:\n  bench-cli synth cerberus-1.3.4.tar.gz --out tasks.json\n  bench-cli synth cerberus-1.3.4.tar.gz --python .tools/testenv/bin/python --out tasks.json"
    )]
    Synth {
        #[command(flatten)]
        derive: DeriveArgs,
        /// Number of tasks (default: the rules' quota, 60), or `max` for every
        /// scoring unit the repository supports.
        #[arg(long, value_parser = bench_eval::args::parse_count)]
        count: Option<usize>,
        #[arg(long)]
        out: PathBuf,
        #[arg(long)]
        json: bool,
    },
    /// Re-derive a task set from its source and check it is byte-identical (exit 1 if not).
    #[command(after_help = "Example:\n  bench-cli verify cerberus-1.3.4.tar.gz --tasks tasks.json")]
    Verify {
        #[command(flatten)]
        derive: DeriveArgs,
        #[arg(long)]
        tasks: PathBuf,
    },
    /// Gaming floors: run answerers without understanding (stub bodies, constant
    /// verdicts, a string matcher that knows the tool's templates) against a task
    /// set; exit 1 when a stratum's floor exceeds 10%.
    #[command(
        after_help = "Examples:\n  bench-cli calibrate --tasks tasks.json\n  bench-cli calibrate --tasks tasks.json --source cerberus-1.3.4.tar.gz --python .tools/testenv/bin/python --db results.sqlite"
    )]
    Calibrate {
        #[arg(long)]
        tasks: PathBuf,
        /// Record the floors in this store, for the report.
        #[arg(long)]
        db: Option<PathBuf>,
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        grading: GradingArgs,
    },
    /// Print the default extraction-and-synthesis rules (YAML).
    Rules,
    /// Plan VRAM for a model: weights, KV cache, recurrent state, compute buffer (exit 1 if it does not fit).
    #[command(
        after_help = "Examples:\n  bench-cli plan --gguf gemma-3-270m-q4_k_m.gguf --vram 8GiB --ctx 8192\n  bench-cli plan --ollama-model qwen3.6:35b-a3b --vram 32GiB --ctx 8192 --kv-cache q8_0 --json"
    )]
    Plan {
        #[command(flatten)]
        plan: PlanArgs,
        /// Each component with its formula and the metadata keys it used.
        #[arg(long, conflicts_with = "json")]
        explain: bool,
        #[arg(long)]
        json: bool,
    },
    /// Run a task set against one model, one request at a time, into the store.
    #[command(
        after_help = "Example:\n  bench-cli run --tasks tasks.json --backend openai --endpoint http://127.0.0.1:8080 --model gemma3 --db results.sqlite"
    )]
    Run {
        /// A task set written by `synth`.
        #[arg(long)]
        tasks: PathBuf,
        /// The model name as the server knows it.
        #[arg(long)]
        model: String,
        /// The result store: a SQLite file (created if missing) or postgres://USER@HOST/DB (shared).
        #[arg(long)]
        db: PathBuf,
        #[command(flatten)]
        run: RunArgs,
        /// Continue the latest run with the same task set, model, endpoint and
        /// options (batch backends always do).
        #[arg(long)]
        resume: bool,
        /// Acknowledge egress by name: openai, anthropic, or a remote endpoint's host.
        #[arg(long = "egress", value_name = "PROVIDER")]
        egress: Vec<String>,
    },
    /// Grade (or re-grade, idempotently) stored completions against ground truth.
    #[command(
        after_help = "Examples:\n  bench-cli grade --db results.sqlite --run 1\n  bench-cli grade --db results.sqlite --source cerberus-1.3.4.tar.gz --python .tools/testenv/bin/python"
    )]
    Grade {
        #[arg(long)]
        db: PathBuf,
        #[arg(long)]
        run: Option<i64>,
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        grading: GradingArgs,
    },
    /// Write a report: manifest, pass rates with 95% intervals, findings, per-task table.
    #[command(after_help = "Example:\n  bench-cli report --db results.sqlite --format html --out report.html")]
    Report {
        #[arg(long)]
        db: PathBuf,
        /// md, html or json.
        #[arg(long, default_value = "md")]
        format: bench_report::Format,
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Write one promptfoo config per model (plus a README with the commands).
    #[command(
        name = "emit-promptfoo",
        after_help = "Example:\n  bench-cli emit-promptfoo --tasks tasks.json --model ollama:qwen3:32b --model openai:gemma3@http://127.0.0.1:8080/v1 --out-dir promptfoo/"
    )]
    EmitPromptfoo {
        #[arg(long)]
        tasks: PathBuf,
        /// ollama:MODEL[@URL] or openai:MODEL[@URL]; repeat for several models.
        #[arg(long = "model", required = true)]
        models: Vec<String>,
        #[arg(long)]
        out_dir: PathBuf,
        #[command(flatten)]
        sampling: SamplingArgs,
    },
    /// Read a promptfoo results JSON into the store as a run, and grade it.
    #[command(
        name = "ingest-promptfoo",
        after_help = "Example:\n  bench-cli ingest-promptfoo results/openai-gemma3.json --tasks tasks.json --db results.sqlite"
    )]
    IngestPromptfoo {
        results: PathBuf,
        #[arg(long)]
        tasks: PathBuf,
        #[arg(long)]
        db: PathBuf,
        #[command(flatten)]
        grading: GradingArgs,
    },
    /// Merge result stores from machines that cannot reach a shared one. Idempotent; a
    /// conflicting row (the same run and task, a different answer) is refused, naming both.
    #[command(after_help = "Example:\n  bench-cli merge node1.sqlite node2.sqlite --into results.sqlite")]
    Merge {
        /// Stores to read (each is merged whole or not at all).
        #[arg(required = true)]
        sources: Vec<PathBuf>,
        /// The store to write (created if missing).
        #[arg(long)]
        into: PathBuf,
    },
    /// An evaluation matrix (sources x models) on a scheduler: plan, submit, status.
    #[command(subcommand)]
    Matrix(MatrixCommand),
    /// The main job: scan, extract, synthesise, plan, run each model, grade, report. Resumable.
    #[command(
        after_help = "Example:\n  bench-cli eval cerberus-1.3.4.tar.gz --backend openai --endpoint http://127.0.0.1:8080 \\\n      --model gemma3 --gguf gemma-3-270m-q4_k_m.gguf --python .tools/testenv/bin/python \\\n      --db results.sqlite --out-dir out/"
    )]
    Eval(EvalArgs),
}

#[derive(Debug, Subcommand)]
pub enum MatrixCommand {
    /// List the cells, each with its eval command and VRAM plan.
    #[command(after_help = "Example:\n  bench-cli matrix plan matrix.yaml")]
    Plan { file: PathBuf },
    /// Write the scheduler's job for every cell and submit it (one GPU per cell).
    #[command(
        after_help = "Examples:\n  bench-cli matrix submit matrix.yaml --engine slurm\n  bench-cli matrix submit matrix.yaml --engine kubernetes --image registry.local/bench:0.2"
    )]
    Submit {
        file: PathBuf,
        #[arg(long, value_enum, default_value_t = Engine::Slurm)]
        engine: Engine,
        /// Write the job without submitting it.
        #[arg(long)]
        no_submit: bool,
        /// The container image for Kubernetes (holding bench-cli and the sources).
        #[arg(long, default_value = "bench-cli:latest")]
        image: String,
    },
    /// Each cell's progress, from the shared store.
    Status {
        file: PathBuf,
        #[arg(long)]
        json: bool,
    },
}
