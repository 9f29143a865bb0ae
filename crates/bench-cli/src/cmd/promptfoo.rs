use std::path::Path;
use std::process::ExitCode;

use anyhow::Context as _;
use bench_core::{EndpointScope, RunManifest, SamplingOptions};
use promptfoo_emit::ModelSpec;
use result_store::Store;

use super::run::runtime;
use super::synth::read_tasks;
use crate::cli::{ExecArgs, SourceArgs};

pub(crate) fn emit(
    tasks: &Path,
    models: &[String],
    out_dir: &Path,
    options: &SamplingOptions,
) -> anyhow::Result<ExitCode> {
    let set = read_tasks(tasks)?;
    let specs: Vec<ModelSpec> = models.iter().map(|m| ModelSpec::parse(m)).collect::<Result<_, _>>()?;
    std::fs::create_dir_all(out_dir.join("results"))
        .with_context(|| format!("{}: cannot create", out_dir.display()))?;
    for spec in &specs {
        let path = out_dir.join(format!("{}.promptfooconfig.yaml", spec.slug()));
        std::fs::write(&path, promptfoo_emit::config(&set, spec, options))
            .with_context(|| format!("{}: cannot write", path.display()))?;
        out!("{}", path.display());
    }
    let readme = out_dir.join("README.md");
    std::fs::write(&readme, promptfoo_emit::readme(&set, &specs))
        .with_context(|| format!("{}: cannot write", readme.display()))?;
    out!("{}", readme.display());
    Ok(ExitCode::SUCCESS)
}

pub(crate) fn ingest(
    results: &Path,
    tasks: &Path,
    db: &Path,
    src: Option<&SourceArgs>,
    exec: &ExecArgs,
) -> anyhow::Result<ExitCode> {
    let set = read_tasks(tasks)?;
    let env = super::exec::grading_env(&set, src, exec)?;
    let text = std::fs::read_to_string(results).with_context(|| format!("{}: cannot read", results.display()))?;
    let ingested = promptfoo_emit::ingest(&text, &results.display().to_string(), &set)?;
    let endpoint = ingested.endpoint.clone().unwrap_or_else(|| "unknown".into());
    let scope = ollama_runner::endpoint_scope(&endpoint).unwrap_or(EndpointScope::Remote);
    let driver = format!("promptfoo {}", ingested.promptfoo_version.as_deref().unwrap_or("unknown"));
    let kind = ingested.provider.split(':').next().unwrap_or("unknown");
    let mut manifest = RunManifest::new(&set, &driver, kind, &endpoint, scope, &ingested.model);
    manifest.finished_at = Some(manifest.started_at.clone());
    runtime()?.block_on(async {
        let store = Store::open(db).await?;
        store.put_task_set(&set).await?;
        let run = store.create_run(&manifest).await?;
        for c in &ingested.completions {
            store.record(run, c, false).await?;
        }
        let grades = bench_eval::grade_run(&store, run, env.as_ref().map(|e| e as &dyn bench_core::TestOracle)).await?;
        out!(
            "run {run}: {} promptfoo results from {} ingested and graded: {}/{} passed",
            ingested.completions.len(),
            ingested.provider,
            grades.iter().filter(|g| g.pass).count(),
            grades.len()
        );
        Ok(ExitCode::SUCCESS)
    })
}
