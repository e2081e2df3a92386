//! Inspecting the servers of the user's client configs (`scan --inspect`, `pin --inspect`):
//! turn each config entry into something to launch or reach, ask the user first, inspect them
//! a few at a time, and hand the snapshots to the scanner.
//!
//! Consent is the point of this module: nothing is launched or contacted unless the user
//! agreed, on a terminal (a prompt listing exactly what will run) or with `--yes` in CI. A
//! server that cannot be inspected is a note, and the others go on.

use std::fmt::Write as _;
use std::io::{BufRead as _, IsTerminal as _};
use std::path::PathBuf;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use anyhow::bail;
use portcullis_mcp::client::{
    self, ClientVariables, Confinement, HttpTransport, LaunchSpec, Options, Target,
    resolve_references,
};
use portcullis_mcp::{Snapshot, mask};
use portcullis_scan::model::Transport;
use portcullis_scan::tools::live::{ConfiguredServer, LiveServer};
use portcullis_scan::tools::mask_secrets;

use crate::cli::LiveArgs;

/// At most this many servers are inspected at once.
const PARALLEL: usize = 4;

/// One configured server that will be inspected.
pub struct Planned {
    pub server: ConfiguredServer,
    pub target: Target,
    /// Variables the entry refers to that are not set here (the server gets nothing for them).
    pub missing: Vec<String>,
    /// Client variables with no value here (`${input:key}`), passed on as written.
    pub unresolved: Vec<String>,
}

/// What will be inspected, and what cannot be, with the reason.
pub struct Plan {
    pub planned: Vec<Planned>,
    pub skipped: Vec<String>,
}

/// Where an entry is, for messages: `~/.cursor/mcp.json: server `x``.
fn entry_label(server: &ConfiguredServer) -> String {
    format!(
        "{}: server `{}`",
        server.config.display, server.entry.name.value
    )
}

/// Turns config entries into launch or connection targets, with `${VAR}` references resolved
/// from the user's environment as the client would.
pub fn plan(servers: Vec<ConfiguredServer>) -> Plan {
    let lookup = |name: &str| std::env::var(name).ok();
    let home =
        portcullis_scan::clients::home_of(&portcullis_scan::clients::Environment::from_process())
            .map(PathBuf::from);
    let mut planned = Vec::new();
    let mut skipped = Vec::new();
    for server in servers {
        let entry = &server.entry;
        let label = entry_label(&server);
        if !entry.enabled {
            skipped.push(format!("{label}: disabled in the config; not inspected"));
            continue;
        }
        let client = ClientVariables {
            workspace: server.workspace.clone(),
            home: home.clone(),
        };
        let mut missing = Vec::new();
        let mut unresolved = Vec::new();
        let mut resolve = |value: &str| {
            let resolved = resolve_references(value, &lookup, &client);
            missing.extend(resolved.unset);
            unresolved.extend(resolved.unresolved);
            resolved.value
        };
        let target = match entry.transport {
            Transport::Stdio => {
                let Some(command) = &entry.command else {
                    skipped.push(format!("{label}: no command to launch; not inspected"));
                    continue;
                };
                // A relative `cwd` is taken from the project, as the client takes it.
                let cwd = entry.cwd.as_ref().map(|cwd| {
                    let cwd = PathBuf::from(resolve(&cwd.value));
                    match (&server.workspace, server.config.path.parent()) {
                        _ if cwd.is_absolute() => cwd,
                        (Some(workspace), _) => workspace.join(cwd),
                        (None, Some(folder)) => folder.join(cwd),
                        (None, None) => cwd,
                    }
                });
                Target::Stdio(LaunchSpec {
                    program: resolve(&command.value),
                    args: entry.args.iter().map(|a| resolve(&a.value)).collect(),
                    env: entry
                        .env
                        .iter()
                        .map(|kv| (kv.key.value.clone(), resolve(&kv.value.value)))
                        .collect(),
                    cwd,
                })
            }
            Transport::StreamableHttp | Transport::Sse => {
                let Some(url) = &entry.url else {
                    skipped.push(format!("{label}: no URL to reach; not inspected"));
                    continue;
                };
                let url = resolve(&url.value);
                if !(url.starts_with("http://") || url.starts_with("https://")) {
                    skipped.push(format!(
                        "{label}: `{}` is not an http(s) URL; not inspected",
                        mask::mask_url(&url)
                    ));
                    continue;
                }
                Target::Http {
                    url,
                    headers: entry
                        .headers
                        .iter()
                        .map(|kv| (kv.key.value.clone(), resolve(&kv.value.value)))
                        .collect(),
                    transport: if entry.transport == Transport::Sse {
                        HttpTransport::Sse
                    } else {
                        HttpTransport::Auto
                    },
                }
            }
            Transport::WebSocket => {
                skipped.push(format!(
                    "{label}: WebSocket servers cannot be inspected; not inspected"
                ));
                continue;
            }
            Transport::Builtin => {
                skipped.push(format!(
                    "{label}: built into the client; nothing to inspect"
                ));
                continue;
            }
            Transport::Unknown => {
                skipped.push(format!(
                    "{label}: neither a command nor a URL; not inspected"
                ));
                continue;
            }
        };
        for names in [&mut missing, &mut unresolved] {
            names.sort();
            names.dedup();
        }
        planned.push(Planned {
            server,
            target,
            missing,
            unresolved,
        });
    }
    Plan { planned, skipped }
}

