//! One self-contained HTML page for sharing a report: inline CSS, no script, no fonts, no images,
//! and a Content-Security-Policy that forbids loading anything, so opening the page never touches
//! the network. It reads the same with or without JavaScript, in light and dark mode.
//!
//! Findings are grouped by severity (critical first), then by file. Code frames are built only
//! from the masked text, so a secret never reaches the page; everything else is escaped.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::model::Transport;
use crate::registry::Severity;
use crate::report::{Finding, Report};
use crate::source::SourceFile;
use crate::span::Span;

/// Lines shown before and after the flagged lines.
const CONTEXT_LINES: usize = 2;
/// At most this many flagged lines are shown; the middle of a longer span is elided.
const MAX_SPAN_LINES: usize = 8;
/// Lines longer than this (minified JSON) are cut to a window around the flagged text.
const MAX_LINE_CHARS: usize = 160;

/// Nothing may be fetched: styles are inline, and there is no script.
const CSP: &str =
    "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'";

const STYLE: &str = r#"
:root {
  color-scheme: light dark;
  --bg: #ffffff; --fg: #1b1f24; --muted: #57606a; --card: #f6f8fa; --border: #d0d7de;
  --code-bg: #ffffff; --gutter: #636c76; --mark-bg: #ffe08a; --mark-fg: #1b1f24;
  --link: #0550ae;
  --critical: #a40e26; --high: #b3370b; --medium: #7a5600; --low: #0b57d0; --info: #4b5563;
}
@media (prefers-color-scheme: dark) {
  :root {
    --bg: #0d1117; --fg: #e6edf3; --muted: #9da7b3; --card: #161b22; --border: #30363d;
    --code-bg: #0d1117; --gutter: #8b949e; --mark-bg: #6b4f00; --mark-fg: #ffffff;
    --link: #79b8ff;
    --critical: #ff7b86; --high: #ffa657; --medium: #e3b341; --low: #79b8ff; --info: #b1bac4;
  }
}
* { box-sizing: border-box; }
body {
  margin: 0 auto; max-width: 70rem; padding: 1.5rem; background: var(--bg); color: var(--fg);
  font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
}
a { color: var(--link); }
h1 { margin: 0 0 .25rem; font-size: 1.8rem; }
h2 { margin: 2rem 0 .75rem; font-size: 1.4rem; border-bottom: 1px solid var(--border); padding-bottom: .25rem; }
h3 { margin: 1.5rem 0 .5rem; font-size: 1.2rem; }
h4 { margin: 1rem 0 .5rem; font-size: 1rem; font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; word-break: break-all; }
h5 { margin: 0 0 .4rem; font-size: 1rem; }
code, pre { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, "Liberation Mono", monospace; font-size: .875rem; }
p code, li code, h5 code { background: var(--card); border: 1px solid var(--border); border-radius: 4px; padding: 0 .25em; overflow-wrap: anywhere; }
.tool { color: var(--muted); margin: 0; }
.stats { display: flex; flex-wrap: wrap; gap: .5rem 2rem; margin: 0 0 1rem; padding: 0; }
.stats div { display: flex; flex-direction: column; }
.stats dt { color: var(--muted); font-size: .875rem; }
.stats dd { margin: 0; font-size: 1.4rem; font-weight: 600; }
.badges { display: flex; flex-wrap: wrap; gap: .5rem; list-style: none; padding: 0; margin: 0; }
.badge {
  display: inline-block; border-radius: 999px; padding: .1rem .6rem; font-size: .85rem; font-weight: 600;
  border: 2px solid currentColor; white-space: nowrap;
}
.badge.zero { font-weight: 400; border-style: dashed; }
.sev-critical { color: var(--critical); } .sev-high { color: var(--high); } .sev-medium { color: var(--medium); }
.sev-low { color: var(--low); } .sev-info { color: var(--info); }
.finding {
  background: var(--card); border: 1px solid var(--border); border-left: 6px solid currentColor;
  border-radius: 6px; padding: .75rem 1rem; margin: 0 0 1rem;
}
.finding > * { color: var(--fg); }
.finding h5 .name { font-weight: 400; color: var(--muted); }
.meta { display: flex; flex-wrap: wrap; gap: .25rem 1rem; margin: 0 0 .5rem; padding: 0; font-size: .875rem; }
.meta div { display: flex; gap: .35rem; }
.meta dt { color: var(--muted); }
.meta dd { margin: 0; }
.message { margin: .25rem 0 .5rem; font-size: 1.05rem; }
.location { margin: 0 0 .25rem; font-size: .875rem; }
.frame {
  background: var(--code-bg); border: 1px solid var(--border); border-radius: 6px; margin: 0 0 .5rem;
  padding: .5rem 0; overflow-x: auto; line-height: 1.45;
}
.frame .line { display: block; padding: 0 .75rem 0 0; white-space: pre; }
.frame .ln { display: inline-block; min-width: 3.5rem; padding: 0 .75rem; text-align: right; color: var(--gutter); user-select: none; }
.frame .hit { background: color-mix(in srgb, var(--mark-bg) 35%, transparent); }
.frame .hit .ln { color: var(--fg); font-weight: 700; }
.frame mark { background: var(--mark-bg); color: var(--mark-fg); border-radius: 2px; outline: 1px solid currentColor; }
.frame .gap { color: var(--gutter); }
.invisible {
  color: var(--high); border: 1px dashed currentColor; border-radius: 3px; padding: 0 .15em;
  font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: .8em;
}
.help { margin: .25rem 0; }
.trace { margin: .25rem 0 .5rem; padding-left: 1.5rem; }
details { margin: .5rem 0 0; }
summary { cursor: pointer; color: var(--link); }
details p { margin: .5rem 0; }
table { border-collapse: collapse; width: 100%; font-size: .9rem; }
caption { text-align: left; color: var(--muted); padding: 0 0 .5rem; }
th, td { border: 1px solid var(--border); padding: .35rem .6rem; text-align: left; vertical-align: top; }
th { background: var(--card); }
td.path { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: .85rem; word-break: break-all; }
.empty { font-size: 1.2rem; font-weight: 600; padding: 1rem; border: 1px dashed var(--border); border-radius: 6px; }
.notes li { margin: .25rem 0; }
nav ul { display: flex; flex-wrap: wrap; gap: .5rem 1.25rem; list-style: none; padding: 0; margin: .5rem 0 0; }
footer { margin-top: 3rem; color: var(--muted); font-size: .875rem; }
"#;

