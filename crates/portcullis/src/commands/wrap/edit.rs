//! The text edits that wrap a client configuration's stdio servers in `portcullis gateway` and
//! unwrap them again.
//!
//! The file is parsed once with the scanner's span-keeping parsers and normalised with its
//! client adapters; then only the bytes of each entry's `command` value and the start of its
//! `args` array change. Everything else (comments, key order, indentation, `env`, secrets,
//! other keys) is left byte for byte. Wrapping inserts the gateway's arguments in front of the
//! first original argument, so unwrapping in place deletes exactly what was inserted.

use std::ops::Range;
use std::path::Path;

use portcullis_scan::clients::{Client, Schema, classify_path, normalise, sniff_schema};
use portcullis_scan::document::{self, Format, Member, Node, Value};
use portcullis_scan::model::{ServerEntry, Transport, program_name};
use portcullis_scan::span::Span;

/// A client configuration parsed for editing.
pub struct Parsed {
    pub client: Client,
    pub format: Format,
    pub text: String,
    pub document: Node,
    pub servers: Vec<ServerEntry>,
    /// The project each server belongs to (`~/.claude.json`), index-aligned with `servers`.
    pub projects: Vec<Option<String>>,
}

/// Why a file cannot be edited.
#[derive(Debug)]
pub struct Unusable(pub String);

/// Parses `text` (the content of `path`) as a client configuration. `known` is the client
/// discovery found it for, if any.
pub fn parse(
    path: &Path,
    text: String,
    known: Option<Client>,
    home: Option<&Path>,
) -> Result<Parsed, Unusable> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let format =
        Format::from_file_name(&name).ok_or_else(|| Unusable("not a JSON or TOML file".into()))?;
    if format == Format::Yaml {
        return Err(Unusable(
            "YAML configurations (Continue, Goose) are not rewritten yet; wrap their servers by hand"
                .into(),
        ));
    }
    let document = document::parse(&text, format).map_err(|e| {
        let (line, col) = line_col(&text, e.span.start);
        Unusable(format!(
            "it cannot be parsed ({} at line {line}, column {col}); fix it first, nothing was changed",
            e.message
        ))
    })?;
    let by_path = classify_path(path, home);
    let client = known
        .or(by_path.map(|c| c.client))
        .unwrap_or(Client::Generic);
    let schema = by_path
        .filter(|c| c.client == client)
        .map(|c| c.schema)
        .or_else(|| sniff_schema(&document, format))
        .unwrap_or(Schema::default_for(client));
    if matches!(
        schema,
        Schema::ContinueBlock | Schema::ContinueLegacyJson | Schema::Goose | Schema::Opencode
    ) {
        return Err(Unusable(format!(
            "{} configurations are not rewritten yet; wrap their servers by hand",
            client.display_name()
        )));
    }
    let normalised = normalise(&document, schema, client);
    Ok(Parsed {
        client,
        format,
        text,
        document,
        servers: normalised.servers,
        projects: normalised.projects,
    })
}

fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = text.get(..offset.min(text.len())).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, col)
}

/// One replacement of a byte range.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Edit {
    pub range: Range<usize>,
    pub text: String,
}

/// Applies non-overlapping edits.
pub fn apply(text: &str, edits: &[Edit]) -> String {
    let mut sorted: Vec<&Edit> = edits.iter().collect();
    sorted.sort_by_key(|e| std::cmp::Reverse((e.range.start, e.range.end)));
    let mut out = text.to_string();
    let mut limit = usize::MAX;
    for e in sorted {
        // Overlaps cannot happen (one entry, one command, one args array); skip rather than
        // corrupt the file if they ever did.
        if e.range.end > limit || e.range.end > out.len() {
            continue;
        }
        out.replace_range(e.range.clone(), &e.text);
        limit = e.range.start;
    }
    out
}

/// How the gateway is started: its program and the options every wrapped entry gets.
#[derive(Debug, Clone)]
pub struct GatewayCommand {
    pub program: String,
    /// `--policy FILE`, `--audit FILE`, as absolute paths.
    pub options: Vec<String>,
}

/// What happened to one entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Changed,
    Unchanged(&'static str),
    Skipped(String),
}

#[derive(Debug, Clone)]
pub struct EntryReport {
    pub name: String,
    pub project: Option<String>,
    pub outcome: Outcome,
}

