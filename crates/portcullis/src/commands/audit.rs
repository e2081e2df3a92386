//! `portcullis audit list|verify|export`: reads the gateway's audit log.

use std::fmt::Write as _;
use std::process::ExitCode;

use anyhow::Context;
use portcullis_gateway::audit::{read_records, verify};

use crate::cli::AuditCommand;
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
    }
}