/// Renders `report` as one HTML page. Same report, same bytes.
pub fn render(report: &Report) -> String {
    let mut out = String::with_capacity(16 * 1024 + report.findings.len() * 2048);
    out.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    out.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    out.push_str("<meta name=\"color-scheme\" content=\"light dark\">\n");
    let _ = writeln!(
        out,
        "<meta http-equiv=\"Content-Security-Policy\" content=\"{}\">",
        escape(CSP)
    );
    out.push_str("<meta name=\"referrer\" content=\"no-referrer\">\n");
    out.push_str("<title>Portcullis report</title>\n<style>");
    out.push_str(STYLE);
    out.push_str("</style>\n</head>\n<body>\n");

    out.push_str("<header>\n<h1>Portcullis report</h1>\n");
    let _ = writeln!(
        out,
        "<p class=\"tool\">portcullis {}: a security scan of MCP client configurations and servers</p>",
        escape(env!("CARGO_PKG_VERSION"))
    );
    out.push_str("</header>\n<main>\n");

    summary(&mut out, report);
    findings(&mut out, report);
    servers(&mut out, report);

    out.push_str("</main>\n<footer>\n");
    out.push_str("<p>Secrets are masked in this report: only the first and last few characters of a detected credential are shown.</p>\n");
    out.push_str("</footer>\n</body>\n</html>\n");
    out
}

