use std::path::Path;
use std::process::ExitCode;

use std::collections::BTreeMap;

use bench_core::TestOracle;
use py_testenv::TestEnv;
use result_store::Store;

use super::exec::grading_env;
use crate::cli::{ExecArgs, SourceArgs};

use super::run::runtime;

pub(crate) fn grade(
    db: &Path,
    run: Option<i64>,
    json: bool,
    src: Option<&SourceArgs>,
    exec: &ExecArgs,
) -> anyhow::Result<ExitCode> {
    runtime()?.block_on(async {
        let store = Store::open_existing(db).await?;
        let runs: Vec<i64> = match run {
            Some(r) => vec![store.run(r).await?.id],
            None => store.runs().await?.into_iter().map(|r| r.id).collect(),
        };
        // One test environment per task set.
        let mut envs: BTreeMap<String, Option<TestEnv>> = BTreeMap::new();
        for r in &runs {
            let set_id = store.run(*r).await?.task_set_id;
            if !envs.contains_key(&set_id) {
                let set = store.task_set(&set_id).await?;
                envs.insert(set_id.clone(), grading_env(&set, src, exec)?);
            }
            let env = envs.get(&set_id).and_then(Option::as_ref).map(|e| e as &dyn TestOracle);
            bench_eval::grade_run(&store, *r, env).await?;
        }
        let rates: Vec<_> = store.pass_rates().await?.into_iter().filter(|p| runs.contains(&p.run_id)).collect();
        if json {
            super::print_json(&rates)?;
        } else {
            out_nonl!("{}", bench_eval::text::pass_rates(&rates));
        }
        Ok(ExitCode::SUCCESS)
    })
}
