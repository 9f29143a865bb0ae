use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{bail, Context as _};
use bench_core::{SamplingOptions, TaskSet};
use bench_eval::Driver;
use ollama_runner::batch::{BatchClient, Provider};
use ollama_runner::plan::{ModelShape, PlanRequest};
use ollama_runner::{AnyBackend, Backend, OllamaBackend, RunSpec, RunnerError};
use result_store::Store;

use crate::cli::{BackendKind, PlanArgs, RunArgs};
use crate::progress::Reporter;

pub(crate) fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_current_thread().enable_all().build()?)
}

/// The driver `args` names; `egress` lists the providers acknowledged.
pub(crate) fn driver(args: &RunArgs, egress: &[String]) -> anyhow::Result<Driver> {
    let local = |kind| Ok(Driver::Local(AnyBackend::new(kind, &args.endpoint)?));
    let provider = match args.backend {
        BackendKind::Ollama => return local(ollama_runner::BackendKind::Ollama),
        BackendKind::Openai => return local(ollama_runner::BackendKind::OpenAi),
        BackendKind::OpenaiBatch => Provider::OpenAi,
        BackendKind::AnthropicBatch => Provider::Anthropic,
    };
    let acknowledged = ollama_runner::acknowledged(egress, provider.name());
    // The key is read here and handed to the client only; it is never stored.
    let key = std::env::var(provider.key_var()).unwrap_or_default();
    let (client, _) =
        BatchClient::new(provider, &args.endpoint, key, args.allow_remote, acknowledged).map_err(with_flag)?;
    Ok(Driver::Batch(client, Duration::from_secs_f64(args.poll_every.max(0.0))))
}

fn spec(args: &RunArgs, model: &str, egress: &[String]) -> RunSpec {
    let options = SamplingOptions {
        temperature: args.temperature,
        seed: args.seed,
        num_ctx: args.num_ctx,
        num_predict: args.num_predict,
        top_k: None,
        top_p: None,
    };
    RunSpec {
        runtime: args.runtime,
        policy: args.policy.policy(),
        parallel: args.policy.parallel,
        timeout: Duration::from_secs(args.timeout),
        attempts: args.attempts,
        gguf: args.gguf.clone(),
        vram_bytes: args.vram,
        kv_type: args.kv_cache,
        allow_overcommit: args.allow_overcommit,
        allow_partial_offload: args.allow_partial_offload,
        allow_remote: args.allow_remote,
        egress: egress.to_vec(),
        ..RunSpec::new(model, options)
    }
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
/// when asked (a batch always), with progress and a summary on stderr;
/// returns the run id.
pub(crate) async fn run_model(
    d: &mut Driver,
    set: &TaskSet,
    model: &str,
    store: &Store,
    (args, egress): (&RunArgs, &[String]),
    resume: bool,
) -> anyhow::Result<i64> {
    let mut reporter = Reporter::new(set.tasks.len(), model);
    let run = d.run_model(set, &spec(args, model, egress), store, resume, |s| reporter.step(s)).await;
    reporter.finish();
    let run = run.map_err(hinted)?;
    eprint!("{}", bench_eval::text::run_summary(&run, set.tasks.len()));
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
    let set = task_synth::load_task_set(tasks)?;
    let mut d = driver(args, egress)?;
    runtime()?.block_on(async {
        let store = Store::open(db).await?;
        let run_id = run_model(&mut d, &set, model, &store, (args, egress), resume).await?;
        out!("run {run_id} recorded in {}", db.display());
        Ok(ExitCode::SUCCESS)
    })
}

pub(crate) fn plan(args: &PlanArgs) -> anyhow::Result<ExitCode> {
    let (name, shape) = match (&args.gguf, &args.ollama_model) {
        (Some(path), _) => (path.display().to_string(), ollama_runner::gguf::shape(path)?),
        (None, Some(model)) => {
            let info = runtime()?.block_on(OllamaBackend::new(&args.endpoint)?.describe(model))?;
            let shape = ModelShape::from_metadata(&info.metadata, info.size_bytes.unwrap_or(0)).with_context(|| {
                format!(
                    "{}: model {model:?}: /api/show model_info lacks the architecture or block count",
                    args.endpoint
                )
            })?;
            (model.clone(), shape)
        }
        (None, None) => bail!("pass --gguf FILE or --ollama-model NAME"),
    };
    let mut request = PlanRequest::new(args.vram, args.ctx, args.kv_cache, args.runtime)
        .with(args.policy.policy(), args.policy.parallel);
    request.overhead_bytes = args.overhead.unwrap_or(request.overhead_bytes);
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
