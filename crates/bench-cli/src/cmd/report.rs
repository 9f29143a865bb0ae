//! `bench-cli report`: the report library, written where the user asks; and
//! `merge`, which brings stores together for it.

use std::path::Path;
use std::process::ExitCode;

use anyhow::Context as _;
use bench_report::Format;
use result_store::Store;

use super::run::runtime;

pub(crate) fn write(db: &Path, format: Format, out: Option<&Path>) -> anyhow::Result<ExitCode> {
    let report = runtime()?.block_on(async {
        let store = Store::open_existing(db).await?;
        anyhow::Ok(bench_report::build(&store).await?)
    })?;
    let text = format.render(&report)?;
    match out {
        Some(p) => std::fs::write(p, text).with_context(|| format!("{}: cannot write", p.display()))?,
        None => out_nonl!("{text}"),
    }
    Ok(ExitCode::SUCCESS)
}

pub(crate) fn merge(sources: &[std::path::PathBuf], into: &Path) -> anyhow::Result<ExitCode> {
    runtime()?.block_on(async {
        let dest = Store::open(into).await?;
        for src in sources {
            let m = dest.merge_from(&Store::open_existing(src).await?).await?;
            out!(
                "{}: {} runs added, {} matched; {} results added, {} already here",
                src.display(),
                m.runs_added,
                m.runs_matched,
                m.results_added,
                m.results_same
            );
        }
        Ok(ExitCode::SUCCESS)
    })
}