fn summary(out: &mut String, report: &Report) {
    let counts = report.count_by_severity();
    out.push_str("<section aria-labelledby=\"summary\">\n<h2 id=\"summary\">Summary</h2>\n");
    out.push_str("<dl class=\"stats\">\n");
    for (label, value) in [
        ("Files scanned", report.files_scanned),
        ("MCP servers", report.servers.len()),
        ("Findings", report.findings.len()),
        ("Suppressed", report.suppressed),
    ] {
        let _ = writeln!(out, "<div><dt>{label}</dt><dd>{value}</dd></div>");
    }
    out.push_str("</dl>\n<ul class=\"badges\" aria-label=\"Findings by severity\">\n");
    for severity in Severity::ALL {
        let n = counts.get(&severity).copied().unwrap_or(0);
        let class = if n == 0 { " zero" } else { "" };
        let label = format!("{n} {}", severity.as_str());
        let badge = format!(
            "<span class=\"badge sev-{}{class}\">{}</span>",
            severity.as_str(),
            escape(&label)
        );
        if n == 0 {
            let _ = writeln!(out, "<li>{badge}</li>");
        } else {
            let _ = writeln!(
                out,
                "<li><a href=\"#severity-{}\">{badge}</a></li>",
                severity.as_str()
            );
        }
    }
    out.push_str("</ul>\n");
    if !report.notes.is_empty() {
        out.push_str("<h3>Notes</h3>\n<ul class=\"notes\">\n");
        for note in &report.notes {
            let _ = writeln!(out, "<li>{}</li>", inline(note));
        }
        out.push_str("</ul>\n");
    }
    out.push_str("</section>\n");
}

fn findings(out: &mut String, report: &Report) {
    out.push_str("<section aria-labelledby=\"findings\">\n<h2 id=\"findings\">Findings</h2>\n");
    if report.findings.is_empty() {
        let _ = writeln!(
            out,
            "<p class=\"empty\">No findings. Portcullis scanned {} file{} and {} MCP server{} and found nothing to report.</p>",
            report.files_scanned,
            plural(report.files_scanned),
            report.servers.len(),
            plural(report.servers.len()),
        );
        out.push_str("</section>\n");
        return;
    }

    // Severity, then file: BTreeMaps keep the order stable.
    let mut grouped: BTreeMap<std::cmp::Reverse<Severity>, BTreeMap<&str, Vec<&Finding>>> =
        BTreeMap::new();
    for finding in &report.findings {
        let d = &finding.diagnostic;
        grouped
            .entry(std::cmp::Reverse(d.severity))
            .or_default()
            .entry(d.file.display.as_str())
            .or_default()
            .push(finding);
    }

    out.push_str("<nav aria-label=\"Severities\"><ul>\n");
    for (severity, files) in &grouped {
        let n: usize = files.values().map(Vec::len).sum();
        let _ = writeln!(
            out,
            "<li><a href=\"#severity-{0}\">{1} ({n})</a></li>",
            severity.0.as_str(),
            title_case(severity.0.as_str()),
        );
    }
    out.push_str("</ul></nav>\n");

    let mut index = 0;
    for (severity, files) in &grouped {
        let severity = severity.0;
        let n: usize = files.values().map(Vec::len).sum();
        let _ = writeln!(
            out,
            "<section class=\"severity\" aria-labelledby=\"severity-{0}\">\n<h3 id=\"severity-{0}\" class=\"sev-{0}\">{1} <span class=\"count\">({n} finding{2})</span></h3>",
            severity.as_str(),
            title_case(severity.as_str()),
            plural(n),
        );
        for (file, list) in files {
            let _ = writeln!(
                out,
                "<h4>{} <span class=\"count\">({} finding{})</span></h4>",
                escape(file),
                list.len(),
                plural(list.len())
            );
            for finding in list {
                index += 1;
                finding_html(out, finding, index);
            }
        }
        out.push_str("</section>\n");
    }
    out.push_str("</section>\n");
}

