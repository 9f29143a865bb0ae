use std::path::Path;
use std::process::ExitCode;

use bench_core::Grade;
use result_store::Store;

use super::run::runtime;

/// Grades one run against its task set's ground truth and stores the grades.
pub(crate) async fn grade_run(store: &Store, run: i64) -> anyhow::Result<Vec<Grade>> {
    let row = store.run(run).await?;
    let set = store.task_set(&row.task_set_id).await?;
    let completions = store.completions(run).await?;
    let grades: Vec<Grade> =
        completions.iter().filter_map(|c| set.task(&c.task_id).map(|t| task_synth::grade_completion(t, c))).collect();
    store.put_grades(run, &grades).await?;
    Ok(grades)
}

pub(crate) fn grade(db: &Path, run: Option<i64>, json: bool) -> anyhow::Result<ExitCode> {
    runtime()?.block_on(async {
        let store = Store::open_existing(db).await?;
        let runs: Vec<i64> = match run {
            Some(r) => vec![store.run(r).await?.id],
            None => store.runs().await?.into_iter().map(|r| r.id).collect(),
        };
        for r in &runs {
            grade_run(&store, *r).await?;
        }
        let rates: Vec<_> = store.pass_rates().await?.into_iter().filter(|p| runs.contains(&p.run_id)).collect();
        if json {
            super::print_json(&rates)?;
        } else {
            out!("{:<5} {:<24} {:<20} {:<4} {:>7}  {:>15}", "run", "model", "category", "tier", "pass", "95% CI");
            for p in &rates {
                out!(
                    "{:<5} {:<24} {:<20} {:<4} {:>3}/{:<3}  [{:>5.1}%, {:>5.1}%]",
                    p.run_id,
                    p.model,
                    p.category,
                    p.tier,
                    p.passed,
                    p.n,
                    p.low * 100.0,
                    p.high * 100.0
                );
            }
        }
        Ok(ExitCode::SUCCESS)
    })
}
