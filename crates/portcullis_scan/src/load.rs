//! Loading one file: read it once, recognise it, parse it once, normalise it, and compute the
//! facts every rule shares (secrets). Nothing here can stop the scan: a problem becomes a
//! diagnostic about the file.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::clients::{
    Classified, Client, Schema, Scope, classify_path, might_hold_servers, normalise, sniff_schema,
};
use crate::diagnostic::Diagnostic;
use crate::document::{self, Format, Node, Value};
use crate::model::{ConfigFile, SecretFact, ServerEntry};
use crate::rules::scanner::{UNPARSEABLE_FILE, UNREADABLE_FILE};
use crate::secrets;
use crate::source::SourceFile;
use crate::span::Span;

/// Larger files are not client configurations; reading them would only cost memory.
pub const MAX_CONFIG_BYTES: u64 = 8 * 1024 * 1024;

/// A file to load, and what we already know about it.
#[derive(Debug, Clone)]
pub struct FileTask {
    pub path: PathBuf,
    pub display: String,
    /// Known from discovery (user config locations); otherwise the path or content decides.
    pub known: Option<(Client, Scope)>,
    /// Named by the user: report it even when it turns out not to be a config.
    pub explicit: bool,
    /// The folder the file was found under: source files are one project per root.
    pub root: PathBuf,
}

/// What loading one file produced.
#[derive(Debug, Default)]
pub struct Loaded {
    pub config: Option<ConfigFile>,
    /// A source file, lowered into the IR.
    pub module: Option<crate::code::ir::Module>,
    /// A container file or dependency manifest.
    pub supply: Option<crate::supply::SupplyFile>,
    /// A saved tool-metadata dump.
    pub tools: Option<crate::tools::ToolsFile>,
    pub diagnostics: Vec<Diagnostic>,
    /// Said to the user but not a finding (an explicit file that is not a config).
    pub notes: Vec<String>,
}

/// Loads one file. `home` decides user versus project scope.
pub fn load(task: &FileTask, home: Option<&Path>) -> Loaded {
    let mut loaded = Loaded::default();
    let limit = if crate::code::load::language_of(&task.path).is_some() {
        crate::code::load::MAX_SOURCE_BYTES
    } else {
        MAX_CONFIG_BYTES
    };
    let text = match read_text(&task.path, limit) {
        Ok(text) => text,
        Err(problem) => {
            // A broken file in a known client location is worth reporting even when walked past.
            if task.explicit || task.known.is_some() || classify_path(&task.path, home).is_some() {
                let at = Span::new(problem.at, problem.at);
                let file = Arc::new(SourceFile::new(
                    task.path.clone(),
                    task.display.clone(),
                    problem.lossy_text,
                ));
                loaded.diagnostics.push(
                    Diagnostic::new(
                        &UNREADABLE_FILE,
                        &file,
                        at,
                        format!("`{}` could not be read: {}", task.display, problem.reason),
                    )
                    .with_help(
                        "Make the file readable UTF-8 text, or exclude it in `portcullis.toml`.",
                    ),
                );
            }
            return loaded;
        }
    };
    if let Some(language) = crate::code::load::language_of(&task.path) {
        return load_source(task, text, language);
    }
    if let Some(kind) = crate::supply::SupplyKind::of(&task.path) {
        return load_supply(task, text, kind);
    }
    let file_name = task
        .path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let Some(format) = Format::from_file_name(&file_name) else {
        if task.explicit {
            loaded.notes.push(format!(
                "{}: not a JSON, TOML or YAML file; skipped",
                task.display
            ));
        }
        return loaded;
    };
    // A dump is recognised by its shape, whatever its name, before any config reading.
    if format == Format::Json
        && crate::tools::might_be_dump(&text)
        && let Ok(doc) = document::parse(&text, format)
        && let Some(servers) = crate::tools::snapshots_of(&doc)
    {
        // Secrets in a dump (a token pasted into a description) are masked in every output,
        // as in configs.
        let secret_spans = find_secret_facts(&text, &doc, &[])
            .iter()
            .map(|s| s.span)
            .collect();
        let mut source = SourceFile::new(task.path.clone(), task.display.clone(), text);
        source.secret_spans = secret_spans;
        loaded.tools = Some(crate::tools::ToolsFile {
            from_source: false,
            source: Arc::new(source),
            document: doc,
            servers,
        });
        return loaded;
    }
    let classified = directive_client(&text)
        .map(|client| {
            let by_path = classify_path(&task.path, home);
            Classified {
                client,
                scope: by_path.map_or(Scope::Project, |c| c.scope),
                schema: by_path
                    .filter(|c| c.client == client)
                    .map_or(Schema::default_for(client), |c| c.schema),
            }
        })
        .or_else(|| classify_path(&task.path, home));
    if classified.is_none() && !might_hold_servers(&text) {
        if task.explicit {
            loaded.notes.push(format!(
                "{}: no MCP servers found; not an MCP client configuration",
                task.display
            ));
        }
        return loaded;
    }
    let mut source = SourceFile::new(task.path.clone(), task.display.clone(), text);
    let document = match document::parse(&source.text, format) {
        Ok(doc) => doc,
        Err(err) => {
            // Only a file we know is a config is worth reporting as broken.
            if classified.is_some() || task.explicit || task.known.is_some() {
                let file = Arc::new(source);
                let at = err.span;
                loaded.diagnostics.push(
                    Diagnostic::new(&UNPARSEABLE_FILE, &file, at, format!("`{}` is not valid {}: {}", file.display, format_name(format), err.message))
                        .with_help("Fix the syntax at this position; until then the client may ignore the file and portcullis cannot audit it."),
                );
            }
            return loaded;
        }
    };
    let (client, scope, schema) = match (classified, task.known) {
        (Some(c), Some((_, scope))) => (c.client, scope, c.schema),
        (Some(c), None) => (c.client, c.scope, c.schema),
        (None, known) => match sniff_schema(&document, format) {
            Some(schema) => (
                known.map_or(Client::Generic, |k| k.0),
                known.map_or(Scope::Project, |k| k.1),
                schema,
            ),
            None => {
                if task.explicit {
                    loaded.notes.push(format!(
                        "{}: no MCP servers found; not an MCP client configuration",
                        task.display
                    ));
                }
                return loaded;
            }
        },
    };
    let normalised = normalise(&document, schema, client);
    let secrets = find_secret_facts(&source.text, &document, &normalised.servers);
    source.secret_spans = secrets.iter().map(|s| s.span).collect();
    loaded.config = Some(ConfigFile {
        source: Arc::new(source),
        client,
        scope,
        format,
        document,
        servers: normalised.servers,
        trust: normalised.trust,
        projects: normalised.projects,
        secrets,
    });
    loaded
}

