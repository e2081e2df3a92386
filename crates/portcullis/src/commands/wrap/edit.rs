//! The text edits that wrap a client configuration's servers in `portcullis gateway` and
//! unwrap them again.
//!
//! The file is parsed once with the scanner's span-keeping parsers and normalised with its
//! client adapters; then only the bytes of each entry's `command` value and the start of its
//! `args` array change. Everything else (comments, key order, indentation, `env`, secrets,
//! other keys) is left byte for byte. Wrapping inserts the gateway's arguments in front of the
//! first original argument, so unwrapping in place deletes exactly what was inserted.
//!
//! A remote (streamable-HTTP) entry becomes a stdio entry running `portcullis gateway
//! --upstream URL`: its `url` member is replaced by `command` and `args`, a `type` of `http`
//! becomes `stdio`, and its `headers` object is renamed `env`, each header's key renamed to a
//! variable (`PORTCULLIS_HEADER_<NAME>`) that `--upstream-header-env 'Name: VARIABLE'` reads.
//! The header values (secrets, or the client's `${env:X}` / `${input:x}` / `${X}` references)
//! stay byte for byte where they were: every client that expands variables in a remote
//! entry's headers expands them in a stdio entry's `env` too, and a secret in `env` is not on
//! the gateway's command line (visible to every user in `ps`). Codex's
//! `bearer_token_env_var = "VAR"` becomes `env_vars = ["VAR"]` and `--upstream-bearer-env
//! VAR`. Entries the gateway cannot serve that way are left alone with the reason: legacy
//! SSE and WebSocket servers, OAuth or `headersHelper` sign-in, a URL with a query or user
//! (it would be on the command line), or an entry that already has `env`.

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
        } else if entry.command.is_none()
            && entry.url.is_some()
            && matches!(entry.transport, Transport::StreamableHttp | Transport::Sse)
        {
            match wrap_remote(parsed, entry, gateway) {
                Ok(mut edits) => {
                    plan.edits.append(&mut edits);
                    Outcome::Changed
                }
                Err(why) => Outcome::Skipped(why),
            }
        } else if entry.transport != Transport::Stdio || entry.command.is_none() {
            Outcome::Skipped(match (&entry.url, entry.transport) {
                (Some(_), Transport::WebSocket) => {
                    "a WebSocket server: the gateway speaks streamable HTTP only".into()
                }
                (Some(_), _) => "a remote server of a kind the gateway cannot front".into(),
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
    if values
        .iter()
        .take_while(|a| *a != "--")
        .any(|a| a == "--upstream")
    {
        return unwrap_remote(parsed, &launch, &values);
    }
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

// ---- remote entries ----

/// Keys of a remote entry that sign in some way the gateway cannot: wrapped, it would reach
/// the server without them.
const SIGN_IN_KEYS: &[&str] = &[
    "oauth",
    "auth",
    "headersHelper",
    "authProviderType",
    "oauthClient",
    "oauthScopes",
    "env_http_headers",
];

const URL_KEYS: &[&str] = &["url", "serverUrl", "httpUrl", "uri"];
const TYPE_KEYS: &[&str] = &["type", "transportType"];
const HEADER_KEYS: &[&str] = &["headers", "http_headers"];
const BEARER_KEY: &str = "bearer_token_env_var";
const HEADER_VAR_PREFIX: &str = "PORTCULLIS_HEADER_";

/// A key as the file's format writes it.
fn key_text(format: Format, key: &str) -> String {
    let bare = !key.is_empty()
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if format == Format::Toml && bare {
        key.to_string()
    } else {
        quoted(key)
    }
}

fn member_text(format: Format, key: &str, value: &str) -> String {
    match format {
        Format::Toml => format!("{} = {value}", key_text(format, key)),
        _ => format!("{}: {value}", key_text(format, key)),
    }
}

/// What goes between two members written in place of `member`: a comma in JSON and inline
/// tables, a new line with the same indentation and dotted prefix in a TOML table.
fn separator(parsed: &Parsed, holder: &Node, member: &Member) -> String {
    let text = &parsed.text;
    let inline = text
        .get(holder.span.start..)
        .is_some_and(|t| t.starts_with('{'));
    if parsed.format != Format::Toml || inline {
        return ", ".into();
    }
    let key_start = member.key.span.start;
    let line_start = text[..key_start].rfind('\n').map_or(0, |i| i + 1);
    format!("\n{}", &text[line_start..key_start])
}

/// The launch object of a remote entry (Cline's `transport`, or the entry).
fn remote_holder<'a>(doc: &'a Node, entry: &ServerEntry) -> Result<&'a Node, String> {
    let node = find_node(doc, entry.span).ok_or("its entry was not found in the file")?;
    Ok(node
        .get("transport")
        .filter(|t| t.is_object() && URL_KEYS.iter().any(|k| t.get(k).is_some()))
        .unwrap_or(node))
}

/// The variable a header's value is moved to: `PORTCULLIS_HEADER_` and the name in capitals,
/// made unique among `taken`.
fn header_var(name: &str, taken: &[String]) -> String {
    let base: String = HEADER_VAR_PREFIX
        .chars()
        .chain(name.chars().map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        }))
        .collect();
    let mut var = base.clone();
    let mut n = 2;
    while taken.contains(&var) {
        var = format!("{base}_{n}");
        n += 1;
    }
    var
}

