//! `bench-cli matrix`: a matrix file's cells planned, submitted to a
//! scheduler, and followed in the shared store.

use std::path::Path;
use std::process::ExitCode;

use anyhow::Context as _;
use bench_eval::matrix::Matrix;
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
        let verdict = match m.plan(&c)? {
            Some(p) => {
                fits &= p.fits;
                let v = if p.fits { "fits" } else { "DOES NOT FIT" };
                format!("plan {} of {} bytes: {v}", p.total, p.request.vram_bytes)
            }
            None => "planned when the cell runs (the server describes the model)".into(),
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
    let rows = runtime()?.block_on(async { m.status(&Store::open_existing(Path::new(&m.store)).await?).await })?;
    if json {
        super::print_json(&rows)?;
    } else {
        for r in &rows {
            out!("{r}");
        }
    }
    Ok(ExitCode::SUCCESS)
}
