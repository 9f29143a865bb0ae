use std::process::ExitCode;

use bench_eval::args::SourceArgs;
use py_ast_meta::ExtractRules;

use super::shared::show;

pub(crate) fn scan(src: &SourceArgs, json: bool) -> anyhow::Result<ExitCode> {
    show(json, &src.source().snapshot()?, bench_eval::text::snapshot)?;
    Ok(ExitCode::SUCCESS)
}

pub(crate) fn extract(src: &SourceArgs, json: bool) -> anyhow::Result<ExitCode> {
    let ex = bench_eval::extraction(&src.source().snapshot()?, &ExtractRules::default());
    show(json, &ex, bench_eval::text::extraction)?;
    Ok(ExitCode::SUCCESS)
}