fn is_header_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

/// Why a URL cannot go on the gateway's command line as it is, if it cannot.
fn url_problem(url: &str) -> Option<&'static str> {
    let lower = url.to_ascii_lowercase();
    let rest = lower
        .strip_prefix("https://")
        .or_else(|| lower.strip_prefix("http://"));
    let Some(rest) = rest else {
        return Some("its URL is not http:// or https://");
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    if authority.contains('@') || url.contains('?') {
        return Some(
            "its URL has a user or a query, which may hold a credential and would be visible \
             on the gateway's command line; move it into a header, then wrap",
        );
    }
    None
}

fn wrap_remote(
    parsed: &Parsed,
    entry: &ServerEntry,
    gateway: &GatewayCommand,
) -> Result<Vec<Edit>, String> {
    if entry.transport == Transport::Sse {
        return Err(
            "a legacy SSE server: the gateway speaks streamable HTTP only (if the server \
             speaks it too, set its type to `http`, then wrap)"
                .into(),
        );
    }
    let holder = remote_holder(&parsed.document, entry)?;
    let node = find_node(&parsed.document, entry.span).ok_or("its entry was not found")?;
    if let Some(k) = SIGN_IN_KEYS
        .iter()
        .find(|k| holder.get(k).is_some() || node.get(k).is_some())
    {
        return Err(format!(
            "it signs in with `{k}`, which the gateway cannot do for it; wrap it by hand"
        ));
    }
    if holder.get("env").is_some() || holder.get("env_vars").is_some() {
        return Err("it has both a URL and `env`; wrap it by hand".into());
    }
    let url_member = URL_KEYS
        .iter()
        .find_map(|k| holder.member(k))
        .filter(|m| m.value.as_str().is_some())
        .ok_or("its URL is not a string")?;
    let url = url_member.value.as_str().unwrap_or_default();
    if let Some(why) = url_problem(url) {
        return Err(why.into());
    }
    let mut args = vec![
        "gateway".to_string(),
        "--name".into(),
        entry.name.value.clone(),
    ];
    args.extend(gateway.options.iter().cloned());
    args.push("--upstream".into());
    args.push(url.to_string());
    let mut edits = Vec::new();
    // Headers: the object becomes `env`, each key the variable its value is read from.
    if let Some(headers) = HEADER_KEYS.iter().find_map(|k| holder.member(k)) {
        let Value::Object(members) = &headers.value.value else {
            return Err("its headers are not an object".into());
        };
        let mut vars: Vec<String> = Vec::new();
        for m in members {
            if m.value.as_str().is_none() {
                return Err(format!("its header `{}` is not a string", m.key.value));
            }
            if !is_header_name(&m.key.value) {
                return Err(format!("`{}` is not a valid header name", m.key.value));
            }
            let var = header_var(&m.key.value, &vars);
            args.push("--upstream-header-env".into());
            args.push(format!("{}: {var}", m.key.value));
            edits.push(Edit {
                range: m.key.span.range(),
                text: key_text(parsed.format, &var),
            });
            vars.push(var);
        }
        edits.push(Edit {
            range: headers.key.span.range(),
            text: key_text(parsed.format, "env"),
        });
    }
    // Codex: the token's variable is passed on to the gateway, which sends it as a bearer.
    if let Some(bearer) = holder.member(BEARER_KEY) {
        let var = bearer
            .value
            .as_str()
            .ok_or("its `bearer_token_env_var` is not a string")?;
        args.push("--upstream-bearer-env".into());
        args.push(var.to_string());
        edits.push(Edit {
            range: bearer.key.span.start..bearer.value.span.end,
            text: member_text(parsed.format, "env_vars", &list(&[var.to_string()])),
        });
    }
    if let Some(t) = TYPE_KEYS.iter().find_map(|k| holder.member(k))
        && t.value.as_str().is_some()
    {
        edits.push(Edit {
            range: t.value.span.range(),
            text: quoted("stdio"),
        });
    }
    let sep = separator(parsed, holder, url_member);
    edits.push(Edit {
        range: url_member.key.span.start..url_member.value.span.end,
        text: format!(
            "{}{sep}{}",
            member_text(parsed.format, "command", &quoted(&gateway.program)),
            member_text(parsed.format, "args", &list(&args))
        ),
    });
    Ok(edits)
}

