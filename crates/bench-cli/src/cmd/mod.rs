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

mod matrix;
mod report;
mod run;
mod shared;
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
