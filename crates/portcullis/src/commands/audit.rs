//! `portcullis audit list|verify|export|follow`: reads the gateway's audit log.

use std::fmt::Write as _;
use std::io::Write as _;
use std::process::ExitCode;

use anyhow::Context;
use portcullis_gateway::audit::{Record, read_records, verify};
use portcullis_gateway::follow::{End, Follower, Start, follow};

use crate::cli::{AuditCommand, AuditFollowArgs, FollowFormat};
use crate::commands::gateway::audit_location;
use crate::output;

pub fn run(command: AuditCommand) -> anyhow::Result<ExitCode> {
    match command {
        AuditCommand::List(args) => {
            let (path, format) = audit_location(args.file.audit, args.file.audit_format)?;
            let records = read_records(&path, format)
                .with_context(|| format!("cannot read the audit log {}", path.display()))?;
            let skip = args.last.map_or(0, |n| records.len().saturating_sub(n));
            let mut out = String::new();
            for r in &records[skip..] {
                out.push_str(&text_line(r));
            }
            output::write(&out, None)?;
            Ok(ExitCode::SUCCESS)
        }
        AuditCommand::Verify(args) => {
            let (path, format) = audit_location(args.audit, args.audit_format)?;
            let records = read_records(&path, format)
                .with_context(|| format!("cannot read the audit log {}", path.display()))?;
            let v = verify(&records);
            match v.first_broken {
                None => {
                    output::write(
                        &format!(
                            "{}: {} records, the hash chain holds\n",
                            path.display(),
                            v.records
                        ),
                        None,
                    )?;
                    Ok(ExitCode::SUCCESS)
                }
                Some((seq, why)) => {
                    output::write(
                        &format!(
                            "{}: the hash chain is broken at record {seq}: {why}\n",
                            path.display()
                        ),
                        None,
                    )?;
                    Ok(ExitCode::from(1))
                }
            }
        }
        AuditCommand::Export(args) => {
            let (path, format) = audit_location(args.file.audit, args.file.audit_format)?;
            let records = read_records(&path, format)
                .with_context(|| format!("cannot read the audit log {}", path.display()))?;
            let mut out = String::new();
            for r in &records {
                out.push_str(&serde_json::to_string(r)?);
                out.push('\n');
            }
            output::write(&out, args.output.as_deref())?;
            Ok(ExitCode::SUCCESS)
        }
        AuditCommand::Follow(args) => run_follow(args),
    }
}

/// One record as `audit list` shows it, with its newline.
fn text_line(r: &Record) -> String {
    let mut out = String::new();
    let _ = write!(
        out,
        "{:>6}  {}  {:<8}  {:<14}  {:<16}  {:<15}  {:<8}",
        r.seq,
        r.time,
        r.server,
        r.event,
        r.method,
        r.tool.as_deref().unwrap_or("-"),
        r.decision,
    );
    if let Some(us) = r.latency_us {
        let _ = write!(out, "  {:.1} ms", us as f64 / 1000.0);
    }
    if let Some(reason) = &r.reason {
        let _ = write!(out, "  {reason}");
    }
    if let Some(rule) = &r.rule {
        let _ = write!(out, "  [{rule}]");
    }
    out.push('\n');
    out
}

fn run_follow(args: AuditFollowArgs) -> anyhow::Result<ExitCode> {
    let (path, format) = audit_location(args.file.audit, args.file.audit_format)?;
    let start = match &args.since {
        None => Start::Last(args.last),
        Some(s) => match s.parse::<u64>() {
            Ok(seq) => Start::AfterSeq(seq),
            Err(_) => Start::Since(s.clone()),
        },
    };
    let follower = Follower::open(&path, format, &start)
        .with_context(|| format!("cannot read the audit log {}", path.display()))?;
    let json = args.format == FollowFormat::Json;
    let emit = |records: &[Record]| -> std::io::Result<()> {
        let mut text = String::new();
        for r in records {
            if json {
                text.push_str(&serde_json::to_string(r)?);
                text.push('\n');
            } else {
                text.push_str(&text_line(r));
            }
        }
        let mut stdout = std::io::stdout().lock();
        stdout.write_all(text.as_bytes())?;
        stdout.flush()
    };
    let interval = std::time::Duration::from_millis(args.interval_ms);
    match follow(follower, interval, emit)
        .with_context(|| format!("cannot follow the audit log {}", path.display()))?
    {
        // Stopped on purpose, or nobody reads any more: both are a clean end.
        End::Signal(_) | End::OutputClosed => Ok(ExitCode::SUCCESS),
    }
}
