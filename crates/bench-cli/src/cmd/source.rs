use std::process::ExitCode;

use py_ast_meta::ExtractRules;

use super::print_json;
use crate::cli::SourceArgs;

pub(crate) fn scan(src: &SourceArgs, json: bool) -> anyhow::Result<ExitCode> {
    let snap = src.source().snapshot()?;
    if json {
        print_json(&snap)?;
    } else {
        out!("snapshot {}", snap.snapshot_id);
        out!("{} files kept, {} skipped", snap.files.len(), snap.skipped.len());
        for f in &snap.files {
            out!("  {:>8}  {}", f.bytes, f.path);
        }
        for s in &snap.skipped {
            out!("  skipped   {}: {}", s.path, s.reason);
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub(crate) fn extract(src: &SourceArgs, json: bool) -> anyhow::Result<ExitCode> {
    let snap = src.source().snapshot()?;
    let ex = bench_eval::extraction(&snap, &ExtractRules::default());
    if json {
        print_json(&ex)?;
    } else {
        out!("snapshot {}", ex.snapshot_id);
        for m in &ex.modules {
            let sig = m.significant_method.as_ref().map(|s| s.symbol.as_str()).unwrap_or("-");
            let methods: usize = m.classes.iter().map(|c| c.methods.len()).sum();
            out!(
                "  {}: {} imports, {} functions, {} classes ({} methods), significant: {}",
                m.path,
                m.imports.len(),
                m.functions.len(),
                m.classes.len(),
                methods,
                sig
            );
        }
        for f in &ex.parse_failures {
            out!("  parse failure {f}");
        }
    }
    Ok(ExitCode::SUCCESS)
}
