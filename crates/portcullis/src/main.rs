//! The `portcullis` command line: argument parsing, output selection and exit codes. No
//! analysis lives here; it calls `portcullis_scan`.

mod cli;
mod commands;
mod output;
mod targets;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    match commands::run(cli) {
        Ok(code) => code,
        Err(err) => {
            if output::is_broken_pipe(&err) {
                // The reader went away (`portcullis scan | head`): not our failure.
                return ExitCode::SUCCESS;
            }
            anstream::eprintln!("error: {err:#}");
            ExitCode::from(2)
        }
    }
}
