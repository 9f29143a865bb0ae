use std::path::Path;
use std::process::ExitCode;

use bench_core::TestOracle;
use result_store::Store;

use super::run::runtime;
use crate::cli::{ExecArgs, SourceArgs};

pub(crate) fn calibrate(
    tasks: &Path,
    src: Option<&SourceArgs>,
    exec: &ExecArgs,
    db: Option<&Path>,
    json: bool,
) -> anyhow::Result<ExitCode> {
    let set = task_synth::load_task_set(tasks)?;
    let env = super::exec::grading_env(&set, src, exec)?;
    let c = runtime()?.block_on(async {
        let store = match db {
            Some(db) => Some(Store::open(db).await?),
            None => None,
        };
        anyhow::Ok(bench_eval::calibrate_set(&set, env.as_ref().map(|e| e as &dyn TestOracle), store.as_ref()).await?)
    })?;
    if json {
        super::print_json(&c)?;
    } else {
        out_nonl!("{}", bench_eval::text::calibration(&c));
        if !c.broken.is_empty() {
            out!("broken strata (floor above 10%): {}", c.broken.join(", "));
        }
    }
    Ok(if c.broken.is_empty() { ExitCode::SUCCESS } else { ExitCode::from(1) })
}
