//! Micro-benchmark of the injected-instruction check on responses ([`inject::check`]), run by
//! `scripts/bench-inject.sh`. Not a test: it prints figures and asserts nothing.
//!
//! Reads prose on standard input, repeats it to BYTES, and checks it shaped as a `tools/call`
//! result: `one` (one text block), `blocks` (text blocks of about 4 KiB) or `structured` (a
//! `structuredContent` array of strings of about 200 bytes). Prints the time per MiB, the
//! median of RUNS.
//!
//! usage: inject_bench [BYTES] [SHAPE] [RUNS] < prose.txt
#![allow(clippy::print_stdout)]

use std::io::Read;
use std::time::Instant;

use portcullis_gateway::inject;
use serde_json::{Value, json};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let bytes: usize = args.first().and_then(|a| a.parse().ok()).unwrap_or(1 << 20);
    let shape = args.get(1).map_or("one", String::as_str);
    let runs: usize = args.get(2).and_then(|a| a.parse().ok()).unwrap_or(3);
    let mut prose = String::new();
    let _ = std::io::stdin().read_to_string(&mut prose);
    if prose.trim().is_empty() {
        prose = "The file has 3 lines. Run `make test` locally to check the build passes.\n".into();
    }
    let mut text = String::with_capacity(bytes + prose.len());
    while text.len() < bytes {
        text.push_str(&prose);
    }
    let mut cut = bytes.min(text.len());
    while !text.is_char_boundary(cut) {
        cut -= 1;
    }
    text.truncate(cut);
    let result = shaped(&text, shape);
    let mut times = Vec::new();
    let mut findings = 0;
    for _ in 0..runs.max(1) {
        let start = Instant::now();
        let report = inject::check(&result, "tools/call", "bench", usize::MAX);
        times.push(start.elapsed().as_secs_f64());
        findings = report.findings.len();
    }
    times.sort_by(f64::total_cmp);
    let median = times[times.len() / 2];
    let mib = text.len() as f64 / f64::from(1 << 20);
    println!(
        "shape={shape} bytes={} runs={} median={:.1} ms ({:.0} ms per MiB) findings={findings}",
        text.len(),
        times.len(),
        median * 1e3,
        median * 1e3 / mib,
    );
}

/// `text` as a `tools/call` result of the given shape.
fn shaped(text: &str, shape: &str) -> Value {
    let pieces = |size: usize| -> Vec<String> {
        let mut out = Vec::new();
        let mut rest = text;
        while !rest.is_empty() {
            let mut end = size.min(rest.len());
            while !rest.is_char_boundary(end) {
                end -= 1;
            }
            out.push(rest[..end].to_string());
            rest = &rest[end..];
        }
        out
    };
    match shape {
        "blocks" => {
            let blocks: Vec<Value> = pieces(4096)
                .into_iter()
                .map(|t| json!({"type": "text", "text": t}))
                .collect();
            json!({"content": blocks})
        }
        "structured" => json!({"content": [], "structuredContent": {"items": pieces(200)}}),
        _ => json!({"content": [{"type": "text", "text": text}]}),
    }
}
