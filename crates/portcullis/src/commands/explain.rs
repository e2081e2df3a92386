//! `portcullis explain CODE|NAME`: one rule's documentation.

use std::process::ExitCode;

use anyhow::bail;
use portcullis_scan::registry::find_rule;

use crate::output;

pub fn run(key: &str) -> anyhow::Result<ExitCode> {
    let Some(rule) = find_rule(key) else {
        bail!("no rule is called `{key}`; `portcullis rules` lists them");
    };
    output::write(&portcullis_scan::render::rule_doc::markdown(rule), None)?;
    Ok(ExitCode::SUCCESS)
}