fn finding_html(out: &mut String, finding: &Finding, index: usize) {
    let d = &finding.diagnostic;
    let rule = d.rule;
    let start = d.start();
    let sev = d.severity.as_str();
    let _ = writeln!(
        out,
        "<article class=\"finding sev-{sev}\" id=\"finding-{index}\" aria-labelledby=\"finding-{index}-title\">"
    );
    let _ = writeln!(
        out,
        "<h5 id=\"finding-{index}-title\"><code>{}</code> {} <span class=\"name\">{}</span></h5>",
        escape(rule.code),
        escape(rule.summary),
        escape(rule.name),
    );
    out.push_str("<dl class=\"meta\">\n");
    let _ = writeln!(
        out,
        "<div><dt>Severity</dt><dd><span class=\"badge sev-{sev}\">{sev}</span></dd></div>"
    );
    let _ = writeln!(
        out,
        "<div><dt>Confidence</dt><dd>{}</dd></div>",
        d.confidence.as_str()
    );
    if !rule.cwe.is_empty() {
        let links: Vec<String> = rule
            .cwe
            .iter()
            .map(|c| {
                format!(
                    "<a href=\"https://cwe.mitre.org/data/definitions/{c}.html\" rel=\"noreferrer\">CWE-{c}</a>"
                )
            })
            .collect();
        let _ = writeln!(out, "<div><dt>CWE</dt><dd>{}</dd></div>", links.join(", "));
    }
    if let Some(server) = &d.server {
        let _ = writeln!(
            out,
            "<div><dt>Server</dt><dd><code>{}</code></dd></div>",
            escape(server)
        );
    }
    out.push_str("</dl>\n");
    let _ = writeln!(out, "<p class=\"message\">{}</p>", inline(&d.message));
    let _ = writeln!(
        out,
        "<p class=\"location\"><code>{}:{}:{}</code></p>",
        escape(&d.file.display),
        start.line,
        start.column
    );
    code_frame(out, &d.file, d.span);
    if let Some(help) = &d.help {
        let _ = writeln!(
            out,
            "<p class=\"help\"><strong>Help:</strong> {}</p>",
            inline(help)
        );
    }
    if !d.trace.is_empty() {
        out.push_str("<p class=\"help\"><strong>Trace:</strong></p>\n<ol class=\"trace\">\n");
        for step in &d.trace {
            let at = step.file.line_col(step.span.start);
            let _ = writeln!(
                out,
                "<li><code>{}:{}:{}</code> {}</li>",
                escape(&step.file.display),
                at.line,
                at.column,
                inline(&step.message)
            );
        }
        out.push_str("</ol>\n");
    }
    if let Some(why) = rule
        .doc_section("Why is this bad?")
        .filter(|s| !s.is_empty())
    {
        out.push_str("<details>\n<summary>Why is this bad?</summary>\n");
        for paragraph in why.split("\n\n") {
            let _ = writeln!(out, "<p>{}</p>", inline(paragraph.trim()));
        }
        out.push_str("</details>\n");
    }
    out.push_str("</article>\n");
}

