//! `bench-cli matrix`: a matrix file's cells planned, submitted to a
//! scheduler, and followed in the shared store.

use std::path::Path;
use std::process::ExitCode;

use bench_eval::matrix::{Engine, Matrix};
use result_store::Store;

use super::shared::runtime;
use crate::cli::MatrixCommand;

pub(crate) fn matrix(cmd: &MatrixCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        MatrixCommand::Plan { file } => plan(&Matrix::load(file)?),
        MatrixCommand::Submit { file, engine, no_submit, image } => {
            let m = Matrix::load(file)?;
            let path = m.write_job(*engine, &std::env::current_exe()?, image)?;
            out!("{} cells -> {}", m.cells().len(), path.display());
            if *engine == Engine::Slurm && !no_submit {
                out!("submitted job array {}", bench_eval::matrix::submit_slurm(&path)?);
            }
            Ok(ExitCode::SUCCESS)
        }
        MatrixCommand::Status { file, json } => {
            let m = Matrix::load(file)?;
            let rows =
                runtime()?.block_on(async { m.status(&Store::open_existing(Path::new(&m.store)).await?).await })?;
            super::shared::show(*json, &rows, |rows| rows.iter().map(|r| format!("{r}\n")).collect())?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn plan(m: &Matrix) -> anyhow::Result<ExitCode> {
    let plans = m.plans()?;
    out_nonl!("{}", bench_eval::text::matrix_plans(&plans));
    Ok(if plans.iter().all(|(_, p)| p.as_ref().is_none_or(|p| p.fits)) { ExitCode::SUCCESS } else { ExitCode::from(1) })
}
