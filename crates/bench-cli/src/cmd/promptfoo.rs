use std::path::Path;
use std::process::ExitCode;

use anyhow::Context as _;
use bench_core::SamplingOptions;
use promptfoo_emit::ModelSpec;
use result_store::Store;

use super::run::runtime;
use crate::cli::{ExecArgs, SourceArgs};

pub(crate) fn emit(
    tasks: &Path,
    models: &[String],
    out_dir: &Path,
    options: &SamplingOptions,
) -> anyhow::Result<ExitCode> {
    let set = task_synth::load_task_set(tasks)?;
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
    let set = task_synth::load_task_set(tasks)?;
    let env = super::exec::grading_env(&set, src, exec)?;
    let text = std::fs::read_to_string(results).with_context(|| format!("{}: cannot read", results.display()))?;
    let ingested = promptfoo_emit::ingest(&text, &results.display().to_string(), &set)?;
    runtime()?.block_on(async {
        let store = Store::open(db).await?;
        let oracle = env.as_ref().map(|e| e as &dyn bench_core::TestOracle);
        let (run, grades) = bench_eval::ingest_promptfoo(&store, &set, &ingested, oracle).await?;
        let (n, passed) = (grades.len(), grades.iter().filter(|g| g.pass).count());
        let (results, provider) = (ingested.completions.len(), &ingested.provider);
        out!("run {run}: {results} promptfoo results from {provider} ingested and graded: {passed}/{n} passed");
        Ok(ExitCode::SUCCESS)
    })
}