/// A few lines around `span`, numbered, with the flagged text in `<mark>`; built only from the
/// masked text. Byte offsets are the same in the masked and the original text, so the original
/// line index applies to both.
fn code_frame(out: &mut String, file: &SourceFile, span: Span) {
    if file.text.is_empty() {
        return;
    }
    let masked = file.masked_text();
    let start = file.line_col(span.start).line;
    let end_offset = if span.end > span.start {
        span.end - 1
    } else {
        span.start
    };
    let end = file.line_col(end_offset).line.max(start);
    // The empty "line" after a final newline is not worth showing.
    let lines = file.line_count() - usize::from(file.text.ends_with('\n'));
    let first = start.saturating_sub(CONTEXT_LINES).max(1);
    let last = (end + CONTEXT_LINES).min(lines).max(start);
    let numbers_width = last.to_string().len();
    // A long span shows its first and last few lines with a gap between.
    let half = MAX_SPAN_LINES / 2;
    let gap = (end - start + 1 > MAX_SPAN_LINES).then(|| (start + half, end + 1 - half));

    out.push_str("<pre class=\"frame\"><code>");
    for line in first..=last {
        if let Some((from, to)) = gap
            && (from..to).contains(&line)
        {
            if line == from {
                let _ = write!(
                    out,
                    "<span class=\"line gap\"><span class=\"ln\">{:>numbers_width$}</span>… {} more lines</span>",
                    "⋮",
                    to - from
                );
            }
            continue;
        }
        let Some(from) = file.line_start(line) else {
            continue;
        };
        let to = file.line_start(line + 1).unwrap_or(file.text.len());
        let Some(text) = masked.get(from..to) else {
            continue;
        };
        let text = text.trim_end_matches(['\n', '\r']);
        let to = from + text.len();
        // The part of the span on this line, in bytes relative to the line.
        let hit = if span.is_empty() {
            // `then`, not `then_some`: the subtraction must only run when the span is here.
            (span.start >= from && span.start <= to).then(|| (span.start - from, span.start - from))
        } else if span.start <= to && span.end > from && line >= start && line <= end {
            Some((span.start.max(from) - from, span.end.min(to) - from))
        } else {
            None
        };
        let class = if hit.is_some() { "line hit" } else { "line" };
        let _ = write!(
            out,
            "<span class=\"{class}\"><span class=\"ln\">{line:>numbers_width$}</span>"
        );
        frame_line(out, text, hit);
        out.push_str("</span>");
    }
    out.push_str("</code></pre>\n");
}

/// One line of a frame: escaped, the hit in `<mark>`, cut to a window around the hit if long.
fn frame_line(out: &mut String, text: &str, hit: Option<(usize, usize)>) {
    let cut = |at: usize| {
        let mut at = at.min(text.len());
        while !text.is_char_boundary(at) {
            at -= 1;
        }
        at
    };
    let (hit_start, hit_end) = match hit {
        Some((a, b)) => (cut(a), cut(b).max(cut(a))),
        None => (0, 0),
    };
    // Window in bytes, on char boundaries, about MAX_LINE_CHARS wide.
    let (lo, hi) = if text.chars().count() <= MAX_LINE_CHARS {
        (0, text.len())
    } else {
        let before: Vec<usize> = text[..hit_start].char_indices().map(|(i, _)| i).collect();
        let lo = before
            .len()
            .checked_sub(MAX_LINE_CHARS / 3)
            .map_or(0, |i| before[i]);
        let hi = text[lo..]
            .char_indices()
            .nth(MAX_LINE_CHARS)
            .map_or(text.len(), |(i, _)| lo + i)
            .max(cut(hit_end.min(lo + 4 * MAX_LINE_CHARS)));
        (lo, cut(hi))
    };
    if lo > 0 {
        out.push_str("<span class=\"gap\">…</span>");
    }
    match hit {
        Some(_) => {
            let a = hit_start.clamp(lo, hi);
            let b = hit_end.clamp(a, hi);
            out.push_str(&escape(&text[lo..a]));
            out.push_str("<mark>");
            out.push_str(&escape(&text[a..b]));
            out.push_str("</mark>");
            out.push_str(&escape(&text[b..hi]));
        }
        None => out.push_str(&escape(&text[lo..hi])),
    }
    if hi < text.len() {
        out.push_str("<span class=\"gap\">…</span>");
    }
}

