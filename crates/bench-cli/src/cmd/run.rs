use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{bail, Context as _};
use bench_core::{SamplingOptions, TaskSet};
use ollama_runner::batch::{BatchClient, Provider};
use ollama_runner::plan::{parse_bytes, KvType, ModelShape, PlanRequest, Runtime};
use ollama_runner::{gguf, AnyBackend, Backend, OllamaBackend, RunSpec, RunnerError};
use result_store::Store;

use super::synth::read_tasks;
use crate::cli::{BackendKind, PlanArgs, RunArgs};
use crate::progress::Reporter;

pub(crate) fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_current_thread().enable_all().build()?)
}

/// What answers the tasks: a local server, or a provider's batch API.
pub(crate) enum Driver {
    /// A local-API server, with the hosts acknowledged for egress.
    Local(AnyBackend, Vec<String>),
    Batch(BatchClient),
}

/// The driver `args` names; `egress` lists the providers acknowledged.
pub(crate) fn driver(args: &RunArgs, egress: &[String]) -> anyhow::Result<Driver> {
    let local = |kind| Ok(Driver::Local(AnyBackend::new(kind, &args.endpoint)?, egress.to_vec()));
    let provider = match args.backend {
        BackendKind::Ollama => return local(ollama_runner::BackendKind::Ollama),
        BackendKind::Openai => return local(ollama_runner::BackendKind::OpenAi),
        BackendKind::OpenaiBatch => Provider::OpenAi,
        BackendKind::AnthropicBatch => Provider::Anthropic,
    };
    let acknowledged = egress.iter().any(|p| p.eq_ignore_ascii_case(provider.name()));
    // The key is read here and handed to the client only; it is never stored.
    let key = std::env::var(provider.key_var()).unwrap_or_default();
    let (client, _) =
        BatchClient::new(provider, &args.endpoint, key, args.allow_remote, acknowledged).map_err(with_flag)?;
    Ok(Driver::Batch(client))
}

impl Driver {
    /// Unloads `model` where the backend allows (one model resident at a time).
    pub(crate) async fn unload(&self, model: &str) -> anyhow::Result<()> {
        if let Driver::Local(b, _) = self {
            b.unload(model).await?;
        }
        Ok(())
    }
}

fn spec(args: &RunArgs, model: &str) -> anyhow::Result<RunSpec> {
    let options = SamplingOptions {
        temperature: args.temperature,
        seed: args.seed,
        num_ctx: args.num_ctx,
        num_predict: args.num_predict,
        top_k: None,
        top_p: None,
    };
    let vram_bytes = args
        .vram
        .as_deref()
        .map(|v| parse_bytes(v).with_context(|| format!("--vram {v:?}: expected a size such as 32GiB")))
        .transpose()?;
    let kv_type = KvType::parse(&args.kv_cache)
        .with_context(|| format!("--kv-cache {:?}: expected f16, q8_0 or q4_0", args.kv_cache))?;
    let runtime = args.runtime.as_deref().map(parse_runtime).transpose()?;
    Ok(RunSpec {
        runtime,
        policy: args.policy.policy(),
        timeout: Duration::from_secs(args.timeout),
        attempts: args.attempts,
        gguf: args.gguf.clone(),
        vram_bytes,
        kv_type,
        allow_overcommit: args.allow_overcommit,
        allow_partial_offload: args.allow_partial_offload,
        allow_remote: args.allow_remote,
        ..RunSpec::new(model, options)
    })
}

fn parse_runtime(s: &str) -> anyhow::Result<Runtime> {
    Runtime::parse(s).with_context(|| format!("--runtime {s:?}: expected llama.cpp, llama-cpp-python or ollama"))
}

/// The runner's refusals, with the flag that lifts each named for the CLI user.
pub(crate) fn with_flag(e: RunnerError) -> anyhow::Error {
    let flag = match &e {
        RunnerError::Unacknowledged { provider, .. } => return anyhow::anyhow!("{e} (pass --egress {provider})"),
        RunnerError::Remote { .. } => "--allow-remote",
        RunnerError::PlanDoesNotFit { .. } => "--allow-overcommit",
        RunnerError::PartialOffload { .. } => "--allow-partial-offload",
        _ => return e.into(),
    };
    anyhow::anyhow!("{e} (pass {flag})")
}

/// The main job's errors, with the flag that lifts a refusal named.
fn hinted(e: bench_eval::EvalError) -> anyhow::Error {
    match e {
        bench_eval::EvalError::Runner(e) => with_flag(e),
        bench_eval::EvalError::Stopped { run, model, source } => {
            hinted(*source).context(format!("run {run} of {model} stopped; rerun to resume"))
        }
        e => e.into(),
    }
}