/// The value after `flag` in the gateway's arguments (before `--`), each time it is given.
fn flag_values<'a>(values: &'a [String], flag: &str) -> Vec<&'a str> {
    let mut out = Vec::new();
    let mut it = values.iter().take_while(|a| *a != "--");
    while let Some(a) = it.next() {
        if a == flag
            && let Some(v) = it.next()
        {
            out.push(v.as_str());
        }
    }
    out
}

fn unwrap_remote(
    parsed: &Parsed,
    launch: &Launch<'_>,
    values: &[String],
) -> Result<Vec<Edit>, String> {
    let holder = launch.holder;
    let url = *flag_values(values, "--upstream")
        .first()
        .ok_or("no URL follows `--upstream`")?;
    let args_member = holder
        .members()
        .iter()
        .find(|m| m.key.value == "args")
        .ok_or("it has no `args`")?;
    // `command` and `args` as wrap wrote them, side by side: the URL goes back in their place.
    let between = parsed
        .text
        .get(launch.command.value.span.end..args_member.key.span.start)
        .unwrap_or("x");
    let t = between.trim();
    let dotted_prefix =
        parsed.format == Format::Toml && t.ends_with('.') && !t.contains(['=', ',', '{', '[', '#']);
    if !(t.is_empty() || t == "," || dotted_prefix) {
        return Err(
            "its `command` and `args` are no longer side by side; unwrap it by hand".into(),
        );
    }
    let client = parsed.client;
    let url_key = match client {
        Client::Windsurf => "serverUrl",
        Client::GeminiCli if holder.get("type").is_none() => "httpUrl",
        _ => "url",
    };
    let mut edits = vec![Edit {
        range: launch.command.key.span.start..args_member.value.span.end,
        text: member_text(parsed.format, url_key, &quoted(url)),
    }];
    if let Some(t) = TYPE_KEYS.iter().find_map(|k| holder.member(k))
        && t.value.as_str() == Some("stdio")
    {
        let kind = match client {
            Client::Cline => "streamableHttp",
            Client::RooCode => "streamable-http",
            _ => "http",
        };
        edits.push(Edit {
            range: t.value.span.range(),
            text: quoted(kind),
        });
    }
    let headers: Vec<(&str, &str)> = flag_values(values, "--upstream-header-env")
        .into_iter()
        .filter_map(|h| h.split_once(':'))
        .map(|(name, var)| (name.trim(), var.trim()))
        .collect();
    if let Some(env) = holder.member("env") {
        for m in env.value.members() {
            let name = headers
                .iter()
                .find(|(_, var)| *var == m.key.value)
                .map(|(name, _)| *name)
                .ok_or_else(|| {
                    format!(
                        "its `env` has `{}`, which is no header of the gateway's; unwrap it by hand",
                        m.key.value
                    )
                })?;
            edits.push(Edit {
                range: m.key.span.range(),
                text: key_text(parsed.format, name),
            });
        }
        let key = if client == Client::Codex {
            "http_headers"
        } else {
            "headers"
        };
        edits.push(Edit {
            range: env.key.span.range(),
            text: key_text(parsed.format, key),
        });
    }
    if let (Some(var), Some(vars)) = (
        flag_values(values, "--upstream-bearer-env").first(),
        holder.member("env_vars"),
    ) {
        edits.push(Edit {
            range: vars.key.span.start..vars.value.span.end,
            text: member_text(parsed.format, BEARER_KEY, &quoted(var)),
        });
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
        assert!(wrapped.contains(
            r#""remote": {"command": "/opt/bin/portcullis", "args": ["gateway", "--name", "remote", "--policy", "/p/policy.toml", "--upstream", "https://example.com/mcp"]}"#
        ));
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
        let text = r#"{"mcpServers": {"a": {"command": "x", "args": [1]}, "r": {"url": "https://e/sse"}, "w": {"command": "portcullis", "args": ["gateway", "--", "y"]}}}"#;
        let plan = plan_wrap(&parsed("/h/.cursor/mcp.json", text), &gw(), &[]);
        let outcomes: Vec<_> = plan
            .entries
            .iter()
            .map(|e| (&e.name[..], &e.outcome))
            .collect();
        assert!(
            matches!(outcomes[0], ("a", Outcome::Skipped(w)) if w.contains("other than strings"))
        );
        assert!(matches!(outcomes[1], ("r", Outcome::Skipped(w)) if w.contains("SSE")));
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

    #[test]
    fn remote_entries_become_gateway_entries_with_headers_in_env() {
        // Claude Code: type, url, headers with a `${VAR}` reference.
        let claude = r#"{"mcpServers": {"gh": {"type": "http", "url": "https://api.example.com/mcp", "headers": {"Authorization": "Bearer ${GH_TOKEN}", "X-Team": "blue"}}}}"#;
        let (w, u) = round_trip("/h/p/.mcp.json", claude);
        assert_eq!(
            w,
            r#"{"mcpServers": {"gh": {"type": "stdio", "command": "/opt/bin/portcullis", "args": ["gateway", "--name", "gh", "--policy", "/p/policy.toml", "--upstream", "https://api.example.com/mcp", "--upstream-header-env", "Authorization: PORTCULLIS_HEADER_AUTHORIZATION", "--upstream-header-env", "X-Team: PORTCULLIS_HEADER_X_TEAM"], "env": {"PORTCULLIS_HEADER_AUTHORIZATION": "Bearer ${GH_TOKEN}", "PORTCULLIS_HEADER_X_TEAM": "blue"}}}}"#
        );
        assert_eq!(u, claude);
        let again = parsed("/h/p/.mcp.json", &w);
        assert_eq!(again.servers[0].transport, Transport::Stdio);
        // The secret stays in the file, never in the arguments.
        assert!(
            !again.servers[0]
                .args
                .iter()
                .any(|a| a.value.contains("GH_TOKEN"))
        );

        // VS Code (JSONC, `${input:...}`), Windsurf (`serverUrl`), Gemini (`httpUrl`), Zed.
        let vscode = "{\n  \"servers\": {\n    \"api\": {\n      \"type\": \"http\", // remote\n      \"url\": \"https://mcp.example.com/mcp\",\n      \"headers\": {\"Authorization\": \"Bearer ${input:token}\"}\n    }\n  },\n  \"inputs\": [{\"type\": \"promptString\", \"id\": \"token\", \"password\": true}]\n}\n";
        let (w, u) = round_trip("/h/.config/Code/User/mcp.json", vscode);
        assert!(
            w.contains("\"env\": {\"PORTCULLIS_HEADER_AUTHORIZATION\": \"Bearer ${input:token}\"}"),
            "{w}"
        );
        assert!(w.contains("\"type\": \"stdio\", // remote"), "{w}");
        assert_eq!(u, vscode);
        let windsurf = r#"{"mcpServers": {"w": {"serverUrl": "https://w.example/mcp", "headers": {"X-Key": "${env:W_KEY}"}}}}"#;
        let (w, u) = round_trip("/h/.codeium/windsurf/mcp_config.json", windsurf);
        assert!(
            w.contains(r#""env": {"PORTCULLIS_HEADER_X_KEY": "${env:W_KEY}"}"#),
            "{w}"
        );
        assert_eq!(u, windsurf);
        let gemini =
            r#"{"mcpServers": {"g": {"httpUrl": "https://g.example/mcp", "timeout": 5000}}}"#;
        let (_, u) = round_trip("/h/.gemini/settings.json", gemini);
        assert_eq!(u, gemini);
        let zed = r#"{"context_servers": {"z": {"url": "https://z.example/mcp", "headers": {}}}}"#;
        let (w, u) = round_trip("/h/.config/zed/settings.json", zed);
        assert!(w.contains(r#""env": {}"#), "{w}");
        assert_eq!(u, zed);
    }

    #[test]
    fn codex_remote_entries() {
        let codex = "[mcp_servers.docs]\nurl = \"https://docs.example/mcp\" # remote\nbearer_token_env_var = \"DOCS_TOKEN\"\n\n[mcp_servers.h]\nurl = \"https://h.example/mcp\"\nhttp_headers = { \"X-Api-Key\" = \"k-123\" }\n";
        let (w, u) = round_trip("/h/.codex/config.toml", codex);
        assert!(toml_parses(&w), "{w}");
        assert!(w.contains("[mcp_servers.docs]\ncommand = \"/opt/bin/portcullis\"\nargs = [\"gateway\", \"--name\", \"docs\", \"--policy\", \"/p/policy.toml\", \"--upstream\", \"https://docs.example/mcp\", \"--upstream-bearer-env\", \"DOCS_TOKEN\"] # remote\nenv_vars = [\"DOCS_TOKEN\"]\n"), "{w}");
        assert!(
            w.contains("env = { PORTCULLIS_HEADER_X_API_KEY = \"k-123\" }"),
            "{w}"
        );
        assert_eq!(u, codex.replace("\"X-Api-Key\" = ", "X-Api-Key = "));
        let inline = "[mcp_servers]\nr = { url = \"https://r.example/mcp\" }\n";
        let (w, u) = round_trip("/h/.codex/config.toml", inline);
        assert!(toml_parses(&w), "{w}");
        assert!(
            w.contains("r = { command = \"/opt/bin/portcullis\", args = ["),
            "{w}"
        );
        assert_eq!(u, inline);
    }

    #[test]
    fn remote_entries_the_gateway_cannot_front_are_left_alone() {
        let text = r#"{"mcpServers": {
            "sse": {"type": "sse", "url": "https://a/sse"},
            "query": {"url": "https://a/mcp?api_key=abc"},
            "user": {"url": "https://me:pw@a/mcp"},
            "oauth": {"url": "https://a/mcp", "auth": {"CLIENT_ID": "x"}},
            "both": {"url": "https://a/mcp", "env": {"A": "1"}},
            "ws": {"url": "wss://a/mcp"},
            "badheader": {"url": "https://a/mcp", "headers": {"Bad Name": "x"}}
        }}"#;
        let plan = plan_wrap(&parsed("/h/.cursor/mcp.json", text), &gw(), &[]);
        assert!(plan.edits.is_empty(), "{:?}", plan.entries);
        let why = |i: usize| match &plan.entries[i].outcome {
            Outcome::Skipped(w) => w.clone(),
            other => panic!("{other:?}"),
        };
        assert!(why(0).contains("SSE"));
        assert!(why(1).contains("query"));
        assert!(why(2).contains("user"));
        assert!(why(3).contains("`auth`"));
        assert!(why(4).contains("`env`"));
        assert!(why(5).contains("WebSocket"));
        assert!(why(6).contains("header name"));
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
