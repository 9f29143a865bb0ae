use std::path::PathBuf;
use std::time::Duration;

use bench_core::TaskSet;
use bench_eval::{GithubSpec, Source};
use py_testenv::{Limits, Spec, TestEnv};

use crate::cli::{ExecArgs, SourceArgs};

impl SourceArgs {
    pub(crate) fn source(&self) -> Source {
        let mut github = GithubSpec::new(default_cache().unwrap_or_else(std::env::temp_dir).join("sources"));
        github.api = self.github_api.clone();
        github.allow_egress = ollama_runner::acknowledged(&self.egress, "github");
        Source { path: self.source.clone(), rev: self.rev.clone(), github: Some(github) }
    }
}

/// `$XDG_CACHE_HOME/bench-cli` or `~/.cache/bench-cli`.
fn default_cache() -> Option<PathBuf> {
    let base = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))?;
    Some(base.join("bench-cli"))
}

/// The test environment's spec when `--python` is given.
pub(crate) fn spec(exec: &ExecArgs) -> Option<Spec> {
    let cache_dir = exec.cache_dir.clone().or_else(default_cache);
    Some(Spec {
        python: exec.python.clone()?,
        test_cmd: exec.test_cmd.clone(),
        cache_dir,
        limits: Limits { wall: Duration::from_secs(exec.test_timeout), ..Limits::default() },
        jobs: exec.test_jobs,
    })
}

/// The test environment grading `set` needs, with the flags to give named.
pub(crate) fn grading_env(set: &TaskSet, src: Option<&SourceArgs>, exec: &ExecArgs) -> anyhow::Result<Option<TestEnv>> {
    let src = src.map(SourceArgs::source);
    let (env, warning) = bench_eval::grading_env(set, src.as_ref(), spec(exec).as_ref()).map_err(|e| match e {
        bench_eval::EvalError::NeedsTests { .. } => anyhow::anyhow!("{e} (give --source and --python)"),
        e => e.into(),
    })?;
    if let Some(env) = &env {
        eprintln!("{}", bench_eval::text::baseline(env));
    }
    if let Some(w) = warning {
        eprintln!("warning: {w}");
    }
    Ok(env)
}
