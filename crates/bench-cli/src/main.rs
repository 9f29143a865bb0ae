//! `bench-cli`: composes the workspace's crates into commands. No logic of its
//! own beyond wiring, argument parsing and display.

use std::process::ExitCode;

use clap::Parser;

mod cli;
mod cmd;
mod progress;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    match cmd::run(cli) {
        Ok(code) => code,
        Err(e) if e.downcast_ref::<std::io::Error>().is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe) => {
            ExitCode::SUCCESS
        }
        Err(e) => {
            // One line that names the file, task or URL at fault.
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}