fn servers(out: &mut String, report: &Report) {
    out.push_str("<section aria-labelledby=\"servers\">\n<h2 id=\"servers\">MCP servers</h2>\n");
    if report.servers.is_empty() {
        out.push_str("<p>No MCP servers were found.</p>\n</section>\n");
        return;
    }
    out.push_str(
        "<table>\n<caption>Every server entry found in the scanned configurations.</caption>\n",
    );
    out.push_str("<thead><tr><th scope=\"col\">Server</th><th scope=\"col\">Transport</th><th scope=\"col\">Enabled</th><th scope=\"col\">Client</th><th scope=\"col\">Scope</th><th scope=\"col\">File</th></tr></thead>\n<tbody>\n");
    for s in &report.servers {
        let _ = writeln!(
            out,
            "<tr><th scope=\"row\"><code>{}</code></th><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"path\">{}</td></tr>",
            escape(&s.name),
            transport(s.transport),
            if s.enabled { "yes" } else { "no" },
            escape(s.client),
            escape(s.scope),
            escape(&s.file),
        );
    }
    out.push_str("</tbody>\n</table>\n</section>\n");
}

fn transport(t: Transport) -> &'static str {
    match t {
        Transport::Stdio => "stdio",
        Transport::StreamableHttp => "streamable HTTP",
        Transport::Sse => "SSE",
        Transport::WebSocket => "WebSocket",
        Transport::Builtin => "built-in",
        Transport::Unknown => "unknown",
    }
}

/// Escapes text for HTML element content and quoted attribute values, and makes every
/// character that a browser would hide or use to reorder text visible (see [`invisible`]): a
/// poisoned description must not hide or reorder text in our own report (Trojan Source). The
/// marks are markup, so attribute values must hold only our own text.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / 8);
    // A run of Unicode tag characters spells ASCII text that no one sees: show it decoded.
    let mut tags = String::new();
    for c in text.chars() {
        if let Some(ascii) = tag_ascii(c) {
            tags.push(ascii);
            continue;
        }
        flush_tags(&mut out, &mut tags);
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => match invisible(c) {
                Some(name) => {
                    let _ = write!(
                        out,
                        "<span class=\"invisible\" title=\"{name}\">[U+{:04X}]</span>",
                        c as u32
                    );
                }
                None => out.push(c),
            },
        }
    }
    flush_tags(&mut out, &mut tags);
    out
}

fn flush_tags(out: &mut String, tags: &mut String) {
    if tags.is_empty() {
        return;
    }
    let mut shown = String::with_capacity(tags.len());
    for c in tags.chars() {
        match c {
            '&' => shown.push_str("&amp;"),
            '<' => shown.push_str("&lt;"),
            '>' => shown.push_str("&gt;"),
            '"' => shown.push_str("&quot;"),
            '\'' => shown.push_str("&#39;"),
            c => shown.push(c),
        }
    }
    let _ = write!(
        out,
        "<span class=\"invisible tags\" title=\"Unicode tag characters: invisible text, shown decoded\">[hidden: {shown}]</span>"
    );
    tags.clear();
}

/// The ASCII character an invisible Unicode tag character (U+E0020 to U+E007E) spells.
fn tag_ascii(c: char) -> Option<char> {
    let code = c as u32;
    (0xE0020..=0xE007E)
        .contains(&code)
        .then(|| char::from_u32(code - 0xE0000))
        .flatten()
}

/// What a browser would not show, or would use to reorder the text around it: controls
/// (except tab and line feed), zero-width characters and joiners, bidi controls, line and
/// paragraph separators, invisible fillers, variation selectors, the other tag characters.
/// Returns a name for the mark's tooltip.
fn invisible(c: char) -> Option<&'static str> {
    Some(match c {
        '\t' | '\n' => return None,
        '\u{202A}'..='\u{202E}'
        | '\u{2066}'..='\u{2069}'
        | '\u{200E}'
        | '\u{200F}'
        | '\u{061C}' => "bidirectional control: reorders the text around it",
        '\u{200B}'..='\u{200D}' | '\u{2060}'..='\u{2064}' | '\u{FEFF}' | '\u{180E}' => {
            "zero-width character"
        }
        '\u{2028}' | '\u{2029}' => "line or paragraph separator",
        '\u{00AD}'
        | '\u{034F}'
        | '\u{115F}'
        | '\u{1160}'
        | '\u{17B4}'
        | '\u{17B5}'
        | '\u{3164}'
        | '\u{FFA0}'
        | '\u{FFF9}'..='\u{FFFB}' => "invisible character",
        '\u{FE00}'..='\u{FE0F}' | '\u{E0100}'..='\u{E01EF}' => "variation selector",
        '\u{E0000}'..='\u{E007F}' => "Unicode tag character",
        c if c.is_control() => "control character",
        _ => return None,
    })
}

