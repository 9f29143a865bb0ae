use std::path::Path;
use std::process::ExitCode;

use bench_core::{TaskSet, TestOracle};
use result_store::Store;
use task_synth::Calibration;

use super::run::runtime;
use super::synth::read_tasks;
use crate::cli::{ExecArgs, SourceArgs};

/// The table people read: each answerer's headline, each stratum's floor.
pub(crate) fn summary(c: &Calibration) -> String {
    let mut s = String::from("answerer                 headline units passed\n");
    for a in &c.answerers {
        let h = &a.headline;
        let pct = if h.n == 0 { 0.0 } else { h.passed as f64 * 100.0 / h.n as f64 };
        s.push_str(&format!("  {:<22} {:>3}/{:<3} ({pct:.1}%)  {}\n", a.name, h.passed, h.n, a.description));
    }
    s.push_str(&format!(
        "headline floor: {:.1}% ({})\nstratum floors (best no-understanding share):\n",
        c.headline_floor * 100.0,
        c.headline_floor_by
    ));
    for f in &c.floors {
        let flag = if f.floor > task_synth::BROKEN_FLOOR { "  BROKEN" } else { "" };
        s.push_str(&format!(
            "  {:<20} {}  n={:<3} floor {:>5.1}% ({}){flag}\n",
            f.category.as_str(),
            f.tier,
            f.n,
            f.floor * 100.0,
            f.answerer
        ));
    }
    s
}

/// Calibrates `set` and, with a store, records the floors for the report.
pub(crate) async fn calibrate_set(
    set: &TaskSet,
    env: Option<&dyn TestOracle>,
    store: Option<&Store>,
) -> anyhow::Result<Calibration> {
    let c = task_synth::calibrate(set, env);
    if let Some(store) = store {
        store.put_task_set(set).await?;
        store.put_calibration(&set.taskset_id, &serde_json::to_value(&c)?).await?;
    }
    Ok(c)
}

pub(crate) fn calibrate(
    tasks: &Path,
    src: Option<&SourceArgs>,
    exec: &ExecArgs,
    db: Option<&Path>,
    json: bool,
) -> anyhow::Result<ExitCode> {
    let set = read_tasks(tasks)?;
    let env = super::exec::grading_env(&set, src, exec)?;
    let c = runtime()?.block_on(async {
        let store = match db {
            Some(db) => Some(Store::open(db).await?),
            None => None,
        };
        calibrate_set(&set, env.as_ref().map(|e| e as &dyn TestOracle), store.as_ref()).await
    })?;
    if json {
        super::print_json(&c)?;
    } else {
        out_nonl!("{}", summary(&c));
        if !c.broken.is_empty() {
            out!("broken strata (floor above 10%): {}", c.broken.join(", "));
        }
    }
    Ok(if c.broken.is_empty() { ExitCode::SUCCESS } else { ExitCode::from(1) })
}
