use std::process::ExitCode;

use py_ast_meta::ExtractRules;

use super::print_json;
use crate::cli::SourceArgs;

pub(crate) fn scan(src: &SourceArgs, json: bool) -> anyhow::Result<ExitCode> {
    let snap = src.source().snapshot()?;
    if json {
        print_json(&snap)?;
    } else {
        out_nonl!("{}", bench_eval::text::snapshot(&snap));
    }
    Ok(ExitCode::SUCCESS)
}

pub(crate) fn extract(src: &SourceArgs, json: bool) -> anyhow::Result<ExitCode> {
    let ex = bench_eval::extraction(&src.source().snapshot()?, &ExtractRules::default());
    if json {
        print_json(&ex)?;
    } else {
        out_nonl!("{}", bench_eval::text::extraction(&ex));
    }
    Ok(ExitCode::SUCCESS)
}
