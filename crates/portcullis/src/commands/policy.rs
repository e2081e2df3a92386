//! `portcullis policy init`: a starting gateway policy from the configured servers and, where
//! given, their tool dumps. The policy text comes from `portcullis_gateway::starter`; this file
//! gathers its input (the same configurations `wrap` rewrites, read with the scanner's
//! parsers) and checks that what it writes loads.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, bail};
use portcullis_gateway::Policy;
use portcullis_gateway::starter::{StarterOptions, StarterServer, ToolDump, starter_policy};
use portcullis_scan::clients::{Environment, home_of};
use portcullis_scan::document::{self, Format};
use portcullis_scan::model::program_name;
use serde_json::Value;

use super::wrap::{self, edit};
use crate::cli::PolicyInitArgs;

/// One server's tools from a dump, and the name the dump gives the server.
struct Dumped {
    file: String,
    server_name: Option<String>,
    bound_to: Option<String>,
    tools: Vec<Value>,
    used: bool,
}

pub fn run_init(args: PolicyInitArgs) -> anyhow::Result<ExitCode> {
    let env = Environment::from_process();
    let cwd = std::env::current_dir().context("cannot determine the current folder")?;
    if let Some(out) = &args.output
        && out.exists()
        && !args.force
    {
        bail!(
            "{} exists; pass --force to replace it, or choose another file with -o",
            out.display()
        );
    }
    let mut dumps = Vec::new();
    for spec in &args.tools {
        dumps.extend(read_dumps(spec)?);
    }

    let mut servers: Vec<StarterServer> = Vec::new();
    for target in wrap::targets(args.target.as_deref())? {
        let shown = wrap::display_path(&target.path, &env);
        let content = match wrap::read(&target.path) {
            Ok(c) => c,
            Err(why) => {
                note(&format!("{shown}: skipped: {why}"));
                continue;
            }
        };
        let parsed = match edit::parse(&target.path, content.text, target.client, home_of(&env)) {
            Ok(p) => p,
            Err(why) if target.explicit => bail!("{shown}: {}", why.0),
            Err(why) => {
                note(&format!("{shown}: skipped: {}", why.0));
                continue;
            }
        };
        let config_dir = target.path.parent().unwrap_or(Path::new("."));
        for entry in &parsed.servers {
            // A wrapped entry's server is what follows `--`.
            let (command, args): (Option<String>, Vec<String>) = if edit::is_wrapped(entry) {
                let all: Vec<String> = entry.args.iter().map(|a| a.value.clone()).collect();
                match all.iter().position(|a| a == "--") {
                    Some(i) => (
                        all.get(i + 1).cloned(),
                        all[(i + 2).min(all.len())..].to_vec(),
                    ),
                    None => (None, Vec::new()),
                }
            } else {
                (
                    entry.command.as_ref().map(|c| c.value.clone()),
                    entry.args.iter().map(|a| a.value.clone()).collect(),
                )
            };
            let found_in = format!("{shown} ({})", parsed.client.display_name());
            if let Some(existing) = servers.iter_mut().find(|s| s.name == entry.name.value) {
                existing.found_in.push(found_in);
                continue;
            }
            servers.push(StarterServer {
                name: entry.name.value.clone(),
                found_in: vec![found_in],
                program: command.as_deref().map(|c| program_name(c).to_string()),
                args,
                cwd: entry.cwd.as_ref().map(|c| config_dir.join(&c.value)),
                url: entry.url.as_ref().map(|u| u.value.clone()),
                env_values: entry.env.iter().map(|kv| kv.value.value.clone()).collect(),
                tools: None,
            });
        }
    }

    // Dumps: bound by `SERVER=FILE`, else by the dump's server name or file name, else the
    // only server.
    for dump in &mut dumps {
        let target = match &dump.bound_to {
            Some(name) => Some(name.clone()),
            None => {
                let stem = Path::new(&dump.file)
                    .file_stem()
                    .map(|s| s.to_string_lossy().into_owned());
                servers
                    .iter()
                    .find(|s| {
                        s.tools.is_none()
                            && (Some(&s.name) == dump.server_name.as_ref()
                                || Some(&s.name) == stem.as_ref())
                    })
                    .map(|s| s.name.clone())
                    .or_else(|| {
                        // One configured server, one unnamed dump: they go together.
                        (servers.len() == 1 && servers[0].tools.is_none())
                            .then(|| servers[0].name.clone())
                    })
            }
        };
        let Some(name) = target else { continue };
        let tool_dump = ToolDump {
            file: dump.file.clone(),
            tools: dump.tools.clone(),
        };
        match servers.iter_mut().find(|s| s.name == name) {
            Some(s) => s.tools = Some(tool_dump),
            None => servers.push(StarterServer {
                name: name.clone(),
                found_in: vec![format!("--tools {}", dump.file)],
                tools: Some(tool_dump),
                ..StarterServer::default()
            }),
        }
        dump.used = true;
    }
    for dump in dumps.iter().filter(|d| !d.used) {
        note(&format!(
            "{}: matches no configured server{}; name it with --tools SERVER={}",
            dump.file,
            dump.server_name
                .as_ref()
                .map(|n| format!(" (it calls itself `{n}`)"))
                .unwrap_or_default(),
            dump.file
        ));
    }
    if servers.is_empty() {
        note("no configured server was found: the policy has defaults only");
    }

    let options = StarterOptions {
        working_dir: cwd.clone(),
        home: home_of(&env).map(Path::to_path_buf),
    };
    let text = starter_policy(&servers, &options);
    // What we write must load: relative roots are relative to the policy file's folder.
    let policy_path = match &args.output {
        Some(p) => std::path::absolute(p).unwrap_or_else(|_| p.clone()),
        None => cwd.join("policy.toml"),
    };
    Policy::parse(&text, &policy_path)
        .map_err(|e| anyhow::anyhow!("the generated policy does not load (a bug): {e}"))?;
    match &args.output {
        Some(out) => {
            std::fs::write(out, &text)
                .with_context(|| format!("cannot write {}", out.display()))?;
            note(&format!(
                "wrote {} ({} server(s)); review it, then `portcullis wrap --policy {}`",
                out.display(),
                servers.len(),
                out.display()
            ));
        }
        None => anstream::print!("{text}"),
    }
    Ok(ExitCode::SUCCESS)
}

