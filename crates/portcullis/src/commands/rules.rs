//! `portcullis rules`: the rule list.

use std::fmt::Write as _;
use std::process::ExitCode;

use portcullis_scan::registry::all_rules;

use crate::cli::{RulesArgs, RulesFormat};
use crate::output;

pub fn run(args: &RulesArgs) -> anyhow::Result<ExitCode> {
    let rules = all_rules();
    let text = match args.format {
        RulesFormat::Json => serde_json_rules(&rules),
        RulesFormat::Text => {
            let width = rules.iter().map(|r| r.name.len()).max().unwrap_or(0);
            let mut out = String::new();
            for r in &rules {
                let cwe = r
                    .cwe
                    .iter()
                    .map(|c| format!("CWE-{c}"))
                    .collect::<Vec<_>>()
                    .join(",");
                let _ = writeln!(
                    out,
                    "{}  {:<width$}  {:<8}  {:<12}  {}",
                    r.code,
                    r.name,
                    r.severity.as_str(),
                    cwe,
                    r.summary
                );
            }
            out
        }
    };
    output::write(&text, None)?;
    Ok(ExitCode::SUCCESS)
}

fn serde_json_rules(rules: &[&portcullis_scan::RuleMeta]) -> String {
    portcullis_scan::render::rule_doc::rules_json(rules)
}
