use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};
use ollama_runner::plan::{parse_size, KvType, Runtime};

/// Contamination-resistant, on-premises evaluation of code models on your own
/// Python repository. Exit codes: 0 success, 1 a failed check, 2 bad input.
#[derive(Debug, Parser)]
#[command(name = "bench-cli", version)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

/// Where the repository comes from.
#[derive(Debug, Args)]
pub struct SourceArgs {
    /// A directory, a git repository (with --rev), a .tar.gz/.tgz/.zip/.whl archive, or
    /// github:OWNER/REPO@REF (fetched through the GitHub API and cached by commit).
    pub source: PathBuf,
    /// Read a git repository at this revision (commit, tag or branch) without checking it out.
    #[arg(long)]
    pub rev: Option<String>,
    /// The GitHub API root, for GitHub Enterprise.
    #[arg(long, default_value = "https://api.github.com")]
    pub github_api: String,
    /// Acknowledge egress by name: github, openai, anthropic, or the host of a
    /// remote model server; needed to fetch a github: source, send a batch, or
    /// run against a non-local endpoint. A GitHub token is read from GITHUB_TOKEN.
    #[arg(long = "egress", value_name = "PROVIDER")]
    pub egress: Vec<String>,
}

/// The repository's own tests as the judge of ground truth. Every execution
/// runs sandboxed (bubblewrap: no network, read-only but for a scratch
/// directory, resource limits, a wall-clock timeout).
#[derive(Debug, Clone, Args)]
pub struct ExecArgs {
    /// An interpreter whose environment has the repository's test
    /// dependencies and pytest. Without it, ground truth is structural only.
    #[arg(long)]
    pub python: Option<PathBuf>,
    /// The test command, `pytest ARGS` or `python -m pytest ARGS` (default:
    /// pytest over the repository's test directories, found by the rules).
    #[arg(long, requires = "python")]
    pub test_cmd: Option<String>,
    /// Where baselines and test outcomes are cached (default:
    /// $XDG_CACHE_HOME/bench-cli or ~/.cache/bench-cli).
    #[arg(long)]
    pub cache_dir: Option<PathBuf>,
    /// Wall-clock limit per test run, in seconds.
    #[arg(long, default_value_t = 120)]
    pub test_timeout: u64,
    /// Test runs at once (default: one per core).
    #[arg(long, default_value_t = 0)]
    pub test_jobs: usize,
}

/// Where an existing task set came from, for running its tests.
#[derive(Debug, Clone, Args)]
pub struct OriginArgs {
    /// The task set's source, to run its tests (execution-verified task sets).
    #[arg(long, requires = "python")]
    pub source: Option<PathBuf>,
    #[arg(long, requires = "source")]
    pub rev: Option<String>,
}

