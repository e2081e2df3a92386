//! Text for a terminal: findings grouped by file, each with a code frame, then a summary.

use annotate_snippets::renderer::DecorStyle;
use annotate_snippets::{AnnotationKind, Level, Renderer, Snippet};

use super::RenderOptions;
use crate::registry::Severity;
use crate::report::{Finding, Report};

/// Lines of context shown around a finding.
const CONTEXT_LINES: usize = 1;

pub fn render(report: &Report, options: &RenderOptions) -> String {
    let renderer = if options.color {
        Renderer::styled()
    } else {
        Renderer::plain()
    }
    .decor_style(DecorStyle::Unicode)
    .term_width(options.width);
    let mut out = String::new();
    for finding in &report.findings {
        out.push_str(&render_one(finding, &renderer));
        out.push_str("\n\n");
    }
    out.push_str(&summary(report));
    out
}

fn level(severity: Severity) -> Level<'static> {
    let level = match severity {
        Severity::Critical | Severity::High => Level::ERROR,
        Severity::Medium => Level::WARNING,
        Severity::Low => Level::NOTE,
        Severity::Info => Level::INFO,
    };
    level.with_name(Some(severity.as_str()))
}

fn render_one(finding: &Finding, renderer: &Renderer) -> String {
    let d = &finding.diagnostic;
    let file = &d.file;
    let title = format!("{} [{}]", d.message, d.rule.name);
    let start = d.start();
    let end = d.end();
    let window;
    let group = if file.text.is_empty() {
        level(d.severity)
            .primary_title(title)
            .id(d.rule.code)
            .element(annotate_snippets::Origin::path(file.display.as_str()))
    } else {
        let first = start.line.saturating_sub(CONTEXT_LINES).max(1);
        let last = (end.line + CONTEXT_LINES).min(file.line_count());
        let from = file.line_start(first).unwrap_or(0);
        let to = file.line_start(last + 1).unwrap_or(file.text.len());
        window = visible_controls(&file.masked_slice(crate::span::Span::new(from, to)));
        let rel = |o: usize| o.clamp(from, to) - from;
        let mut snippet = Snippet::source(window.trim_end_matches(['\n', '\r']))
            .line_start(first)
            .path(file.display.as_str())
            .annotation(
                AnnotationKind::Primary.span(rel(d.span.start)..rel(d.span.end.max(d.span.start))),
            );
        for step in &d.trace {
            let here = std::sync::Arc::ptr_eq(&step.file, &d.file);
            if here && step.span.start >= from && step.span.end <= to && step.span != d.span {
                snippet = snippet.annotation(
                    AnnotationKind::Context
                        .span(rel(step.span.start)..rel(step.span.end))
                        .label(step.message.as_str()),
                );
            }
        }
        level(d.severity)
            .primary_title(title)
            .id(d.rule.code)
            .element(snippet)
    };
    // The whole flow, source first, as a numbered list under the frame.
    let steps: Vec<String> = d
        .trace
        .iter()
        .enumerate()
        .map(|(i, step)| {
            let at = step.file.line_col(step.span.start);
            format!(
                "{}. {}:{}:{} {}",
                i + 1,
                step.file.display,
                at.line,
                at.column,
                step.message
            )
        })
        .collect();
    let group = if steps.is_empty() {
        group
    } else {
        group.element(Level::NOTE.message(format!("trace:\n{}", steps.join("\n"))))
    };
    let group = match &d.help {
        Some(help) => group.element(Level::HELP.message(help.as_str())),
        None => group,
    };
    renderer.render(&[group])
}

fn summary(report: &Report) -> String {
    let counts = report.count_by_severity();
    let files = report
        .findings
        .iter()
        .map(|f| &f.diagnostic.file.display)
        .collect::<std::collections::BTreeSet<_>>()
        .len();
    let mut line = format!(
        "Scanned {} file{} ({} MCP server{}): ",
        report.files_scanned,
        plural(report.files_scanned),
        report.servers.len(),
        plural(report.servers.len()),
    );
    if report.findings.is_empty() {
        line.push_str("no findings");
    } else {
        let parts: Vec<String> = Severity::ALL
            .iter()
            .filter_map(|s| counts.get(s).map(|n| format!("{n} {s}")))
            .collect();
        line.push_str(&format!(
            "{} finding{} in {} file{} ({})",
            report.findings.len(),
            plural(report.findings.len()),
            files,
            plural(files),
            parts.join(", ")
        ));
    }
    if report.suppressed > 0 {
        line.push_str(&format!("; {} suppressed", report.suppressed));
    }
    line.push('\n');
    line
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// Characters a terminal hides or uses to reorder a line (zero-width characters, bidi
/// controls, Unicode tag characters), replaced by visible marks of the same byte length so the
/// annotations stay where they were: a code frame must not be made to lie (Trojan Source). The
/// finding's message says what the characters were.
fn visible_controls(text: &str) -> String {
    text.chars()
        .map(|c| match (is_invisible(c), c.len_utf8()) {
            (false, _) => c.to_string(),
            (true, 3) => "\u{2423}".to_string(),
            (true, n) => "\u{b7}".repeat(n / 2) + &"?".repeat(n % 2),
        })
        .collect()
}

fn is_invisible(c: char) -> bool {
    matches!(c,
        '\u{00AD}'
        | '\u{200B}'..='\u{200F}'
        | '\u{202A}'..='\u{202E}'
        | '\u{2060}'..='\u{2064}'
        | '\u{2066}'..='\u{2069}'
        | '\u{FEFF}'
        | '\u{E0000}'..='\u{E007F}')
}

#[cfg(test)]
mod tests {
    use super::visible_controls;

    #[test]
    fn invisible_and_reordering_characters_are_shown_with_the_same_byte_length() {
        let hidden = "a\u{202E}b\u{200B}c\u{E0069}d\u{00AD}e";
        let shown = visible_controls(hidden);
        assert_eq!(shown.len(), hidden.len(), "spans must stay valid");
        assert_eq!(shown, "a\u{2423}b\u{2423}c\u{b7}\u{b7}d\u{b7}e");
        assert_eq!(visible_controls("plain text"), "plain text");
    }
}