/// The list shown before asking: exactly what will be launched (command line, secrets masked,
/// and the names of the variables passed) or contacted.
pub fn describe(plan: &Plan, options: &Options) -> String {
    let mut out = String::new();
    for p in &plan.planned {
        let what = match &p.target {
            Target::Stdio(spec) => {
                let mut line = format!("  launch   {}", p.target.masked_source());
                if !spec.env.is_empty() {
                    let names: Vec<&str> = spec.env.iter().map(|(k, _)| k.as_str()).collect();
                    let _ = write!(line, "   (with {})", names.join(", "));
                }
                if let Some(cwd) = &spec.cwd {
                    let _ = write!(line, "\n           in {} (the config's cwd)", cwd.display());
                }
                line
            }
            Target::Http { headers, .. } => {
                let mut line = format!("  connect  {}", p.target.masked_source());
                if !headers.is_empty() {
                    let names: Vec<&str> = headers.iter().map(|(k, _)| k.as_str()).collect();
                    let _ = write!(line, "   (sending {})", names.join(", "));
                }
                line
            }
        };
        let _ = writeln!(out, "{what}\n           from {}", entry_label(&p.server));
    }
    let limit = options.confinement.memory_limit.map_or_else(
        || "no memory limit".to_string(),
        |b| format!("{} MiB", b >> 20),
    );
    let _ = writeln!(
        out,
        "Launched servers run confined: scratch home, temp and working folder (unless the config \
         names one), only PATH, LANG and the variables above, {}, {limit}, {} s each. They can \
         still read your files.",
        if options.confinement.allow_network {
            "network allowed"
        } else {
            "no network where the system allows it"
        },
        options.total_timeout.as_secs_f64()
    );
    out
}

/// Asks before anything is launched: `--yes` agrees; on a terminal the user is asked;
/// otherwise it refuses. `what` names the command for messages (`scan --inspect`).
pub fn consent(plan: &Plan, options: &Options, yes: bool, what: &str) -> anyhow::Result<()> {
    if plan.planned.is_empty() {
        return Ok(());
    }
    let n = plan.planned.len();
    let listing = describe(plan, options);
    anstream::eprintln!(
        "{what} will start or contact {n} MCP server{} from your client configs to list their tools:\n{listing}",
        if n == 1 { "" } else { "s" }
    );
    if yes {
        return Ok(());
    }
    if !(std::io::stdin().is_terminal() && std::io::stderr().is_terminal()) {
        bail!(
            "{what} needs your agreement before it launches anything, and there is no terminal \
             to ask on: run it again with --yes (or --inspect=yes) to agree to the list above"
        );
    }
    anstream::eprint!("Go ahead? [y/N] ");
    let mut answer = String::new();
    std::io::stdin().lock().read_line(&mut answer)?;
    if matches!(answer.trim().to_ascii_lowercase().as_str(), "y" | "yes") {
        Ok(())
    } else {
        bail!("nothing was launched: you did not agree")
    }
}

