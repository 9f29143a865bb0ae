//! `bench-cli matrix`: a matrix file's cells planned, submitted to a
//! scheduler, and followed in the shared store.

use std::path::Path;
use std::process::ExitCode;

use anyhow::Context as _;
use bench_eval::matrix::Matrix;
use ollama_runner::plan::{parse_bytes, KvType, PlanRequest, Runtime};
use result_store::Store;

use super::run::runtime;
use crate::cli::{Engine, MatrixCommand};

pub(crate) fn matrix(cmd: &MatrixCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        MatrixCommand::Plan { file } => plan(&Matrix::load(file)?),
        MatrixCommand::Submit { file, engine, no_submit, image } => submit(file, *engine, *no_submit, image),
        MatrixCommand::Status { file, json } => status(&Matrix::load(file)?, *json),
    }
}

fn plan(m: &Matrix) -> anyhow::Result<ExitCode> {
    let mut fits = true;
    for c in m.cells() {
        let model = m.models.iter().find(|x| x.name == c.model).context("a cell names its model")?;
        let verdict = match (&model.vram, &model.gguf) {
            (Some(vram), Some(gguf)) => {
                let shape = super::run::gguf_shape(gguf)?;
                let budget = parse_bytes(vram).with_context(|| format!("vram {vram:?}: expected a size"))?;
                let ctx = m.eval_args.windows(2).find(|w| w[0] == "--num-ctx").and_then(|w| w[1].parse().ok());
                let p = shape.plan(&PlanRequest::new(budget, ctx.unwrap_or(4096), KvType::F16, Runtime::default()));
                fits &= p.fits;
                format!("plan {} of {} bytes: {}", p.total, budget, if p.fits { "fits" } else { "DOES NOT FIT" })
            }
            _ => "planned when the cell runs (the server describes the model)".into(),
        };
        let rev = c.rev.as_deref().map(|r| format!("@{r}")).unwrap_or_default();
        out!("cell {}: {}{rev} x {}: {verdict}", c.index, c.source, c.model);
        out!("  bench-cli {}", shlex::try_join(c.args.iter().map(String::as_str))?);
    }
    Ok(if fits { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

fn submit(file: &Path, engine: Engine, no_submit: bool, image: &str) -> anyhow::Result<ExitCode> {
    let m = Matrix::load(file)?;
    std::fs::create_dir_all(&m.out_dir).with_context(|| format!("{}: cannot create", m.out_dir.display()))?;
    let (path, text) = match engine {
        Engine::Slurm => (m.out_dir.join("matrix.sbatch"), m.sbatch(&std::env::current_exe()?)),
        Engine::Kubernetes => (m.out_dir.join("matrix-job.yaml"), m.kubernetes(image)),
    };
    std::fs::write(&path, text).with_context(|| format!("{}: cannot write", path.display()))?;
    out!("{} cells -> {}", m.cells().len(), path.display());
    if engine == Engine::Slurm && !no_submit {
        let out = std::process::Command::new("sbatch")
            .arg("--parsable")
            .arg(&path)
            .output()
            .context("sbatch: cannot run it (is Slurm installed here?)")?;
        let err = String::from_utf8_lossy(&out.stderr);
        anyhow::ensure!(out.status.success(), "sbatch {}: {}", path.display(), err.trim());
        out!("submitted job array {}", String::from_utf8_lossy(&out.stdout).trim());
    }
    Ok(ExitCode::SUCCESS)
}

fn status(m: &Matrix, json: bool) -> anyhow::Result<ExitCode> {
    runtime()?.block_on(async {
        let store = Store::open_existing(Path::new(&m.store)).await?;
        let runs = store.runs().await?;
        let mut rows = Vec::new();
        for c in m.cells() {
            let snap = bench_eval::Source::local(&c.source, c.rev.clone()).snapshot()?;
            let run = runs.iter().rev().find(|r| r.model == c.model && r.manifest.snapshot_id == snap.snapshot_id);
            let (state, done, total, id) = match run {
                None => ("not started", 0, 0, None),
                Some(r) => {
                    let total = store.task_set(&r.task_set_id).await?.tasks.len() as i64;
                    let state = if r.finished_at.is_some() { "finished" } else { "running or stopped" };
                    (state, r.results, total, Some(r.id))
                }
            };
            rows.push(serde_json::json!({
                "cell": c.index, "source": c.source, "model": c.model, "run": id,
                "state": state, "results": done, "tasks": total,
            }));
        }
        if json {
            super::print_json(&rows)?;
        } else {
            for r in &rows {
                out!(
                    "cell {}: {} x {}: {} ({}/{} results{})",
                    r["cell"],
                    r["source"].as_str().unwrap_or(""),
                    r["model"].as_str().unwrap_or(""),
                    r["state"].as_str().unwrap_or(""),
                    r["results"],
                    r["tasks"],
                    r["run"].as_i64().map(|id| format!(", run {id}")).unwrap_or_default()
                );
            }
        }
        Ok(ExitCode::SUCCESS)
    })
}
