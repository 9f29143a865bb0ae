//! What every command shares: output, the async runtime, error hints. A
//! leaf, so the commands never reach back into their dispatcher.

use bench_eval::EvalError;
use ollama_runner::{EndpointError, RunError};

/// `value` on stdout: as pretty JSON with `json`, else as `text` has it.
pub(crate) fn show<T: serde::Serialize>(json: bool, value: &T, text: impl FnOnce(&T) -> String) -> anyhow::Result<()> {
    match json {
        true => out!("{}", serde_json::to_string_pretty(value)?),
        false => out_nonl!("{}", text(value)),
    }
    Ok(())
}

pub(crate) fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_current_thread().enable_all().build()?)
}

/// A library error with the flags that lift or settle it named, for the
/// CLI user (the libraries name no flags).
pub(crate) fn hint(e: impl Into<EvalError>) -> anyhow::Error {
    match e.into() {
        EvalError::Stopped { run, model, source } => {
            hint(*source).context(format!("run {run} of {model} stopped; rerun to resume"))
        }
        e @ EvalError::NeedsTests { .. } => anyhow::anyhow!("{e} (give --source and --python)"),
        e @ EvalError::NoveltyNeedsTests { .. } => anyhow::anyhow!("{e} (give --python)"),
        EvalError::Endpoint(e) | EvalError::Run(RunError::Endpoint(e)) => {
            let flag = match &e {
                EndpointError::Unacknowledged { provider, .. } => format!("--egress {provider}"),
                EndpointError::Remote { .. } => "--allow-remote".into(),
                _ => return e.into(),
            };
            anyhow::anyhow!("{e} (pass {flag})")
        }
        EvalError::Run(e) => {
            let flag = match &e {
                RunError::PlanDoesNotFit { .. } => "--allow-overcommit",
                RunError::PartialOffload { .. } => "--allow-partial-offload",
                _ => return e.into(),
            };
            anyhow::anyhow!("{e} (pass {flag})")
        }
        e => e.into(),
    }
}