/// Runs one model over a task set into the store, resuming its latest run
/// when asked (a batch always), with progress and warnings on stderr;
/// returns the run id.
pub(crate) async fn run_model(
    d: &mut Driver,
    set: &TaskSet,
    model: &str,
    store: &Store,
    args: &RunArgs,
    resume: bool,
) -> anyhow::Result<i64> {
    let run = match d {
        Driver::Local(b, egress) => {
            let mut reporter = Reporter::new(set.tasks.len(), model);
            let spec = RunSpec { egress: egress.clone(), ..spec(args, model)? };
            let run = bench_eval::run_model(b, set, &spec, store, resume, |p| reporter.step(p)).await;
            reporter.finish();
            run
        }
        Driver::Batch(client) => {
            let every = Duration::from_secs_f64(args.poll_every.max(0.0));
            let options = spec(args, model)?.options;
            let mut last = String::new();
            bench_eval::run_batch(client, set, model, &options, every, store, |p| {
                let line = format!("{model}: batch {} {} ({}/{} done)", p.id, p.status, p.done, p.total);
                if line != last {
                    eprintln!("{line}");
                    last = line;
                }
            })
            .await
        }
    };
    let run = run.map_err(hinted)?;
    if let Some(done) = run.resumed_with {
        eprintln!("resumed run {} ({done} of {} tasks were already done)", run.id, set.tasks.len());
    }
    for w in &run.finished.manifest.warnings {
        eprintln!("warning: {w}");
    }
    if let Some(e) = &run.finished.manifest.egress {
        eprintln!(
            "egress to {} ({}): {} requests, {} bytes sent, {} received, task set {}",
            e.provider, e.host, e.requests, e.bytes_sent, e.bytes_received, e.taskset_id
        );
    }
    let s = &run.finished.summary;
    eprintln!(
        "run {}: {} completed, {} failed, {} already done",
        run.id, s.completed, s.failed, s.skipped_already_done
    );
    Ok(run.id)
}

pub(crate) fn run(
    tasks: &Path,
    model: &str,
    db: &Path,
    args: &RunArgs,
    resume: bool,
    egress: &[String],
) -> anyhow::Result<ExitCode> {
    let set = read_tasks(tasks)?;
    let mut d = driver(args, egress)?;
    runtime()?.block_on(async {
        let store = Store::open(db).await?;
        let run_id = run_model(&mut d, &set, model, &store, args, resume).await?;
        out!("run {run_id} recorded in {}", db.display());
        Ok(ExitCode::SUCCESS)
    })
}

/// The planner's view of a GGUF file.
pub(crate) fn gguf_shape(path: &Path) -> anyhow::Result<ModelShape> {
    let h = gguf::read_header(path)?;
    ModelShape::from_metadata(&h.metadata, h.weight_bytes())
        .with_context(|| format!("{}: GGUF metadata lacks the architecture or block count", path.display()))
}

pub(crate) fn plan(args: &PlanArgs) -> anyhow::Result<ExitCode> {
    let PlanArgs { gguf, ollama_model, endpoint, vram, kv_cache, overhead, .. } = args;
    let (ctx, parallel, gguf_path, ollama_model) = (args.ctx, args.parallel, gguf.as_deref(), ollama_model.as_deref());
    let vram_bytes = parse_bytes(vram).with_context(|| format!("--vram {vram:?}: expected a size such as 32GiB"))?;
    let overhead_bytes = parse_bytes(overhead).with_context(|| format!("--overhead {overhead:?}: expected a size"))?;
    let kv_type =
        KvType::parse(kv_cache).with_context(|| format!("--kv-cache {kv_cache:?}: expected f16, q8_0, q4_0 or f32"))?;
    let (name, shape) = match (gguf_path, ollama_model) {
        (Some(path), _) => (path.display().to_string(), gguf_shape(path)?),
        (None, Some(model)) => {
            let info = runtime()?.block_on(OllamaBackend::new(endpoint)?.describe(model))?;
            let shape = ModelShape::from_metadata(&info.metadata, info.size_bytes.unwrap_or(0)).with_context(|| {
                format!("{endpoint}: model {model:?}: /api/show model_info lacks the architecture or block count")
            })?;
            (model.to_string(), shape)
        }
        (None, None) => bail!("pass --gguf FILE or --ollama-model NAME"),
    };
    let runtime = parse_runtime(&args.runtime)?;
    let request =
        PlanRequest { vram_bytes, ctx, parallel, kv_type, overhead_bytes, runtime, policy: args.policy.policy() };
    let plan = shape.plan(&request);
    if args.explain {
        out!("{name}: {} architecture, {} layers", plan.architecture, shape.layers.len());
        for line in shape.explain(&request) {
            out!("  {line}");
        }
    } else if args.json {
        super::print_json(&plan)?;
    } else {
        out_nonl!("{name}: {plan}");
    }
    Ok(if plan.fits { ExitCode::SUCCESS } else { ExitCode::from(1) })
}
