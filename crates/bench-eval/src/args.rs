//! The main job's arguments as `clap` option groups, and what each becomes.
//! `bench-cli` flattens them into its commands; a matrix parses every cell's
//! `eval` line with the same [`EvalArgs`], so a cell is checked and planned
//! exactly as its `eval` will be; an embedder's own tool can flatten them too.

use std::path::PathBuf;
use std::time::Duration;

use bench_core::{SamplingOptions, TaskSet};
use clap::builder::BoolishValueParser;
use clap::{Args, Parser, ValueEnum};
use ollama_runner::batch::{BatchClient, Provider};
use ollama_runner::plan::{parse_size, Device, KvType, ModelShape, PlanRequest, Policy, Runtime};
use ollama_runner::{AnyBackend, Backend as _, BackendError, OllamaBackend, RunSpec};
use py_testenv::{Limits, Spec, TestEnv};
use task_synth::Rules;

use crate::{Derived, Driver, EvalError, GithubSpec, Source};

/// Where the repository comes from.
#[derive(Debug, Clone, Args)]
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

impl SourceArgs {
    /// The source, `github:` references cached under the user's cache directory.
    pub fn source(&self) -> Source {
        let mut github = github_cache();
        github.api = self.github_api.clone();
        github.allow_egress = ollama_runner::acknowledged(&self.egress, "github");
        Source { path: self.source.clone(), rev: self.rev.clone(), github: Some(github) }
    }
}

/// `github:` sources from the cache only, until egress is acknowledged.
fn github_cache() -> GithubSpec {
    GithubSpec::new(default_cache().unwrap_or_else(std::env::temp_dir).join("sources"))
}

/// `$XDG_CACHE_HOME/bench-cli` or `~/.cache/bench-cli`.
fn default_cache() -> Option<PathBuf> {
    let base = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))?;
    Some(base.join("bench-cli"))
}

/// A task set's derivation: the source, the rules, and the tests that settle
/// ground truth.
#[derive(Debug, Clone, Args)]
pub struct DeriveArgs {
    /// Where the repository comes from.
    #[command(flatten)]
    pub src: SourceArgs,
    /// A rules YAML file (default: the rules shipped with the tool; see `bench-cli rules`).
    #[arg(long)]
    pub rules: Option<PathBuf>,
    /// The tests that settle ground truth.
    #[command(flatten)]
    pub exec: ExecArgs,
    /// Transform the repository before synthesis so a remembered answer is
    /// wrong: `rename` renames the package's own identifiers consistently in
    /// its source and tests (needs --python; the baseline must not change).
    #[arg(long, value_enum)]
    pub novelty: Option<NoveltyArg>,
}

/// A transform of the repository before synthesis.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum NoveltyArg {
    /// The package's own identifiers renamed consistently.
    Rename,
}

impl DeriveArgs {
    /// The rules file's rules, or the shipped ones.
    pub fn rules(&self) -> Result<Rules, EvalError> {
        Ok(self.rules.as_deref().map(Rules::load).transpose()?.unwrap_or_default())
    }

    /// [`crate::derive`]: `count` tasks (default: the rules' quota).
    pub fn derive(&self, count: Option<usize>) -> Result<Derived, EvalError> {
        let (src, rules, spec) = (self.src.source(), self.rules()?, self.exec.spec());
        match (self.novelty, spec) {
            (Some(NoveltyArg::Rename), Some(spec)) => crate::derive_novel(&src, &rules, count, &spec),
            (Some(NoveltyArg::Rename), None) => {
                Err(EvalError::NoveltyNeedsTests { source_path: src.path.display().to_string() })
            }
            (None, spec) => crate::derive(&src, &rules, count, spec.as_ref()),
        }
    }