/// The edits for a file, and what each entry got.
#[derive(Debug, Default)]
pub struct Plan {
    pub edits: Vec<Edit>,
    pub entries: Vec<EntryReport>,
}

/// The parts of one entry that launch the server.
struct Launch<'a> {
    /// The object holding `command` (the entry, Cline's `transport`, Zed's nested `command`).
    holder: &'a Node,
    /// The member whose value is the program (`command`, or Zed's nested `path`).
    command: &'a Member,
    args: Option<&'a Node>,
}

fn find_node(node: &Node, span: Span) -> Option<&Node> {
    if node.span == span {
        return Some(node);
    }
    // No pruning by span: a TOML table created by a `[a.b]` header does not contain its
    // parent's span, so containment cannot be trusted across formats.
    match &node.value {
        Value::Object(members) => members.iter().find_map(|m| find_node(&m.value, span)),
        Value::Array(items) => items.iter().find_map(|i| find_node(i, span)),
        _ => None,
    }
}

fn launch_of<'a>(doc: &'a Node, entry: &ServerEntry) -> Result<Launch<'a>, String> {
    let node = find_node(doc, entry.span).ok_or("its entry was not found in the file")?;
    // Zed's older shape: `command: {path, args, env}`.
    if let Some(nested) = node.get("command").filter(|c| c.is_object()) {
        let command = nested
            .member("path")
            .filter(|m| m.value.as_str().is_some())
            .ok_or("its `command.path` is not a string")?;
        return Ok(Launch {
            holder: nested,
            command,
            args: nested.get("args"),
        });
    }
    let holder = node
        .get("transport")
        .filter(|t| t.is_object() && t.get("command").is_some())
        .unwrap_or(node);
    let command = holder
        .member("command")
        .ok_or("it has no `command` to wrap")?;
    if command.value.as_str().is_none() {
        return Err("its `command` is not a string (an argv list); wrap it by hand".into());
    }
    Ok(Launch {
        holder,
        command,
        args: holder.get("args"),
    })
}

/// Strings of an `args` array, or why it is not one.
fn string_items(args: &Node) -> Result<Vec<String>, String> {
    match &args.value {
        Value::Array(items) => items
            .iter()
            .map(|i| i.as_str().map(str::to_string))
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| "its `args` holds something other than strings".to_string()),
        _ => Err("its `args` is not a list".into()),
    }
}

/// Whether the entry already runs through the gateway.
pub fn is_wrapped(entry: &ServerEntry) -> bool {
    entry
        .command
        .as_ref()
        .is_some_and(|c| program_name(&c.value).eq_ignore_ascii_case("portcullis"))
        && entry.args.first().is_some_and(|a| a.value == "gateway")
}

fn quoted(s: &str) -> String {
    // A JSON string literal is also a valid TOML basic string.
    serde_json::to_string(s).unwrap_or_default()
}

fn list(items: &[String]) -> String {
    let inner: Vec<String> = items.iter().map(|s| quoted(s)).collect();
    format!("[{}]", inner.join(", "))
}

fn selected(entry: &ServerEntry, only: &[String]) -> bool {
    only.is_empty() || only.contains(&entry.name.value)
}

fn report(parsed: &Parsed, i: usize, outcome: Outcome) -> EntryReport {
    EntryReport {
        name: parsed.servers[i].name.value.clone(),
        project: parsed.projects.get(i).cloned().flatten(),
        outcome,
    }
}

/// The edits that wrap every selected stdio entry.
pub fn plan_wrap(parsed: &Parsed, gateway: &GatewayCommand, only: &[String]) -> Plan {
    let mut plan = Plan::default();
    for (i, entry) in parsed.servers.iter().enumerate() {
        if !selected(entry, only) {
            continue;
        }
        let outcome = if is_wrapped(entry) {
            Outcome::Unchanged("already wrapped")
        } else if entry.transport != Transport::Stdio || entry.command.is_none() {
            Outcome::Skipped(match (&entry.url, entry.transport) {
                (Some(_), _) => "a remote (URL) server: the gateway fronts stdio servers from a \
                                 client's config; left unchanged"
                    .into(),
                (None, Transport::Builtin) => "built into the client; nothing to wrap".into(),
                _ => "no command to wrap".into(),
            })
        } else {
            match wrap_entry(parsed, entry, gateway) {
                Ok(mut edits) => {
                    plan.edits.append(&mut edits);
                    Outcome::Changed
                }
                Err(why) => Outcome::Skipped(why),
            }
        };
        plan.entries.push(report(parsed, i, outcome));
    }
    plan
}

