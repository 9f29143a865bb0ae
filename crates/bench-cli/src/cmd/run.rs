use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{bail, Context as _};
use bench_core::{RunManifest, SamplingOptions, TaskSet};
use ollama_runner::plan::{parse_bytes, KvType, ModelShape, Plan, PlanRequest};
use ollama_runner::{gguf, Backend, ModelInfo, OllamaBackend, OpenAiBackend, RunConfig};
use result_store::Store;

use super::synth::read_tasks;
use crate::cli::{BackendKind, RunArgs};
use crate::progress::Reporter;
use crate::util::{host_description, now_rfc3339};

/// Calls `$body` with `$b` bound to the concrete backend the arguments name
/// (the `Backend` trait is generic, not object-safe).
macro_rules! with_backend {
    ($args:expr, $b:ident => $body:expr) => {
        match $args.backend {
            BackendKind::Ollama => {
                let $b = OllamaBackend::new(&$args.endpoint)?;
                $body
            }
            BackendKind::Openai => {
                let $b = OpenAiBackend::new(&$args.endpoint)?;
                $body
            }
        }
    };
}
pub(crate) use with_backend;

pub(crate) fn options(a: &RunArgs) -> SamplingOptions {
    SamplingOptions {
        temperature: a.temperature,
        seed: a.seed,
        num_ctx: a.num_ctx,
        num_predict: a.num_predict,
        top_k: None,
        top_p: None,
    }
}

pub(crate) fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_current_thread().enable_all().build()?)
}

/// The model's description, completed from its GGUF file when one is given.
pub(crate) async fn describe<B: Backend + Sync>(
    b: &B,
    model: &str,
    gguf_path: Option<&Path>,
) -> anyhow::Result<(ModelInfo, Option<u64>)> {
    let mut info = b.describe(model).await?;
    let mut weights = info.size_bytes;
    if let Some(path) = gguf_path {
        let header = gguf::read_header(path)?;
        info.digest = Some(format!("blake3:{}", gguf::file_hash(path)?));
        info.quantization = info.quantization.or_else(|| {
            header
                .metadata
                .get("general.file_type")
                .and_then(|v| v.as_u64())
                .and_then(gguf::file_type_name)
                .map(str::to_string)
        });
        info.parameter_size = info
            .parameter_size
            .or_else(|| header.metadata.get("general.size_label").and_then(|v| v.as_str()).map(str::to_string));
        weights = Some(header.weight_bytes());
        for (k, v) in header.metadata {
            if !k.starts_with("tokenizer.") {
                info.metadata.entry(k).or_insert(v);
            }
        }
    }
    Ok((info, weights))
}

/// The VRAM plan, when there is metadata to plan from and a budget.
pub(crate) fn plan_for(
    info: &ModelInfo,
    weights: Option<u64>,
    args: &RunArgs,
    ctx: u64,
) -> anyhow::Result<Option<Plan>> {
    let Some(vram) = &args.vram else { return Ok(None) };
    let vram_bytes = parse_bytes(vram).with_context(|| format!("--vram {vram:?}: expected a size such as 32GiB"))?;
    let kv = KvType::parse(&args.kv_cache)
        .with_context(|| format!("--kv-cache {:?}: expected f16, q8_0 or q4_0", args.kv_cache))?;
    let Some(shape) = ModelShape::from_metadata(&info.metadata, weights.unwrap_or(0)) else { return Ok(None) };
    Ok(Some(shape.plan(&PlanRequest { vram_bytes, ctx, parallel: 1, kv_type: kv, overhead_bytes: 512 << 20 })))
}

/// Runs one model over a task set into the store; returns the run id.
pub(crate) async fn run_model<B: Backend + Sync>(
    b: &B,
    set: &TaskSet,
    model: &str,
    store: &Store,
    args: &RunArgs,
    resume: bool,
) -> anyhow::Result<i64> {
    let scope = local_only(args)?;
    let (info, weights) = describe(b, model, args.gguf.as_deref()).await?;
    let plan = plan_for(&info, weights, args, u64::from(args.num_ctx))?;
    if let Some(p) = &plan {
        if !p.fits && !args.allow_overcommit {
            let e = ollama_runner::RunnerError::PlanDoesNotFit { needed: p.total, budget: p.request.vram_bytes };
            return Err(anyhow::Error::new(e).context(format!("model {model:?}")));
        }
    }
    let options = options(args);
    let mut manifest = RunManifest {
        taskset_id: set.taskset_id.clone(),
        snapshot_id: set.snapshot_id.clone(),
        rules_hash: set.rules_hash.clone(),
        tool_version: bench_core::TOOL_VERSION.to_string(),
        driver: "native".into(),
        backend_kind: b.kind().into(),
        backend_version: info.backend_version.clone(),
        endpoint: args.endpoint.clone(),
        endpoint_scope: scope,
        model: model.into(),
        model_digest: info.digest.clone(),
        quantization: info.quantization.clone(),
        options: options.clone(),
        vram_plan: plan.as_ref().map(serde_json::to_value).transpose()?,
        residency: None,
        host: host_description(),
        started_at: now_rfc3339(),
        finished_at: None,
        warnings: Vec::new(),
    };
    store.put_task_set(set).await?;
    let (run_id, finished_before) = match if resume { store.find_run(&manifest).await? } else { None } {
        Some(id) => {
            let row = store.run(id).await?;
            manifest.started_at = row.manifest.started_at.clone();
            eprintln!("resuming run {id} ({} of {} tasks already done)", row.results, set.tasks.len());
            (id, row.finished_at.is_some())
        }
        None => (store.create_run(&manifest).await?, false),
    };
    let mut cfg = RunConfig::new(model, options);
    cfg.timeout = Duration::from_secs(args.timeout);
    cfg.attempts = args.attempts;
    cfg.allow_partial_offload = args.allow_partial_offload;
    let mut sink = store.sink(run_id);
    let mut reporter = Reporter::new(set.tasks.len(), model);
    let summary = ollama_runner::run(b, &set.tasks, &mut sink, &cfg, |p| reporter.step(p)).await;
    reporter.finish();
    let summary = summary.with_context(|| format!("run {run_id} of {model} stopped; rerun to resume"))?;
    if !summary.collapsed.is_empty() {
        let warning = format!(
            "throughput fell below half the warm-up's on {} task(s) ({}); the model may be spilling out of VRAM",
            summary.collapsed.len(),
            summary.collapsed.join(", ")
        );
        eprintln!("warning: {warning}");
        manifest.warnings.push(warning);
    }
    // A run with nothing left to do keeps its recorded manifest and end; a
    // resumed one keeps its first start, and its end is this completion.
    if summary.completed + summary.failed > 0 || !finished_before {
        manifest.residency = summary.residency.as_ref().map(serde_json::to_value).transpose()?;
        manifest.finished_at = Some(now_rfc3339());
        store.finish_run(run_id, &manifest).await?;
    }
    eprintln!(
        "run {run_id}: {} completed, {} failed, {} already done",
        summary.completed, summary.failed, summary.skipped_already_done
    );
    Ok(run_id)
}

