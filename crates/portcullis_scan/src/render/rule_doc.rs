//! A rule's documentation page, generated from its metadata and doc comment. `portcullis
//! explain` prints it; `docs/rules/<name>.md` holds it (checked for freshness by a test).

use std::fmt::Write as _;

use crate::registry::RuleMeta;

/// The rule's page in Markdown.
pub fn markdown(rule: &RuleMeta) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# {} ({})\n", rule.name, rule.code);
    let _ = writeln!(out, "{}\n", rule.summary);
    let cwe = if rule.cwe.is_empty() {
        "none".to_string()
    } else {
        rule.cwe
            .iter()
            .map(|c| format!("[CWE-{c}](https://cwe.mitre.org/data/definitions/{c}.html)"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let _ = writeln!(
        out,
        "| severity | confidence | CWE | target | status | since |\n|---|---|---|---|---|---|\n| {} | {} | {} | {} | {:?} | {} |\n",
        rule.severity.as_str(),
        rule.confidence.as_str(),
        cwe,
        rule.target.as_str(),
        rule.status,
        rule.since
    );
    out.push_str(rule.doc().trim());
    out.push('\n');
    let _ = writeln!(
        out,
        "\n## Configuration\nSuppress one finding with a comment on the line before it: `portcullis-ignore: {} -- reason`; \
         turn the rule off with `ignore = [\"{}\"]` under `[rules]` in `portcullis.toml`.",
        rule.name, rule.name
    );
    out
}

/// The rule list as JSON, for tools.
pub fn rules_json(rules: &[&RuleMeta]) -> String {
    let list: Vec<_> = rules
        .iter()
        .map(|r| {
            serde_json::json!({
                "code": r.code,
                "name": r.name,
                "summary": r.summary,
                "severity": r.severity,
                "confidence": r.confidence,
                "cwe": r.cwe,
                "target": r.target,
                "status": r.status,
                "since": r.since,
            })
        })
        .collect();
    serde_json::to_string_pretty(&list).unwrap_or_default() + "\n"
}

/// The index page of the rule docs.
pub fn index(rules: &[&RuleMeta]) -> String {
    let mut out = String::from(
        "# Rules\n\nGenerated from the rule declarations by `cargo run -p portcullis_dev -- docs`; do not edit.\n\n| code | name | severity | CWE | summary |\n|---|---|---|---|---|\n",
    );
    for r in rules {
        let cwe = r
            .cwe
            .iter()
            .map(|c| format!("CWE-{c}"))
            .collect::<Vec<_>>()
            .join(", ");
        let _ = writeln!(
            out,
            "| {} | [{}]({}.md) | {} | {} | {} |",
            r.code,
            r.name,
            r.name,
            r.severity.as_str(),
            cwe,
            r.summary
        );
    }
    out
}