fn wrap_entry(
    parsed: &Parsed,
    entry: &ServerEntry,
    gateway: &GatewayCommand,
) -> Result<Vec<Edit>, String> {
    let launch = launch_of(&parsed.document, entry)?;
    let original = launch.command.value.as_str().unwrap_or_default();
    let mut prefix = vec![
        "gateway".to_string(),
        "--name".into(),
        entry.name.value.clone(),
    ];
    prefix.extend(gateway.options.iter().cloned());
    prefix.push("--".into());
    prefix.push(original.to_string());
    let mut edits = vec![Edit {
        range: launch.command.value.span.range(),
        text: quoted(&gateway.program),
    }];
    match launch.args {
        Some(args) => {
            string_items(args)?;
            match args.items().first() {
                // In front of the first argument: the array keeps its layout.
                Some(first) => {
                    let inner: Vec<String> = prefix.iter().map(|s| quoted(s)).collect();
                    edits.push(Edit {
                        range: first.span.start..first.span.start,
                        text: format!("{}, ", inner.join(", ")),
                    });
                }
                None => edits.push(Edit {
                    range: args.span.range(),
                    text: list(&prefix),
                }),
            }
        }
        None => edits.push(insert_args(parsed, &launch, &list(&prefix))),
    }
    Ok(edits)
}

/// A new `args` member right after the `command` member.
fn insert_args(parsed: &Parsed, launch: &Launch<'_>, args: &str) -> Edit {
    let value_end = launch.command.value.span.end;
    let text = &parsed.text;
    let inline_table = text
        .get(launch.holder.span.start..)
        .is_some_and(|t| t.starts_with('{'));
    if parsed.format == Format::Json || inline_table {
        let member = if parsed.format == Format::Json {
            format!(", \"args\": {args}")
        } else {
            format!(", args = {args}")
        };
        return Edit {
            range: value_end..value_end,
            text: member,
        };
    }
    // A TOML table: a line of its own after the command's line (and its comment), written
    // with the same indentation and dotted-key prefix as `command`.
    let key_start = launch.command.key.span.start;
    let line_start = text[..key_start].rfind('\n').map_or(0, |i| i + 1);
    let prefix = &text[line_start..key_start];
    match text[value_end..].find('\n') {
        Some(nl) => Edit {
            range: value_end + nl + 1..value_end + nl + 1,
            text: format!("{prefix}args = {args}\n"),
        },
        None => Edit {
            range: text.len()..text.len(),
            text: format!("\n{prefix}args = {args}\n"),
        },
    }
}

/// The edits that restore every selected wrapped entry to the command it wraps.
pub fn plan_unwrap(parsed: &Parsed, only: &[String]) -> Plan {
    let mut plan = Plan::default();
    for (i, entry) in parsed.servers.iter().enumerate() {
        if !selected(entry, only) {
            continue;
        }
        let outcome = if !is_wrapped(entry) {
            Outcome::Unchanged("not wrapped")
        } else {
            match unwrap_entry(parsed, entry) {
                Ok(mut edits) => {
                    plan.edits.append(&mut edits);
                    Outcome::Changed
                }
                Err(why) => Outcome::Skipped(why),
            }
        };
        plan.entries.push(report(parsed, i, outcome));
    }
    plan
}