fn load_source(task: &FileTask, text: String, language: crate::code::ir::Language) -> Loaded {
    let source = SourceFile::new(task.path.clone(), task.display.clone(), text);
    let (module, diagnostics) = crate::code::load::load_module(source, &task.root, language);
    Loaded {
        module,
        diagnostics,
        ..Loaded::default()
    }
}

fn load_supply(task: &FileTask, text: String, kind: crate::supply::SupplyKind) -> Loaded {
    const LOCKS: &[&str] = &[
        "uv.lock",
        "poetry.lock",
        "Pipfile.lock",
        "pdm.lock",
        "package-lock.json",
        "pnpm-lock.yaml",
        "yarn.lock",
        "bun.lock",
        "bun.lockb",
        "npm-shrinkwrap.json",
        "pylock.toml",
    ];
    // Beside the manifest, then in each folder above it up to the scan root: workspaces (npm,
    // pnpm, uv, Poetry) keep one lockfile at their root for every member.
    let dir = task.path.parent().unwrap_or(Path::new("."));
    let mut siblings = Vec::new();
    let mut up = String::new();
    for folder in dir.ancestors() {
        siblings.extend(
            LOCKS
                .iter()
                .filter(|l| folder.join(l).is_file())
                .map(|l| format!("{up}{l}")),
        );
        if folder == task.root || !folder.starts_with(&task.root) {
            break;
        }
        up.push_str("../");
    }
    let source = Arc::new(SourceFile::new(
        task.path.clone(),
        task.display.clone(),
        text,
    ));
    Loaded {
        supply: Some(crate::supply::SupplyFile {
            source,
            kind,
            siblings,
        }),
        ..Loaded::default()
    }
}

fn format_name(format: Format) -> &'static str {
    match format {
        Format::Json => "JSON",
        Format::Toml => "TOML",
        Format::Yaml => "YAML",
    }
}

/// Why a file could not be read, and where, with what could be decoded of it.
struct Unreadable {
    reason: String,
    /// Byte offset of the problem in `lossy_text`.
    at: usize,
    /// The text with invalid bytes replaced, so the problem can be shown in place.
    lossy_text: String,
}

impl From<String> for Unreadable {
    fn from(reason: String) -> Self {
        Unreadable {
            reason,
            at: 0,
            lossy_text: String::new(),
        }
    }
}

/// Reads a file as UTF-8 text, refusing what no config can be: too large, binary, not UTF-8.
fn read_text(path: &Path, limit: u64) -> Result<String, Unreadable> {
    let file = std::fs::File::open(path).map_err(|e| io_reason(&e))?;
    let meta = file.metadata().map_err(|e| io_reason(&e))?;
    if meta.is_dir() {
        return Err(String::from("it is a folder").into());
    }
    if meta.len() > limit {
        return Err(format!(
            "it is {} bytes, more than the {limit} portcullis reads of such a file",
            meta.len()
        )
        .into());
    }
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    // `take` bounds the read even if the file grows while we read it.
    file.take(limit + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| io_reason(&e))?;
    if bytes.len() as u64 > limit {
        return Err(String::from("it grew past the size limit while being read").into());
    }
    let bytes = bytes
        .strip_prefix(b"\xEF\xBB\xBF")
        .map(<[u8]>::to_vec)
        .unwrap_or(bytes);
    if let Some(nul) = bytes.iter().position(|&b| b == 0) {
        return Err(format!("it is binary, not text (a NUL byte at offset {nul})").into());
    }
    String::from_utf8(bytes).map_err(|e| {
        // Offsets before the first bad byte are the same in the lossy text.
        let at = e.utf8_error().valid_up_to();
        Unreadable {
            reason: "it is not UTF-8 text".into(),
            at,
            lossy_text: String::from_utf8_lossy(e.as_bytes()).into_owned(),
        }
    })
}