/// Inspection limits from the command line.
pub fn options(args: &LiveArgs) -> anyhow::Result<Options> {
    if !(args.inspect_timeout.is_finite()
        && args.inspect_timeout > 0.0
        && args.inspect_timeout <= 86_400.0)
    {
        bail!("--inspect-timeout must be a number of seconds above 0");
    }
    let total = Duration::from_secs_f64(args.inspect_timeout);
    Ok(Options {
        total_timeout: total,
        request_timeout: total.min(Duration::from_secs(15)),
        connect_timeout: total.min(Duration::from_secs(10)),
        confinement: Confinement {
            allow_network: args.allow_network,
            memory_limit: (args.memory_limit > 0)
                .then(|| args.memory_limit.saturating_mul(1 << 20)),
        },
        ..Options::default()
    })
}

/// Inspects every planned server, a few at a time; results in plan order. A server named the
/// same way by several entries (user and project configs) is inspected once.
pub fn inspect_all(plan: &Plan, options: &Options) -> Vec<Result<Snapshot, String>> {
    // The first entry of each distinct target; the others take its result.
    let keys: Vec<String> = plan
        .planned
        .iter()
        .map(|p| format!("{:?}", p.target))
        .collect();
    let first: Vec<usize> = keys
        .iter()
        .map(|k| keys.iter().position(|o| o == k).unwrap_or(0))
        .collect();
    let distinct: Vec<usize> = (0..keys.len()).filter(|&i| first[i] == i).collect();
    let results: Mutex<Vec<Option<Result<Snapshot, String>>>> =
        Mutex::new((0..plan.planned.len()).map(|_| None).collect());
    let next = AtomicUsize::new(0);
    std::thread::scope(|scope| {
        for _ in 0..PARALLEL.min(distinct.len()) {
            scope.spawn(|| {
                while let Some(&i) = distinct.get(next.fetch_add(1, Ordering::Relaxed)) {
                    let result = client::inspect(&plan.planned[i].target, options)
                        .map_err(|e| e.to_string());
                    if let Ok(mut all) = results.lock() {
                        all[i] = Some(result);
                    }
                }
            });
        }
    });
    let results = results.into_inner().unwrap_or_else(|p| p.into_inner());
    first
        .iter()
        .map(|&i| {
            results
                .get(i)
                .cloned()
                .flatten()
                .unwrap_or_else(|| Err("not inspected".to_string()))
        })
        .collect()
}

/// The snapshots for the scanner, and the notes to show: servers skipped or failed, variables
/// that were not set, and what could not be confined.
pub fn collect(
    plan: Plan,
    results: Vec<Result<Snapshot, String>>,
) -> (Vec<LiveServer>, Vec<String>) {
    let mut live = Vec::new();
    let mut notes = plan.skipped;
    let mut inspected = 0;
    for (p, result) in plan.planned.into_iter().zip(results) {
        let label = entry_label(&p.server);
        if !p.missing.is_empty() {
            notes.push(format!(
                "{label}: {} not set in your environment; the server got nothing for {}",
                p.missing.join(", "),
                if p.missing.len() == 1 { "it" } else { "them" }
            ));
        }
        if !p.unresolved.is_empty() {
            notes.push(format!(
                "{label}: {} {} no value outside the client; passed on as written",
                p.unresolved.join(", "),
                if p.unresolved.len() == 1 {
                    "has"
                } else {
                    "have"
                }
            ));
        }
        match result {
            Ok(snapshot) => {
                inspected += 1;
                for note in snapshot.notes.iter().filter(|n| n.contains("NOT")) {
                    notes.push(format!("{label}: {note}"));
                }
                live.push(LiveServer::from_snapshot(
                    p.server.anchor(),
                    &snapshot.to_pretty_string(),
                ));
            }
            Err(err) => notes.push(format!(
                "{label} could not be inspected, so its tools were not audited: {}",
                portcullis_scan::tools::excerpt(
                    &mask_secrets(&err.replace("see --timeout", "see --inspect-timeout")),
                    400
                )
            )),
        }
    }
    if inspected > 0 || !notes.is_empty() {
        notes.push(format!(
            "inspected {inspected} configured server{} live",
            if inspected == 1 { "" } else { "s" }
        ));
    }
    (live, notes)
}