/// Escaped text with `backticked` spans as `<code>`, the one piece of Markdown that messages,
/// help and rule docs use inline. An unpaired backtick is kept as is.
fn inline(text: &str) -> String {
    let parts: Vec<&str> = text.split('`').collect();
    let mut out = String::with_capacity(text.len() + 16);
    let paired = parts.len() % 2 == 1;
    for (i, part) in parts.iter().enumerate() {
        let last = i + 1 == parts.len();
        if i % 2 == 1 && (paired || !last) {
            out.push_str("<code>");
            out.push_str(&escape(part));
            out.push_str("</code>");
        } else {
            if i % 2 == 1 {
                out.push('`');
            }
            out.push_str(&escape(part));
        }
    }
    out
}

fn title_case(word: &str) -> String {
    let mut chars = word.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_the_five_characters() {
        assert_eq!(
            escape(r#"<a href="x">'&'</a>"#),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
    }

    #[test]
    fn backticks_become_code() {
        assert_eq!(inline("use `a<b` now"), "use <code>a&lt;b</code> now");
        assert_eq!(inline("odd ` tick"), "odd ` tick");
        assert_eq!(inline("`a` and `b"), "<code>a</code> and `b");
    }

    #[test]
    fn long_lines_are_cut_around_the_hit() {
        let text = format!("{}SECRET{}", "x".repeat(500), "y".repeat(500));
        let mut out = String::new();
        frame_line(&mut out, &text, Some((500, 506)));
        assert!(out.contains("<mark>SECRET</mark>"));
        assert!(out.starts_with("<span class=\"gap\">…</span>"));
        assert!(out.ends_with("<span class=\"gap\">…</span>"));
        assert!(out.len() < 400);
    }

    #[test]
    fn invisible_and_reordering_characters_are_shown() {
        // A bidi override, zero-width characters and tag characters spelling `<b>hi`.
        let hidden = "safe\u{202E}txt.exe\u{2066}x\u{2069}a\u{200B}b\u{E003C}\u{E0062}\u{E003E}\u{E0068}\u{E0069}!";
        let shown = escape(hidden);
        for c in [
            '\u{202E}',
            '\u{2066}',
            '\u{2069}',
            '\u{200B}',
            '\u{E003C}',
            '\u{E0068}',
        ] {
            assert!(!shown.contains(c), "{c:?} reached the page raw: {shown}");
        }
        assert!(shown.contains("[U+202E]"), "{shown}");
        assert!(shown.contains("[U+200B]"), "{shown}");
        assert!(shown.contains("[hidden: &lt;b&gt;hi]"), "{shown}");
        assert!(shown.ends_with("</span>!"), "{shown}");
        assert_eq!(escape("tab\tand\nline"), "tab\tand\nline");
        assert_eq!(escape("日本語 café"), "日本語 café");
    }

    #[test]
    fn a_poisoned_line_in_a_frame_is_shown_whole_and_in_order() {
        let line = "\"description\": \"Adds.\u{202E} }sdrawkcab{ \u{E0069}\u{E0067}\"";
        let mut out = String::new();
        frame_line(&mut out, line, Some((16, line.len() - 1)));
        assert!(
            !out.chars()
                .any(|c| invisible(c).is_some() || tag_ascii(c).is_some()),
            "{out}"
        );
        assert!(
            out.contains("[U+202E]") && out.contains("[hidden: ig]"),
            "{out}"
        );
    }
}