pub(crate) fn run(tasks: &Path, model: &str, db: &Path, args: &RunArgs, resume: bool) -> anyhow::Result<ExitCode> {
    let set = read_tasks(tasks)?;
    let rt = runtime()?;
    rt.block_on(async {
        let store = Store::open(db).await?;
        let run_id = with_backend!(args, b => run_model(&b, &set, model, &store, args, resume).await?);
        out!("run {run_id} recorded in {}", db.display());
        Ok(ExitCode::SUCCESS)
    })
}

#[allow(clippy::too_many_arguments)]
pub(crate) fn plan(
    gguf_path: Option<&Path>,
    ollama_model: Option<&str>,
    endpoint: &str,
    vram: &str,
    ctx: u64,
    parallel: u64,
    kv_cache: &str,
    overhead: &str,
    json: bool,
) -> anyhow::Result<ExitCode> {
    let vram_bytes = parse_bytes(vram).with_context(|| format!("--vram {vram:?}: expected a size such as 32GiB"))?;
    let overhead_bytes = parse_bytes(overhead).with_context(|| format!("--overhead {overhead:?}: expected a size"))?;
    let kv_type =
        KvType::parse(kv_cache).with_context(|| format!("--kv-cache {kv_cache:?}: expected f16, q8_0, q4_0 or f32"))?;
    let (name, shape) = match (gguf_path, ollama_model) {
        (Some(path), _) => {
            let h = gguf::read_header(path)?;
            let shape = ModelShape::from_metadata(&h.metadata, h.weight_bytes())
                .with_context(|| format!("{}: GGUF metadata lacks the architecture or block count", path.display()))?;
            (path.display().to_string(), shape)
        }
        (None, Some(model)) => {
            let b = OllamaBackend::new(endpoint)?;
            let info = runtime()?.block_on(b.describe(model))?;
            let shape = ModelShape::from_metadata(&info.metadata, info.size_bytes.unwrap_or(0)).with_context(|| {
                format!("{endpoint}: model {model:?}: /api/show model_info lacks the architecture or block count")
            })?;
            (model.to_string(), shape)
        }
        (None, None) => bail!("pass --gguf FILE or --ollama-model NAME"),
    };
    let plan = shape.plan(&PlanRequest { vram_bytes, ctx, parallel, kv_type, overhead_bytes });
    if json {
        super::print_json(&plan)?;
    } else {
        let gib = |b: u64| b as f64 / (1u64 << 30) as f64;
        out!(
            "{name} ({}): {} full, {} sliding, {} recurrent layers",
            plan.architecture,
            plan.full_layers,
            plan.sliding_layers,
            plan.recurrent_layers
        );
        out!("  weights          {:>14} B  {:>8.2} GiB", plan.weights, gib(plan.weights));
        out!(
            "  KV cache         {:>14} B  {:>8.2} GiB  ({} B/token over full layers, ctx {ctx} x {parallel})",
            plan.kv_cache,
            gib(plan.kv_cache),
            plan.kv_bytes_per_token
        );
        out!("  recurrent state  {:>14} B  {:>8.2} GiB", plan.recurrent_state, gib(plan.recurrent_state));
        out!("  compute buffer   {:>14} B  {:>8.2} GiB", plan.compute_buffer, gib(plan.compute_buffer));
        out!("  overhead         {:>14} B  {:>8.2} GiB", plan.overhead, gib(plan.overhead));
        out!("  total            {:>14} B  {:>8.2} GiB of {:.2} GiB", plan.total, gib(plan.total), gib(vram_bytes));
        out!(
            "  {}; headroom {:.2} GiB",
            if plan.fits { "fits" } else { "DOES NOT FIT" },
            plan.headroom as f64 / (1u64 << 30) as f64
        );
        out!(
            "  largest context at parallel {parallel}: {}; largest parallelism at ctx {ctx}: {}",
            plan.max_ctx,
            plan.max_parallel
        );
    }
    Ok(if plan.fits { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

/// The air-gap check, with the flag that lifts it named for the CLI user.
pub(crate) fn local_only(args: &RunArgs) -> anyhow::Result<bench_core::EndpointScope> {
    ollama_runner::require_local(&args.endpoint, args.allow_remote).map_err(|e| match e {
        ollama_runner::RunnerError::Remote { .. } => anyhow::anyhow!("{e}: pass --allow-remote to permit it"),
        e => e.into(),
    })
}
