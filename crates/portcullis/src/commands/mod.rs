//! One file per subcommand.

mod audit;
mod explain;
mod gateway;
mod inspect;
mod live;
mod pin;
mod policy;
mod rules;
mod scan;
mod wrap;

use std::process::ExitCode;

use crate::cli::{Cli, Command, PolicyCommand};

pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Scan(args) => scan::run(args),
        Command::Pin(args) => pin::run(&args),
        Command::Inspect(args) => inspect::run(args),
        Command::Rules(args) => rules::run(&args),
        Command::Explain { rule } => explain::run(&rule),
        Command::Gateway(args) => gateway::run(args),
        Command::Audit(command) => audit::run(command),
        Command::Wrap(args) => wrap::run_wrap(args),
        Command::Unwrap(args) => wrap::run_unwrap(args),
        Command::Policy(PolicyCommand::Init(args)) => policy::run_init(args),
    }
}