impl OriginArgs {
    pub fn source_args(&self) -> Option<SourceArgs> {
        self.source.clone().map(|source| SourceArgs {
            source,
            rev: self.rev.clone(),
            github_api: "https://api.github.com".into(),
            egress: Vec::new(),
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum BackendKind {
    /// Ollama's native API.
    Ollama,
    /// Any OpenAI-compatible chat server (llama.cpp, vLLM, LM Studio, Ollama's /v1).
    Openai,
    /// A remote baseline through OpenAI's Batch API (key from OPENAI_API_KEY;
    /// needs --allow-remote and --egress openai).
    OpenaiBatch,
    /// A remote baseline through Anthropic's Message Batches (key from
    /// ANTHROPIC_API_KEY; needs --allow-remote and --egress anthropic).
    AnthropicBatch,
}

/// Sampling and run conditions, identical for every request of a run.
#[derive(Debug, Clone, Args)]
pub struct RunArgs {
    #[arg(long, value_enum)]
    pub backend: BackendKind,
    /// Server root, e.g. http://127.0.0.1:11434 (Ollama) or http://127.0.0.1:8080 (llama.cpp).
    #[arg(long)]
    pub endpoint: String,
    /// Context size sent with every request.
    #[arg(long, default_value_t = 4096)]
    pub num_ctx: u32,
    /// Output budget per request.
    #[arg(long, default_value_t = 512)]
    pub num_predict: u32,
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    #[arg(long, default_value_t = 0.0)]
    pub temperature: f64,
    /// Per-request timeout in seconds.
    #[arg(long, default_value_t = 300)]
    pub timeout: u64,
    /// Attempts per task for transport errors and timeouts.
    #[arg(long, default_value_t = 3)]
    pub attempts: u32,
    /// The model's GGUF file, for its hash, quantisation and VRAM plan when the
    /// server cannot describe it (OpenAI-compatible servers).
    #[arg(long)]
    pub gguf: Option<PathBuf>,
    /// VRAM budget for the plan, e.g. 32GiB. Without it and without metadata, no plan.
    #[arg(long, value_parser = parse_size)]
    pub vram: Option<u64>,
    /// KV cache type the server uses (f16, q8_0, q4_0), for the plan.
    #[arg(long, default_value = "f16")]
    pub kv_cache: KvType,
    /// The runtime whose allocations the plan follows: llama.cpp,
    /// llama-cpp-python or ollama (default: from the backend).
    #[arg(long)]
    pub runtime: Option<Runtime>,
    #[command(flatten)]
    pub policy: PolicyArgs,
    /// Run even when the VRAM plan does not fit.
    #[arg(long)]
    pub allow_overcommit: bool,
    /// Run even when the model is only partly in VRAM.
    #[arg(long)]
    pub allow_partial_offload: bool,
    /// Permit an endpoint that is not a loopback or private address.
    #[arg(long)]
    pub allow_remote: bool,
    /// Seconds between status requests of a batch backend.
    #[arg(long, default_value_t = 30.0)]
    pub poll_every: f64,
}

/// Server settings that change memory, where they depart from the runtime's
/// defaults; recorded in the plan.
#[derive(Debug, Clone, Args)]
pub struct PolicyArgs {
    /// Flash attention on or off (default: on for llama.cpp, off for
    /// llama-cpp-python and Ollama). Off, long contexts need attention scores.
    #[arg(long, value_name = "on|off", value_parser = clap::builder::BoolishValueParser::new())]
    pub flash_attn: Option<bool>,
    /// The micro-batch, n_ubatch (default 512).
    #[arg(long)]
    pub ubatch: Option<u64>,
    /// A full-size sliding-window cache on or off (default: on for
    /// llama-cpp-python, off otherwise; llama-server's --swa-full).
    #[arg(long, value_name = "on|off", value_parser = clap::builder::BoolishValueParser::new())]
    pub swa_full: Option<bool>,
    /// What holds the layers (default gpu: the token embedding stays in host
    /// memory; cpu: the budget is host memory, with the CPU's repacked copies).
    #[arg(long, value_name = "gpu|cpu")]
    pub device: Option<ollama_runner::plan::Device>,
    /// Slots the server holds memory for (default: 4 sharing one cache for
    /// llama.cpp's server, 1 otherwise).
    #[arg(long)]
    pub parallel: Option<u64>,
    /// Whether the slots share one cache (llama.cpp's --kv-unified; default
    /// on for llama.cpp, off otherwise).
    #[arg(long, value_name = "on|off", value_parser = clap::builder::BoolishValueParser::new())]
    pub kv_unified: Option<bool>,
}

impl PolicyArgs {
    pub fn policy(&self) -> ollama_runner::plan::Policy {
        let (ubatch, flash_attn, swa_full, device) = (self.ubatch, self.flash_attn, self.swa_full, self.device);
        ollama_runner::plan::Policy { ubatch, flash_attn, swa_full, device, kv_unified: self.kv_unified }
    }
}

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
        src: SourceArgs,
        /// A rules YAML file (default: the rules shipped with the tool; see `bench-cli rules`).
        #[arg(long)]
        rules: Option<PathBuf>,
        /// Number of tasks (default: the rules' quota, 60).
        #[arg(long)]
        count: Option<usize>,
        #[arg(long)]
        out: PathBuf,
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        exec: ExecArgs,
    },
    /// Re-derive a task set from its source and check it is byte-identical (exit 1 if not).
    #[command(after_help = "Example:\n  bench-cli verify cerberus-1.3.4.tar.gz --tasks tasks.json")]
    Verify {
        #[command(flatten)]
        src: SourceArgs,
        #[arg(long)]
        tasks: PathBuf,
        #[arg(long)]
        rules: Option<PathBuf>,
        #[command(flatten)]
        exec: ExecArgs,
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
        #[command(flatten)]
        origin: OriginArgs,
        /// Record the floors in this store, for the report.
        #[arg(long)]
        db: Option<PathBuf>,
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        exec: ExecArgs,
    },
    /// Print the default extraction-and-synthesis rules (YAML).
    Rules,
    /// Plan VRAM for a model: weights, KV cache, recurrent state, compute buffer (exit 1 if it does not fit).
    #[command(
        after_help = "Examples:\n  bench-cli plan --gguf gemma-3-270m-q4_k_m.gguf --vram 8GiB --ctx 8192\n  bench-cli plan --ollama-model qwen3.6:35b-a3b --vram 32GiB --ctx 8192 --kv-cache q8_0 --json"
    )]
    Plan(PlanArgs),
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
        origin: OriginArgs,
        #[command(flatten)]
        exec: ExecArgs,
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
        #[arg(long, default_value_t = 4096)]
        num_ctx: u32,
        #[arg(long, default_value_t = 512)]
        num_predict: u32,
        #[arg(long, default_value_t = 42)]
        seed: u64,
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
        origin: OriginArgs,
        #[command(flatten)]
        exec: ExecArgs,
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

/// The scheduler a matrix is submitted to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Engine {
    /// A Slurm job array, submitted with sbatch.
    Slurm,
    /// A Kubernetes Indexed Job manifest, written for kubectl (not submitted).
    Kubernetes,
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

/// What `plan` plans for.
#[derive(Debug, Args)]
pub struct PlanArgs {
    #[arg(long, conflicts_with = "ollama_model", required_unless_present = "ollama_model")]
    pub gguf: Option<PathBuf>,
    #[arg(long)]
    pub ollama_model: Option<String>,
    #[arg(long, default_value = "http://127.0.0.1:11434")]
    pub endpoint: String,
    #[arg(long, value_parser = parse_size)]
    pub vram: u64,
    #[arg(long, default_value_t = 8192)]
    pub ctx: u64,
    #[arg(long, default_value = "f16")]
    pub kv_cache: KvType,
    /// The runtime whose allocations the plan follows: llama.cpp, llama-cpp-python or ollama.
    #[arg(long, default_value = "llama.cpp")]
    pub runtime: Runtime,
    #[command(flatten)]
    pub policy: PolicyArgs,
    /// Allowance on top of the modelled components (graph metadata, allocator
    /// alignment; default 8MiB).
    #[arg(long, value_parser = parse_size)]
    pub overhead: Option<u64>,
    /// Each component with its formula and the metadata keys it used.
    #[arg(long, conflicts_with = "json")]
    pub explain: bool,
    #[arg(long)]
    pub json: bool,
}

/// What `eval` evaluates, and how.
#[derive(Debug, Args)]
pub struct EvalArgs {
    #[command(flatten)]
    pub src: SourceArgs,
    /// A model name as the server knows it; repeat to evaluate several, one at a time.
    #[arg(long = "model", required = true)]
    pub models: Vec<String>,
    /// The result store: a SQLite file (created if missing) or postgres://USER@HOST/DB (shared).
    #[arg(long)]
    pub db: PathBuf,
    /// Tasks to synthesise.
    #[arg(long, default_value_t = 60)]
    pub count: usize,
    /// A rules YAML file (default: the shipped rules).
    #[arg(long)]
    pub rules: Option<PathBuf>,
    /// Where tasks.json and report.{md,html,json} go.
    #[arg(long, default_value = "out")]
    pub out_dir: PathBuf,
    #[command(flatten)]
    pub run: RunArgs,
    #[command(flatten)]
    pub exec: ExecArgs,
}