    /// [`crate::rederive`]: `recorded` derived again.
    pub fn rederive(&self, recorded: &TaskSet) -> Result<Derived, EvalError> {
        crate::rederive(recorded, &self.src.source(), &self.rules()?, self.exec.spec().as_ref())
    }
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

impl ExecArgs {
    /// The test environment's spec, when an interpreter is given.
    pub fn spec(&self) -> Option<Spec> {
        Some(Spec {
            python: self.python.clone()?,
            test_cmd: self.test_cmd.clone(),
            cache_dir: self.cache_dir.clone().or_else(default_cache),
            limits: Limits { wall: Duration::from_secs(self.test_timeout), ..Limits::default() },
            jobs: self.test_jobs,
        })
    }
}

/// Where an existing task set came from, for running its tests.
#[derive(Debug, Clone, Args)]
pub struct OriginArgs {
    /// The task set's source, to run its tests (execution-verified task sets).
    #[arg(long, requires = "python")]
    pub source: Option<PathBuf>,
    /// The source's git revision.
    #[arg(long, requires = "source")]
    pub rev: Option<String>,
}

impl OriginArgs {
    /// The source, when given; a `github:` origin comes from the cache
    /// (where deriving the task set put it), never fetched.
    pub fn source(&self) -> Option<Source> {
        let path = self.source.clone()?;
        Some(Source { path, rev: self.rev.clone(), github: Some(github_cache()) })
    }
}

/// What grading an existing task set needs: for an execution-verified one,
/// its source and an interpreter to run its tests.
#[derive(Debug, Clone, Args)]
pub struct GradingArgs {
    /// Where the task set came from.
    #[command(flatten)]
    pub origin: OriginArgs,
    /// The tests that settle ground truth.
    #[command(flatten)]
    pub exec: ExecArgs,
}

impl GradingArgs {
    /// [`crate::grading_env`] for `set`: the environment, and a warning when
    /// it differs from the one the set was verified in.
    pub fn env(&self, set: &TaskSet) -> Result<(Option<TestEnv>, Option<String>), EvalError> {
        crate::grading_env(set, self.origin.source().as_ref(), self.exec.spec().as_ref())
    }
}

/// What answers the tasks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum BackendArg {
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
    /// The kind of server or provider.
    #[arg(long, value_enum)]
    pub backend: BackendArg,
    /// Server root, e.g. http://127.0.0.1:11434 (Ollama) or http://127.0.0.1:8080 (llama.cpp).
    #[arg(long)]
    pub endpoint: String,
    /// The sampling options.
    #[command(flatten)]
    pub sampling: SamplingArgs,
    /// Per-request timeout in seconds.
    #[arg(long, default_value_t = 300)]
    pub timeout: u64,
    /// Attempts per task for transport errors and timeouts.
    #[arg(long, default_value_t = 3)]
    pub attempts: u32,
    /// The model's GGUF file, for its hash, quantisation and VRAM plan when the
    /// server cannot describe it (OpenAI-compatible servers); `NAME=PATH` for
    /// one of several models, a bare path for every model without its own.
    #[arg(long = "gguf", value_parser = parse_gguf)]
    pub gguf: Vec<(Option<String>, PathBuf)>,
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
    /// The server settings that change memory.
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

impl RunArgs {
    /// The run's conditions for `model`; `egress` lists the providers acknowledged.
    pub fn spec(&self, model: &str, egress: &[String]) -> RunSpec {
        RunSpec {
            runtime: self.runtime,
            policy: self.policy.policy(),
            parallel: self.policy.parallel,
            timeout: Duration::from_secs(self.timeout),
            attempts: self.attempts,
            gguf: self.gguf_for(model),
            vram_bytes: self.vram,
            kv_type: self.kv_cache,
            allow_overcommit: self.allow_overcommit,
            allow_partial_offload: self.allow_partial_offload,
            allow_remote: self.allow_remote,
            egress: egress.to_vec(),
            ..RunSpec::new(model, self.sampling.options())
        }
    }

    /// The GGUF file given for `model`: its own (`NAME=PATH`), else a bare one.
    pub fn gguf_for(&self, model: &str) -> Option<PathBuf> {
        let own = self.gguf.iter().rev().find(|(m, _)| m.as_deref() == Some(model));
        own.or_else(|| self.gguf.iter().rev().find(|(m, _)| m.is_none())).map(|(_, p)| p.clone())
    }

    /// What answers the tasks; `egress` lists the providers acknowledged.
    /// A batch provider's key is read from its environment variable and
    /// handed to the client only; it is never stored.
    pub fn driver(&self, egress: &[String]) -> Result<Driver, EvalError> {
        let local = |kind| Ok(Driver::Local(AnyBackend::new(kind, &self.endpoint)?));
        let provider = match self.backend {
            BackendArg::Ollama => return local(ollama_runner::BackendKind::Ollama),
            BackendArg::Openai => return local(ollama_runner::BackendKind::OpenAi),
            BackendArg::OpenaiBatch => Provider::OpenAi,
            BackendArg::AnthropicBatch => Provider::Anthropic,
        };
        let acknowledged = ollama_runner::acknowledged(egress, provider.name());
        let key = std::env::var(provider.key_var()).unwrap_or_default();
        let (client, _) = BatchClient::new(provider, &self.endpoint, key, self.allow_remote, acknowledged)?;
        Ok(Driver::Batch(client, Duration::from_secs_f64(self.poll_every.max(0.0))))
    }

