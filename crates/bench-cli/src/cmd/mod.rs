use std::process::ExitCode;

use crate::cli::{Cli, Command};

mod source;
mod synth;

pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Scan { src, json } => source::scan(&src, json),
        Command::Extract { src, json } => source::extract(&src, json),
        Command::Synth { src, rules, count, out, json } => synth::synth(&src, rules.as_deref(), count, &out, json),
        Command::Verify { src, tasks, rules } => synth::verify(&src, &tasks, rules.as_deref()),
        Command::Rules => {
            print!("{}", task_synth::Rules::default_text());
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// Prints a value as pretty JSON on stdout.
pub(crate) fn print_json<T: serde::Serialize>(value: &T) -> anyhow::Result<()> {
    println!("{}", serde_json::to_string_pretty(value)?);
    Ok(())
}
