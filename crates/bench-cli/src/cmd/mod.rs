use std::process::ExitCode;

use bench_eval::EvalError;
use ollama_runner::RunnerError;

/// `println!` that returns the write error instead of panicking, so a closed
/// pipe (`bench-cli report | head`) ends the program quietly.
macro_rules! out {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        writeln!(std::io::stdout(), $($arg)*)?
    }};
}

/// `print!` likewise.
macro_rules! out_nonl {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        write!(std::io::stdout(), $($arg)*)?
    }};
}

use crate::cli::{Cli, Command};

mod matrix;
mod report;
mod run;
mod source;
mod synth;

pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Scan { src, json } => source::scan(&src, json),
        Command::Extract { src, json } => source::extract(&src, json),
        Command::Synth { derive, count, out, json } => synth::synth(&derive, count, &out, json),
        Command::Verify { derive, tasks } => synth::verify(&derive, &tasks),
        Command::Calibrate { tasks, db, json, grading } => report::calibrate(&tasks, &grading, db.as_deref(), json),
        Command::Rules => {
            out_nonl!("{}", task_synth::Rules::default_text());
            Ok(ExitCode::SUCCESS)
        }
        Command::Plan { plan, explain, json } => run::plan(&plan, explain, json),
        Command::Run { tasks, model, db, run: args, resume, egress } => {
            run::run(&tasks, &model, &db, &args, resume, &egress)
        }
        Command::Grade { db, run, json, grading } => report::grade(&db, run, json, &grading),
        Command::Report { db, format, out } => report::write(&db, format, out.as_deref()),
        Command::EmitPromptfoo { tasks, models, out_dir, sampling } => {
            synth::emit(&tasks, &models, &out_dir, &sampling.options())
        }
        Command::IngestPromptfoo { results, tasks, db, grading } => report::ingest(&results, &tasks, &db, &grading),
        Command::Eval(args) => run::eval(&args),
        Command::Merge { sources, into } => report::merge(&sources, &into),
        Command::Matrix(m) => matrix::matrix(&m),
    }
}

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
        EvalError::Runner(e) => {
            let flag = match &e {
                RunnerError::Unacknowledged { provider, .. } => format!("--egress {provider}"),
                RunnerError::Remote { .. } => "--allow-remote".into(),
                RunnerError::PlanDoesNotFit { .. } => "--allow-overcommit".into(),
                RunnerError::PartialOffload { .. } => "--allow-partial-offload".into(),
                _ => return e.into(),
            };
            anyhow::anyhow!("{e} (pass {flag})")
        }
        e => e.into(),
    }
}