fn note(text: &str) {
    anstream::eprintln!("note: {text}");
}

/// `[SERVER=]FILE`: the servers' tools in one dump file.
fn read_dumps(spec: &str) -> anyhow::Result<Vec<Dumped>> {
    let (bound, file) = match spec.split_once('=') {
        Some((name, file)) if !name.is_empty() && !Path::new(spec).exists() => {
            (Some(name.to_string()), PathBuf::from(file))
        }
        _ => (None, PathBuf::from(spec)),
    };
    let text = std::fs::read_to_string(&file)
        .with_context(|| format!("cannot read the tool dump {}", file.display()))?;
    // Recognised the way `scan` recognises dumps, then read as plain JSON.
    let node = document::parse(&text, Format::Json)
        .map_err(|e| anyhow::anyhow!("{} is not JSON: {}", file.display(), e.message))?;
    if portcullis_scan::tools::snapshots_of(&node).is_none() {
        bail!(
            "{} is not a tool dump (a `tools/list` result or `portcullis inspect --save` snapshot)",
            file.display()
        );
    }
    let value: Value =
        serde_json::from_str(&text).with_context(|| format!("{} is not JSON", file.display()))?;
    let shown = file.display().to_string();
    let one = |v: &Value| Dumped {
        file: shown.clone(),
        server_name: v
            .pointer("/serverInfo/name")
            .and_then(Value::as_str)
            .map(str::to_string),
        bound_to: bound.clone(),
        tools: v
            .get("tools")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default(),
        used: false,
    };
    let dumps = if let Some(list) = value.get("servers").and_then(Value::as_array) {
        list.iter().map(one).collect()
    } else if let Some(result) = value.get("result") {
        vec![one(result)]
    } else {
        vec![one(&value)]
    };
    if bound.is_some() && dumps.len() > 1 {
        bail!(
            "{} holds {} servers; give it without `SERVER=` so each is matched by its name",
            file.display(),
            dumps.len()
        );
    }
    Ok(dumps)
}