fn unwrap_entry(parsed: &Parsed, entry: &ServerEntry) -> Result<Vec<Edit>, String> {
    let launch = launch_of(&parsed.document, entry)?;
    let args = launch.args.ok_or("it has no `args`")?;
    let values = string_items(args)?;
    let dash = values
        .iter()
        .position(|a| a == "--")
        .ok_or("its gateway arguments have no `--` before the server command")?;
    let original = values
        .get(dash + 1)
        .ok_or("no server command follows `--`")?;
    let items = args.items();
    let mut edits = vec![Edit {
        range: launch.command.value.span.range(),
        text: quoted(original),
    }];
    match items.get(dash + 2) {
        Some(first_kept) => edits.push(Edit {
            range: items[0].span.start..first_kept.span.start,
            text: String::new(),
        }),
        None => edits.push(Edit {
            range: args.span.range(),
            text: "[]".into(),
        }),
    }
    Ok(edits)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gw() -> GatewayCommand {
        GatewayCommand {
            program: "/opt/bin/portcullis".into(),
            options: vec!["--policy".into(), "/p/policy.toml".into()],
        }
    }

    fn parsed(path: &str, text: &str) -> Parsed {
        parse(Path::new(path), text.to_string(), None, None).unwrap()
    }

    /// Wraps, checks the result parses to wrapped entries, unwraps in place and returns both.
    fn round_trip(path: &str, text: &str) -> (String, String) {
        let p = parsed(path, text);
        let plan = plan_wrap(&p, &gw(), &[]);
        let wrapped = apply(text, &plan.edits);
        let again = parsed(path, &wrapped);
        assert!(
            plan_wrap(&again, &gw(), &[]).edits.is_empty(),
            "wrapping twice changes nothing:\n{wrapped}"
        );
        let unwrapped = apply(&wrapped, &plan_unwrap(&again, &[]).edits);
        (wrapped, unwrapped)
    }

    #[test]
    fn jsonc_keeps_comments_env_and_layout() {
        let text = r#"{
  // my servers
  "mcpServers": {
    "fs": {
      "command": "npx", // launcher
      "args": [
        "-y",
        "@modelcontextprotocol/server-filesystem",
        "/home/u/projects"
      ],
      "env": {"TOKEN": "ghp_abcdefghijklmnopqrstuvwxyz0123456789"}
    },
    "bare": {"command": "my-server"},
    "empty": {"command": "x", "args": []},
    "remote": {"url": "https://example.com/mcp"}
  },
  "other": true,
}
"#;
        let (wrapped, unwrapped) = round_trip("/h/.cursor/mcp.json", text);
        assert!(wrapped.contains(
            r#""command": "/opt/bin/portcullis", // launcher
      "args": [
        "gateway", "--name", "fs", "--policy", "/p/policy.toml", "--", "npx", "-y","#
        ));
        assert!(wrapped.contains(
            r#""bare": {"command": "/opt/bin/portcullis", "args": ["gateway", "--name", "bare", "--policy", "/p/policy.toml", "--", "my-server"]}"#
        ));
        assert!(wrapped.contains(r#""remote": {"url": "https://example.com/mcp"}"#));
        assert!(
            wrapped.contains(r#""env": {"TOKEN": "ghp_abcdefghijklmnopqrstuvwxyz0123456789"}"#)
        );
        assert!(wrapped.contains("// my servers") && wrapped.contains("\"other\": true,"));
        // In place, only what was added goes: the entry with no `args` keeps an empty list.
        let expected = text.replace(
            r#"{"command": "my-server"}"#,
            r#"{"command": "my-server", "args": []}"#,
        );
        assert_eq!(unwrapped, expected);
    }

    #[test]
    fn reports_what_was_left_alone() {
        let text = r#"{"mcpServers": {"a": {"command": "x", "args": [1]}, "r": {"url": "https://e"}, "w": {"command": "portcullis", "args": ["gateway", "--", "y"]}}}"#;
        let plan = plan_wrap(&parsed("/h/.cursor/mcp.json", text), &gw(), &[]);
        let outcomes: Vec<_> = plan
            .entries
            .iter()
            .map(|e| (&e.name[..], &e.outcome))
            .collect();
        assert!(
            matches!(outcomes[0], ("a", Outcome::Skipped(w)) if w.contains("other than strings"))
        );
        assert!(matches!(outcomes[1], ("r", Outcome::Skipped(w)) if w.contains("remote")));
        assert_eq!(outcomes[2], ("w", &Outcome::Unchanged("already wrapped")));
        assert!(plan.edits.is_empty());
        let only = plan_wrap(&parsed("/h/.cursor/mcp.json", text), &gw(), &["r".into()]);
        assert_eq!(only.entries.len(), 1);
    }

    #[test]
    fn vscode_servers_zed_context_servers_and_claude_projects() {
        let vscode = r#"{"servers": {"gh": {"type": "stdio", "command": "docker", "args": ["run", "-i", "ghcr.io/github/github-mcp-server"]}}, "inputs": []}"#;
        let (w, u) = round_trip("/h/.config/Code/User/mcp.json", vscode);
        assert!(
            w.contains(r#""command": "/opt/bin/portcullis", "args": ["gateway", "--name", "gh""#)
        );
        assert_eq!(u, vscode);

        let zed = r#"{"theme": "x", "context_servers": {"a": {"command": "srv", "args": ["--x"], "env": {}}, "b": {"command": {"path": "old", "args": ["1"]}}, "ext": {"settings": {}}}}"#;
        let (w, u) = round_trip("/h/.config/zed/settings.json", zed);
        assert!(
            w.contains(r#""path": "/opt/bin/portcullis", "args": ["gateway", "--name", "b""#),
            "{w}"
        );
        assert_eq!(u, zed);

        let claude = r#"{"numStartups": 3, "mcpServers": {"a": {"type": "stdio", "command": "x", "args": ["1"]}}, "projects": {"/p": {"mcpServers": {"b": {"command": "y", "args": ["2"]}}}}}"#;
        let p = parsed("/h/.claude.json", claude);
        let plan = plan_wrap(&p, &gw(), &[]);
        assert_eq!(plan.entries[1].project.as_deref(), Some("/p"));
        let (_, u) = round_trip("/h/.claude.json", claude);
        assert_eq!(u, claude);
    }

    #[test]
    fn codex_toml_tables_inline_tables_and_missing_args() {
        let codex = "# codex\nmodel = \"o3\"\n\n[mcp_servers.gh]\ncommand = \"npx\" # launcher\nargs = [\n  \"-y\",\n  \"pkg\",\n]\nenv = { GITHUB_TOKEN = \"x\" }\n\n[mcp_servers.bare]\n  command = 'srv'\n\n[mcp_servers.inline]\nx = { command = \"a\" }\n";
        let p = parsed("/h/.codex/config.toml", codex);
        let plan = plan_wrap(&p, &gw(), &[]);
        assert!(
            matches!(&plan.entries[2].outcome, Outcome::Skipped(w) if w.contains("no command")),
            "{:?}",
            plan.entries
        );
        let (w, u) = round_trip("/h/.codex/config.toml", codex);
        assert!(w.contains("command = \"/opt/bin/portcullis\" # launcher\nargs = [\n  \"gateway\", \"--name\", \"gh\", \"--policy\", \"/p/policy.toml\", \"--\", \"npx\", \"-y\",\n  \"pkg\",\n]\nenv = { GITHUB_TOKEN = \"x\" }"), "{w}");
        assert!(w.contains("  command = \"/opt/bin/portcullis\"\n  args = [\"gateway\", \"--name\", \"bare\", \"--policy\", \"/p/policy.toml\", \"--\", \"srv\"]\n"), "{w}");
        assert!(toml_parses(&w));
        assert!(u.contains("  command = \"srv\"\n  args = []\n"), "{u}");

        let inline = "[mcp_servers]\na = { command = \"srv\" }\n";
        let (w, _) = round_trip("/h/.codex/config.toml", inline);
        assert_eq!(
            w,
            "[mcp_servers]\na = { command = \"/opt/bin/portcullis\", args = [\"gateway\", \"--name\", \"a\", \"--policy\", \"/p/policy.toml\", \"--\", \"srv\"] }\n"
        );
        let no_newline = "[mcp_servers.a]\ncommand = \"srv\"";
        let (w, _) = round_trip("/h/.codex/config.toml", no_newline);
        assert!(toml_parses(&w), "{w}");
    }

    fn toml_parses(text: &str) -> bool {
        document::parse(text, Format::Toml).is_ok()
    }

    #[test]
    fn unparseable_and_unsupported_files_are_refused() {
        let e = parse(
            Path::new("/h/.cursor/mcp.json"),
            "{\"mcpServers\": {".into(),
            None,
            None,
        );
        assert!(matches!(e, Err(Unusable(m)) if m.contains("cannot be parsed")));
        let e = parse(
            Path::new("/h/.continue/config.yaml"),
            "mcpServers: []".into(),
            None,
            None,
        );
        assert!(matches!(e, Err(Unusable(m)) if m.contains("YAML")));
    }

    #[test]
    fn strings_needing_escapes_survive() {
        let text = r#"{"mcpServers": {"q": {"command": "C:\\Program Files\\srv.exe", "args": ["say \"hi\""]}}}"#;
        let (w, u) = round_trip("/h/.cursor/mcp.json", text);
        let doc = document::parse(&w, Format::Json).unwrap();
        let args = doc.pointer(&["mcpServers", "q", "args"]).unwrap();
        let strings: Vec<_> = args.items().iter().filter_map(Node::as_str).collect();
        assert_eq!(
            strings[strings.len() - 2..],
            ["C:\\Program Files\\srv.exe", "say \"hi\""]
        );
        assert_eq!(u, text);
    }
}
