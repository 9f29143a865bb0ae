use std::process::ExitCode;

use py_ast_meta::{ExtractRules, Extraction, SourceFile};
use repo_scan::{Limits, Snapshot};

use super::print_json;
use crate::cli::SourceArgs;

pub(crate) fn snapshot(src: &SourceArgs) -> anyhow::Result<Snapshot> {
    Ok(repo_scan::scan(&src.source, src.rev.as_deref(), &Limits::default())?)
}

pub(crate) fn files(snapshot: &Snapshot) -> Vec<SourceFile> {
    snapshot.files.iter().map(|f| SourceFile { path: f.path.clone(), text: f.text.clone() }).collect()
}

pub(crate) fn extraction(snapshot: &Snapshot, rules: &ExtractRules) -> Extraction {
    py_ast_meta::extract(&snapshot.snapshot_id, &files(snapshot), rules)
}

pub(crate) fn scan(src: &SourceArgs, json: bool) -> anyhow::Result<ExitCode> {
    let snap = snapshot(src)?;
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
    let snap = snapshot(src)?;
    let ex = extraction(&snap, &ExtractRules::default());
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
