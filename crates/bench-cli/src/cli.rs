use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// Contamination-resistant, on-premises evaluation of code models on your own
/// Python repository.
#[derive(Debug, Parser)]
#[command(name = "bench-cli", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

/// Where the repository comes from.
#[derive(Debug, Args)]
pub struct SourceArgs {
    /// A directory, a git repository (with --rev), or a .tar.gz/.tgz/.zip/.whl archive.
    pub source: PathBuf,
    /// Read a git repository at this revision (commit, tag or branch) without checking it out.
    #[arg(long)]
    pub rev: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Read a source into a content-addressed snapshot.
    #[command(after_help = "Example:\n  bench-cli scan cerberus-1.3.4.tar.gz --json")]
    Scan {
        #[command(flatten)]
        src: SourceArgs,
        #[arg(long)]
        json: bool,
    },
    /// Parse the snapshot's Python into signatures, imports and significant methods.
    #[command(after_help = "Example:\n  bench-cli extract ./myrepo --rev v1.2.0 --json")]
    Extract {
        #[command(flatten)]
        src: SourceArgs,
        #[arg(long)]
        json: bool,
    },
    /// Synthesise the stratified task set and write it as JSON.
    #[command(after_help = "Example:\n  bench-cli synth cerberus-1.3.4.tar.gz --out tasks.json")]
    Synth {
        #[command(flatten)]
        src: SourceArgs,
        /// A rules YAML file (default: the rules shipped with the tool).
        #[arg(long)]
        rules: Option<PathBuf>,
        /// Number of tasks (default: the rules' quota, 60).
        #[arg(long)]
        count: Option<usize>,
        #[arg(long)]
        out: PathBuf,
        #[arg(long)]
        json: bool,
    },
    /// Re-derive a task set from its source and check it is byte-identical.
    #[command(after_help = "Example:\n  bench-cli verify cerberus-1.3.4.tar.gz --tasks tasks.json")]
    Verify {
        #[command(flatten)]
        src: SourceArgs,
        #[arg(long)]
        tasks: PathBuf,
        #[arg(long)]
        rules: Option<PathBuf>,
    },
    /// Print the default extraction-and-synthesis rules.
    Rules,
}
