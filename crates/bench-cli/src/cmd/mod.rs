use std::process::ExitCode;

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

mod calibrate;
mod eval;
mod exec;
mod grade;
mod matrix;
mod promptfoo;
mod report;
mod run;
mod source;
mod synth;

pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Scan { src, json } => source::scan(&src, json),
        Command::Extract { src, json } => source::extract(&src, json),
        Command::Synth { src, rules, count, out, json, exec } => {
            synth::synth(&src, rules.as_deref(), count, &out, json, &exec)
        }
        Command::Verify { src, tasks, rules, exec } => synth::verify(&src, &tasks, rules.as_deref(), &exec),
        Command::Calibrate { tasks, origin, db, json, exec } => {
            calibrate::calibrate(&tasks, origin.source_args().as_ref(), &exec, db.as_deref(), json)
        }
        Command::Rules => {
            out_nonl!("{}", task_synth::Rules::default_text());
            Ok(ExitCode::SUCCESS)
        }
        Command::Plan(args) => run::plan(&args),
        Command::Run { tasks, model, db, run: args, resume, egress } => {
            run::run(&tasks, &model, &db, &args, resume, &egress)
        }
        Command::Grade { db, run, json, origin, exec } => {
            grade::grade(&db, run, json, origin.source_args().as_ref(), &exec)
        }
        Command::Report { db, format, out } => report::write(&db, format, out.as_deref()),
        Command::EmitPromptfoo { tasks, models, out_dir, num_ctx, num_predict, seed } => {
            let options = bench_core::SamplingOptions { num_ctx, num_predict, seed, ..Default::default() };
            promptfoo::emit(&tasks, &models, &out_dir, &options)
        }
        Command::IngestPromptfoo { results, tasks, db, origin, exec } => {
            promptfoo::ingest(&results, &tasks, &db, origin.source_args().as_ref(), &exec)
        }
        Command::Eval(args) => eval::eval(&args),
        Command::Merge { sources, into } => report::merge(&sources, &into),
        Command::Matrix(m) => matrix::matrix(&m),
    }
}

/// Prints a value as pretty JSON on stdout.
pub(crate) fn print_json<T: serde::Serialize>(value: &T) -> anyhow::Result<()> {
    out!("{}", serde_json::to_string_pretty(value)?);
    Ok(())
}