    /// The plan request the run makes of a `vram` budget, before the server
    /// is asked: its runtime is the one given or the backend's usual one,
    /// its slots the ones given or the runtime's default.
    pub fn plan_request(&self, vram: u64) -> PlanRequest {
        let kind = if self.backend == BackendArg::Ollama { "ollama" } else { "openai" };
        let runtime = self.runtime.unwrap_or_else(|| ollama_runner::infer_runtime(kind, None));
        PlanRequest::new(vram, u64::from(self.sampling.num_ctx), self.kv_cache, runtime)
            .with(self.policy.policy(), self.policy.parallel)
    }
}

/// A task count, or `max` ([`task_synth::MAX_TASKS`]: every candidate the
/// repository supports is tried).
pub fn parse_count(arg: &str) -> Result<usize, String> {
    match arg {
        "max" => Ok(task_synth::MAX_TASKS),
        n => n.parse().map_err(|_| format!("{n:?} is neither a number of tasks nor `max`")),
    }
}

/// `NAME=PATH` (a model's own GGUF file) or `PATH`. A path that itself holds
/// `=` is taken whole when no file of the split name exists.
fn parse_gguf(arg: &str) -> Result<(Option<String>, PathBuf), String> {
    match arg.split_once('=') {
        Some((name, path)) if !name.is_empty() && !std::path::Path::new(arg).exists() => {
            Ok((Some(name.to_string()), PathBuf::from(path)))
        }
        _ => Ok((None, PathBuf::from(arg))),
    }
}

/// Sampling options, identical for every request of a run.
#[derive(Debug, Clone, Args)]
pub struct SamplingArgs {
    /// Context size sent with every request.
    #[arg(long, default_value_t = 4096)]
    pub num_ctx: u32,
    /// Output budget per request.
    #[arg(long, default_value_t = 512)]
    pub num_predict: u32,
    /// Sampling seed.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Sampling temperature.
    #[arg(long, default_value_t = 0.0)]
    pub temperature: f64,
}

impl SamplingArgs {
    /// The options every request carries.
    pub fn options(&self) -> SamplingOptions {
        let (temperature, seed, num_ctx, num_predict) = (self.temperature, self.seed, self.num_ctx, self.num_predict);
        SamplingOptions { temperature, seed, num_ctx, num_predict, top_k: None, top_p: None }
    }
}

/// Server settings that change memory, where they depart from the runtime's
/// defaults; recorded in the plan.
#[derive(Debug, Clone, Args)]
pub struct PolicyArgs {
    /// Flash attention on or off (default: on for llama.cpp, off for
    /// llama-cpp-python and Ollama). Off, long contexts need attention scores.
    #[arg(long, value_name = "on|off", value_parser = BoolishValueParser::new())]
    pub flash_attn: Option<bool>,
    /// The micro-batch, n_ubatch (default 512).
    #[arg(long)]
    pub ubatch: Option<u64>,
    /// A full-size sliding-window cache on or off (default: on for
    /// llama-cpp-python, off otherwise; llama-server's --swa-full).
    #[arg(long, value_name = "on|off", value_parser = BoolishValueParser::new())]
    pub swa_full: Option<bool>,
    /// What holds the layers (default gpu: the token embedding stays in host
    /// memory; cpu: the budget is host memory, with the CPU's repacked copies).
    #[arg(long, value_name = "gpu|cpu")]
    pub device: Option<Device>,
    /// Slots the server holds memory for (default: 4 sharing one cache for
    /// llama.cpp's server, 1 otherwise).
    #[arg(long)]
    pub parallel: Option<u64>,
    /// Whether the slots share one cache (llama.cpp's --kv-unified; default
    /// on for llama.cpp, off otherwise).
    #[arg(long, value_name = "on|off", value_parser = BoolishValueParser::new())]
    pub kv_unified: Option<bool>,
}

impl PolicyArgs {
    /// The settings given, the rest left to the runtime.
    pub fn policy(&self) -> Policy {
        let (ubatch, flash_attn, swa_full, device) = (self.ubatch, self.flash_attn, self.swa_full, self.device);
        Policy { ubatch, flash_attn, swa_full, device, kv_unified: self.kv_unified }
    }
}

/// What `eval` evaluates, and how: the main job's whole command line.
#[derive(Debug, Clone, Args)]
pub struct EvalArgs {
    /// The task set to derive.
    #[command(flatten)]
    pub derive: DeriveArgs,
    /// A model name as the server knows it; repeat to evaluate several, one at a time.
    #[arg(long = "model", required = true)]
    pub models: Vec<String>,
    /// The result store: a SQLite file (created if missing) or postgres://USER@HOST/DB (shared).
    #[arg(long)]
    pub db: PathBuf,
    /// Tasks to synthesise, or `max`: every scoring unit the repository
    /// supports under the rules.
    #[arg(long, default_value = "60", value_parser = parse_count)]
    pub count: usize,
    /// Where tasks.json and report.{md,html,json} go.
    #[arg(long, default_value = "out")]
    pub out_dir: PathBuf,
    /// After each model's run, probe its recall of the repository: each
    /// generation target's file path and preceding lines, continued by the
    /// model, compared with the original (a local server only).
    #[arg(long)]
    pub probe_recall: bool,
    /// How each model runs.
    #[command(flatten)]
    pub run: RunArgs,
}

impl EvalArgs {
    /// Parses an `eval` line, `args[0]` being the subcommand's name, as
    /// `bench-cli` does: a setting given twice takes its last value. A bad
    /// line is clap's message on one line.
    pub fn parse_line(args: &[String]) -> Result<Self, String> {
        #[derive(Parser)]
        #[command(args_override_self = true)]
        struct Line {
            #[command(flatten)]
            args: EvalArgs,
        }
        Line::try_parse_from(args).map(|l| l.args).map_err(|e| {
            let text = e.to_string();
            text.lines().next().unwrap_or_default().trim_start_matches("error: ").to_string()
        })
    }
}

/// What `plan` plans for.
#[derive(Debug, Clone, Args)]
pub struct PlanArgs {
    /// The model's GGUF file.
    #[arg(long, conflicts_with = "ollama_model", required_unless_present = "ollama_model")]
    pub gguf: Option<PathBuf>,
    /// A model an Ollama server describes.
    #[arg(long)]
    pub ollama_model: Option<String>,
    /// The Ollama server.
    #[arg(long, default_value = "http://127.0.0.1:11434")]
    pub endpoint: String,
    /// The budget, e.g. 32GiB.
    #[arg(long, value_parser = parse_size)]
    pub vram: u64,
    /// The context size.
    #[arg(long, default_value_t = 8192)]
    pub ctx: u64,
    /// KV cache type (f16, q8_0, q4_0).
    #[arg(long, default_value = "f16")]
    pub kv_cache: KvType,
    /// The runtime whose allocations the plan follows: llama.cpp, llama-cpp-python or ollama.
    #[arg(long, default_value = "llama.cpp")]
    pub runtime: Runtime,
    /// The server settings that change memory.
    #[command(flatten)]
    pub policy: PolicyArgs,
    /// Allowance on top of the modelled components (graph metadata, allocator
    /// alignment; default 8MiB).
    #[arg(long, value_parser = parse_size)]
    pub overhead: Option<u64>,
}

impl PlanArgs {
    /// The request.
    pub fn request(&self) -> PlanRequest {
        let mut request = PlanRequest::new(self.vram, self.ctx, self.kv_cache, self.runtime)
            .with(self.policy.policy(), self.policy.parallel);
        request.overhead_bytes = self.overhead.unwrap_or(request.overhead_bytes);
        request
    }

    /// The model's name and shape: from its GGUF file, or as the Ollama
    /// server describes it.
    pub async fn shape(&self) -> Result<(String, ModelShape), EvalError> {
        let model = match (&self.gguf, &self.ollama_model) {
            (Some(path), _) => return Ok((path.display().to_string(), ollama_runner::gguf::shape(path)?)),
            (None, Some(model)) => model,
            (None, None) => {
                let expected = "a GGUF file or a model an Ollama server describes";
                return Err(ollama_runner::PlanError::Setting { given: String::new(), expected }.into());
            }
        };
        let info = OllamaBackend::new(&self.endpoint)?.describe(model).await?;
        let shape = ModelShape::from_metadata(&info.metadata, info.size_bytes.unwrap_or(0)).ok_or_else(|| {
            BackendError::Protocol {
                endpoint: self.endpoint.clone(),
                what: format!("model {model:?}: /api/show model_info lacks the architecture or block count"),
                source: None,
            }
        })?;
        Ok((model.clone(), shape))
    }
}
