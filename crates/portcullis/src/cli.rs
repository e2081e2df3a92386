//! Command-line arguments.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Portcullis finds and stops the ways an MCP setup can hurt its user.
#[derive(Debug, Parser)]
#[command(name = "portcullis", version, about, long_about = None, propagate_version = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Find MCP client configurations and report what is dangerous in them.
    ///
    /// With no PATH: every MCP client configuration of the current user on this machine, plus
    /// the current folder. With PATHs: the named files, and the folders walked.
    Scan(ScanArgs),
    /// Pin the tool, prompt and resource definitions of saved MCP tool dumps in portcullis.lock.
    ///
    /// Walks the PATHs (default: the current folder) for tool dumps (`tools/list` results and
    /// live snapshots, recognised by their content) and writes, for each server, a sha256 of
    /// each definition. `portcullis scan --locked` then fails on any change (a rug pull).
    Pin(PinArgs),
    /// List the rules.
    Rules(RulesArgs),
    /// Print one rule's documentation.
    Explain {
        /// The rule's code (PC201) or name (plaintext-secret-in-config).
        rule: String,
    },
}

#[derive(Debug, Args)]
pub struct ScanArgs {
    /// Files and folders to scan.
    pub paths: Vec<PathBuf>,

    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value_t = Format::Text)]
    pub format: Format,

    /// Write the report to FILE instead of standard output.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// Exit with 1 when a finding is at or above this severity.
    #[arg(long, value_name = "SEVERITY", value_parser = ["critical", "high", "medium", "low", "info"])]
    pub fail_on: Option<String>,

    /// Run only these rules (codes, names or code prefixes such as PC2), comma separated.
    #[arg(long, value_delimiter = ',', value_name = "RULES")]
    pub select: Vec<String>,

    /// Do not run these rules, comma separated.
    #[arg(long, value_delimiter = ',', value_name = "RULES")]
    pub ignore: Vec<String>,

    /// Settings file (default: portcullis.toml in the current folder or a parent).
    #[arg(long, value_name = "FILE")]
    pub settings: Option<PathBuf>,

    /// Hide findings recorded in this baseline file.
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,

    /// Record every current finding in FILE as the new baseline.
    #[arg(long, value_name = "FILE")]
    pub write_baseline: Option<PathBuf>,

    /// Also scan the user's client configurations when PATHs are given.
    #[arg(long)]
    pub user_configs: bool,

    /// Scan only the named PATHs (or the current folder), not the user's configurations.
    #[arg(long, conflicts_with = "user_configs")]
    pub no_user_configs: bool,

    /// When to use colour in text output.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,

    /// Do not show progress on the terminal.
    #[arg(long, short)]
    pub quiet: bool,

    /// Compare tool dumps with portcullis.lock (in the scanned folder, else the current one) and
    /// report every changed, added or removed definition.
    #[arg(long)]
    pub locked: bool,

    /// Compare tool dumps with this lock file (implies --locked).
    #[arg(long, value_name = "FILE")]
    pub lock: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct PinArgs {
    /// Files and folders holding tool dumps (default: the current folder).
    pub paths: Vec<PathBuf>,

    /// Where to write the lock (default: portcullis.lock in the current folder).
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct RulesArgs {
    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value_t = RulesFormat::Text)]
    pub format: RulesFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Text,
    Json,
    Sarif,
    Html,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RulesFormat {
    Text,
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}