fn io_reason(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "it does not exist (or is a broken link)".into(),
        std::io::ErrorKind::PermissionDenied => "permission denied".into(),
        _ => e.to_string(),
    }
}

/// `portcullis-client: <id>` near the top of a file names its client, for examples and fixtures
/// kept where no client would look.
fn directive_client(text: &str) -> Option<Client> {
    text.lines().take(5).find_map(|line| {
        let (_, rest) = line.split_once("portcullis-client:")?;
        Client::from_id(rest.split_whitespace().next()?)
    })
}

/// Runs the secret detectors over every string value of the document, once.
fn find_secret_facts(text: &str, doc: &Node, servers: &[ServerEntry]) -> Vec<SecretFact> {
    let mut facts = Vec::new();
    let url_spans: Vec<Span> = servers
        .iter()
        .filter_map(|s| s.url.as_ref().map(|u| u.span))
        .collect();
    let mut path = Vec::new();
    visit(doc, &mut path, None, &mut |path, key, node| {
        let Some(value) = node.as_str() else { return };
        if value.len() < 8 || secrets::is_interpolation(value) {
            return;
        }
        for m in secrets::find_secrets(value, key) {
            let span = locate(text, node.span, value, m.span);
            let server = servers
                .iter()
                .find(|s| s.span.contains(node.span) || holds_value(s, node.span))
                .map(|s| s.name.value.clone());
            // `--api-key=VALUE` is stored under the option, not under `args`.
            let key = value
                .split_once('=')
                .filter(|(opt, _)| opt.starts_with('-') && m.span.start > opt.len())
                .map(|(opt, _)| opt)
                .or(key);
            facts.push(SecretFact {
                span,
                value_span: node.span,
                kind: m.kind,
                confidence: m.confidence,
                path: path.join("."),
                key: key.map(str::to_string),
                in_server_url: url_spans.contains(&node.span),
                server,
            });
        }
    });
    facts
}

/// Called with the key path, the key the value is stored under, and the value's node.
type StringVisitor<'f, 'a> = dyn FnMut(&[&'a str], Option<&'a str>, &'a Node) + 'f;

/// Whether a value belongs to a server entry defined in pieces (TOML `[mcp_servers.x.env]`
/// tables sit outside the `[mcp_servers.x]` span).
fn holds_value(server: &ServerEntry, span: Span) -> bool {
    server
        .env
        .iter()
        .chain(&server.headers)
        .any(|kv| kv.value.span == span)
        || server
            .args
            .iter()
            .chain(&server.url)
            .chain(&server.command)
            .any(|a| a.span == span)
}

/// Walks string values with the key they are stored under: the member name, or for an array
/// item the option before it (`["--api-key", "sk-..."]`).
fn visit<'a>(
    node: &'a Node,
    path: &mut Vec<&'a str>,
    key: Option<&'a str>,
    f: &mut StringVisitor<'_, 'a>,
) {
    match &node.value {
        Value::String(_) => f(path, key, node),
        Value::Array(items) => {
            let mut previous: Option<&str> = None;
            for item in items {
                let item_key = previous.filter(|p| is_bare_option(p)).or(key);
                visit(item, path, item_key, f);
                previous = item.as_str();
            }
        }
        Value::Object(members) => {
            for m in members {
                path.push(&m.key.value);
                visit(&m.value, path, Some(&m.key.value), f);
                path.pop();
            }
        }
        _ => {}
    }
}

/// `--api-key` or `-k`: an option whose value is the next argument. (`-eNAME` and `--x=y`
/// carry their value inline and name nothing after them.)
fn is_bare_option(arg: &str) -> bool {
    let name = arg
        .strip_prefix("--")
        .or_else(|| arg.strip_prefix('-').filter(|n| n.len() == 1));
    name.is_some_and(|n| {
        n.starts_with(|c: char| c.is_ascii_alphabetic())
            && n.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    })
}

/// Maps a match inside a decoded string value back to the source bytes. Values with escapes
/// fall back to the whole value's span, which is still masked whole.
fn locate(text: &str, value_span: Span, value: &str, m: Span) -> Span {
    let raw = text.get(value_span.range()).unwrap_or("");
    let secret = value.get(m.range()).unwrap_or("");
    if secret.is_empty() {
        return value_span;
    }
    // Written without escapes (the usual case): the value sits in the text as is, after its
    // opening quote if it has one, so the match keeps its own offset.
    let quote = usize::from(raw.starts_with(['"', '\'']));
    if raw.get(quote..quote + value.len()) == Some(value) {
        let start = value_span.start + quote + m.start;
        return Span::new(start, start + secret.len());
    }
    match raw.find(secret) {
        Some(at) => Span::new(value_span.start + at, value_span.start + at + secret.len()),
        None => value_span,
    }
}
