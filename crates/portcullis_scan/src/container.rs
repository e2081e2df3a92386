//! Servers launched in a container: recognises `docker run` (and `podman`, `nerdctl`, `finch`,
//! also as `container run`, and behind `wsl`, `cmd /c`, `sudo`, `lima` or `sh -c "..."`) in a
//! server entry, and parses the run options with spans so rules can point at the exact option,
//! mount or image.
//!
//! Trade-off: like the engines' own CLIs, the parser knows by name which options take a value;
//! it does not guess. An option it does not know is assumed to take none and is recorded in
//! [`ContainerRun::unknown_options`], because after it the image may be misplaced: rules that
//! depend on finding the image can lower their confidence. Values are located inside their
//! argument (`--volume=/:/host`, `-eKEY=v`, the words of `sh -c`) through a byte map of the
//! source text; where the map cannot be built (an escape the decoder does not know) sub-spans
//! fall back to the whole argument, which is always on the right line.

use std::ops::Range;

use crate::model::{ServerEntry, program_name};
use crate::span::{Span, Spanned};

/// The container engines whose `run` the parser understands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    Docker,
    Podman,
    Nerdctl,
    Finch,
}

impl Engine {
    fn from_program(name: &str) -> Option<Engine> {
        match name {
            "docker" => Some(Engine::Docker),
            "podman" | "podman-remote" => Some(Engine::Podman),
            "nerdctl" => Some(Engine::Nerdctl),
            "finch" => Some(Engine::Finch),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Engine::Docker => "docker",
            Engine::Podman => "podman",
            Engine::Nerdctl => "nerdctl",
            Engine::Finch => "finch",
        }
    }
}

/// One `docker run` of a server entry, parsed.
#[derive(Debug, Clone)]
pub struct ContainerRun {
    pub engine: Engine,
    /// The engine program as written (`docker`, `/usr/bin/podman`, `docker.exe`).
    pub program: Spanned<String>,
    /// The run options in order, before the image.
    pub options: Vec<RunOption>,
    /// The first argument after the options; `None` when the entry names no image.
    pub image: Option<ImageRef>,
    /// What follows the image: the command run inside the container and its arguments.
    pub command: Vec<Spanned<String>>,
    /// Options the parser does not know. Each is taken to have no value, so after one the image
    /// may be misidentified.
    pub unknown_options: Vec<Spanned<String>>,
}

/// One run option as written: `--volume /a:/b`, `--volume=/a:/b`, `-v /a:/b`, or one letter of a
/// cluster such as `-itd`.
#[derive(Debug, Clone)]
pub struct RunOption {
    /// Canonical long name without dashes: `volume` for `-v`, `network` for `--net`.
    pub name: &'static str,
    /// The flag as written (`-v`, `--volume`), with its span.
    pub flag: Spanned<String>,
    /// The value, if the option has one (a flag such as `--privileged=false` has one too).
    pub value: Option<Spanned<String>>,
    /// The argument holding the flag.
    pub arg: Span,
    /// The value's own token, to locate parts of it.
    value_token: Option<Token>,
    /// Whether the value is an argument of its own (`-v /a:/b`) rather than joined to the flag.
    value_separate: bool,
}

impl RunOption {
    /// Where a finding about this option belongs: the value when it is an argument of its own
    /// (the offending text), otherwise the whole argument (`--net=host`, `--privileged`).
    pub fn report_span(&self) -> Span {
        match &self.value {
            Some(v) if self.value_separate => v.span,
            _ => self.arg,
        }
    }

    /// The value as text, or `""` for a flag without one.
    pub fn value_str(&self) -> &str {
        self.value.as_ref().map_or("", |v| v.value.as_str())
    }

    /// For a boolean flag: whether it is switched on (`--rm`, `--rm=true`, not `--rm=false`).
    pub fn is_on(&self) -> bool {
        match &self.value {
            None => true,
            Some(v) => !matches!(
                v.value.trim().to_ascii_lowercase().as_str(),
                "false" | "0" | "f" | "no"
            ),
        }
    }

    /// The span of `range` (byte offsets into the value) in the source.
    pub fn value_sub_span(&self, range: Range<usize>) -> Span {
        match &self.value_token {
            Some(t) => t.sub_span(range),
            None => self.arg,
        }
    }

    fn value_sub(&self, range: Range<usize>) -> Option<Spanned<String>> {
        let text = self.value.as_ref()?.value.get(range.clone())?;
        Some(Spanned::new(text.to_string(), self.value_sub_span(range)))
    }
}

/// An image reference, split into its parts: `[transport:][registry[:port]/]path[:tag][@digest]`.
#[derive(Debug, Clone, PartialEq)]
pub struct ImageRef {
    /// The reference as written, with its span.
    pub reference: Spanned<String>,
    /// Podman's transport prefix (`docker://`, `docker-daemon:`, `oci-archive:`), if any.
    pub transport: Option<String>,
    /// Registry and path, e.g. `localhost:5000/team/img`.
    pub repository: String,
    pub tag: Option<String>,
    /// The digest after `@`, e.g. `sha256:…`, whether well-formed or not.
    pub digest: Option<String>,
}

impl ImageRef {
    pub fn parse(reference: Spanned<String>) -> ImageRef {
        let text = reference.value.trim();
        let (transport, rest) = split_transport(text);
        let (name_tag, digest) = match rest.split_once('@') {
            Some((n, d)) => (n, Some(d.to_string())),
            None => (rest, None),
        };
        // A tag is a `:` after the last `/`; an earlier one is a registry port.
        let last_slash = name_tag.rfind('/').map_or(0, |i| i + 1);
        let (repository, tag) = match name_tag[last_slash..].rfind(':') {
            Some(i) => (
                name_tag[..last_slash + i].to_string(),
                Some(name_tag[last_slash + i + 1..].to_string()),
            ),
            None => (name_tag.to_string(), None),
        };
        ImageRef {
            transport: transport.map(str::to_string),
            repository,
            tag,
            digest,
            reference,
        }
    }

    /// Whether the reference names content by a well-formed digest (`sha256:` and 64 hex digits,
    /// or `sha512:` and 128), which no one can move to other content.
    pub fn is_pinned(&self) -> bool {
        self.digest.as_deref().is_some_and(is_valid_digest)
    }

    /// Whether the reference is built from a variable (`${IMAGE}`, `img:$TAG`, `%IMG%`), so what
    /// it names cannot be known from the file.
    pub fn is_templated(&self) -> bool {
        is_templated(&self.reference.value)
    }

    /// Whether the reference is a local archive or folder (Podman `dir:`, `oci:`,
    /// `oci-archive:`, `docker-archive:`), not something pulled from a registry.
    pub fn is_local_archive(&self) -> bool {
        matches!(
            self.transport.as_deref(),
            Some("dir" | "oci" | "oci-archive" | "docker-archive")
        )
    }
}

fn split_transport(text: &str) -> (Option<&str>, &str) {
    if let Some(rest) = text.strip_prefix("docker://") {
        return (Some("docker"), rest);
    }
    for t in [
        "docker-daemon",
        "containers-storage",
        "oci-archive",
        "docker-archive",
        "dir",
        "oci",
    ] {
        if let Some(rest) = text
            .strip_prefix(t)
            .and_then(|r| r.strip_prefix(':'))
            .filter(|r| !r.starts_with(|c: char| c.is_ascii_digit()))
        {
            return (Some(t), rest);
        }
    }
    (None, text)
}

fn is_valid_digest(digest: &str) -> bool {
    let hex_of = |s: &str, n: usize| {
        s.len() == n && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
    };
    match digest.split_once(':') {
        Some(("sha256", hex)) => hex_of(hex, 64),
        Some(("sha512", hex)) => hex_of(hex, 128),
        _ => false,
    }
}

/// Whether `text` holds a variable reference in any client's or shell's syntax.
pub fn is_templated(text: &str) -> bool {
    text.contains('$')
        || text.contains('{')
        || text
            .split('%')
            .nth(1)
            .is_some_and(|v| !v.is_empty() && text.matches('%').count() >= 2)
}

/// An environment variable passed with `-e`/`--env`.
#[derive(Debug, Clone, PartialEq)]
pub struct EnvVar {
    pub key: Spanned<String>,
    /// The literal value of `KEY=value`; `None` for `-e KEY`, which copies the host's value.
    pub value: Option<Spanned<String>>,
}

/// What kind of filesystem a mount brings in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MountKind {
    /// A host path.
    Bind,
    /// A named volume, or an anonymous one (`-v /data`).
    Volume,
    /// `tmpfs`, `image`, `devpts` and other kinds that expose nothing of the host.
    Other,
}

/// A `-v`/`--volume` or `--mount` option, parsed.
#[derive(Debug, Clone, PartialEq)]
pub struct Mount {
    /// `volume` or `mount`: the option it came from.
    pub option: &'static str,
    /// The whole spec as written, e.g. `/a:/b:ro` or `type=bind,src=/a,dst=/b`.
    pub spec: Spanned<String>,
    pub kind: MountKind,
    /// The host path or volume name, with its span.
    pub source: Option<Spanned<String>>,
    /// The path inside the container.
    pub target: Option<String>,
    pub read_only: bool,
    /// Where a finding about the mount belongs (see [`RunOption::report_span`]).
    pub span: Span,
}

impl ContainerRun {
    /// Recognises a container launch in `server`; `text` is the source text its spans point
    /// into. `None` when the entry does not run `docker run` or an equivalent.
    pub fn parse(text: &str, server: &ServerEntry) -> Option<ContainerRun> {
        let command = server.command.as_ref()?;
        let mut tokens = vec![Token::from_arg(text, command)];
        tokens.extend(server.args.iter().map(|a| Token::from_arg(text, a)));
        parse_tokens(tokens)
    }

    /// The options with this canonical name, in order.
    pub fn options_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a RunOption> {
        self.options.iter().filter(move |o| o.name == name)
    }

    /// The last value given to an option (the engines let a later one win).
    pub fn last_value(&self, name: &str) -> Option<&RunOption> {
        self.options.iter().rfind(|o| o.name == name)
    }

    /// `-e`/`--env` variables, in order.
    pub fn env(&self) -> Vec<EnvVar> {
        self.options_named("env")
            .filter_map(|o| {
                let value = o.value.as_ref()?;
                Some(match value.value.find('=') {
                    Some(eq) => EnvVar {
                        key: o.value_sub(0..eq)?,
                        value: o.value_sub(eq + 1..value.value.len()),
                    },
                    None => EnvVar {
                        key: value.clone(),
                        value: None,
                    },
                })
            })
            .collect()
    }

    /// Every `-v`/`--volume` and `--mount`, in order.
    pub fn mounts(&self) -> Vec<Mount> {
        self.options
            .iter()
            .filter_map(|o| match o.name {
                "volume" => parse_volume(o),
                "mount" => parse_mount(o),
                _ => None,
            })
            .collect()
    }
}

/// Splits a `-v` spec `source:target[:options]` on its colons, keeping Windows drive letters
/// (`C:\Users\me:/data`) and variables (`${env:HOME}`) whole. Returns byte ranges.
pub fn split_volume_spec(spec: &str) -> Vec<Range<usize>> {
    let bytes = spec.as_bytes();
    let mut parts = Vec::new();
    let mut start = 0;
    let mut depth = 0usize;
    for (i, &b) in bytes.iter().enumerate() {
        match b {
            b'{' => depth += 1,
            b'}' => depth = depth.saturating_sub(1),
            b':' if depth == 0 => {
                let segment = &spec[start..i];
                let next = bytes.get(i + 1).copied();
                let drive = segment.len() == 1
                    && segment.as_bytes()[0].is_ascii_alphabetic()
                    && matches!(next, Some(b'\\' | b'/'));
                if !drive {
                    parts.push(start..i);
                    start = i + 1;
                }
            }
            _ => {}
        }
    }
    parts.push(start..spec.len());
    parts
}

fn parse_volume(o: &RunOption) -> Option<Mount> {
    let spec = o.value.as_ref()?;
    let parts = split_volume_spec(&spec.value);
    let text = |r: &Range<usize>| spec.value.get(r.clone()).unwrap_or("");
    let (source, target, opts) = match parts.as_slice() {
        // `-v /data`: an anonymous volume at that container path.
        [only] => (None, Some(text(only)), ""),
        [src, dst] => (Some(src.clone()), Some(text(dst)), ""),
        [src, dst, opts, ..] => (Some(src.clone()), Some(text(dst)), text(opts)),
        [] => return None,
    };
    let kind = match &source {
        Some(r) if !is_volume_name(text(r)) => MountKind::Bind,
        _ => MountKind::Volume,
    };
    Some(Mount {
        option: o.name,
        spec: spec.clone(),
        kind,
        source: source.and_then(|r| o.value_sub(r)),
        target: target.map(str::to_string),
        read_only: opts
            .split(',')
            .any(|f| matches!(f.trim(), "ro" | "readonly")),
        span: o.report_span(),
    })
}

/// A named volume: what Docker accepts as a volume name, `[A-Za-z0-9][A-Za-z0-9_.-]*`.
fn is_volume_name(s: &str) -> bool {
    s.starts_with(|c: char| c.is_ascii_alphanumeric())
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
}

fn parse_mount(o: &RunOption) -> Option<Mount> {
    let spec = o.value.as_ref()?;
    let mut kind_name: Option<String> = None;
    let mut source = None;
    let mut target = None;
    let mut read_only = false;
    let mut start = 0;
    for field in spec.value.split(',') {
        let range = start..start + field.len();
        start += field.len() + 1;
        let (key, value_range) = match field.find('=') {
            Some(eq) => (&field[..eq], range.start + eq + 1..range.end),
            None => (field, range.end..range.end),
        };
        let value = unquote(spec.value.get(value_range.clone()).unwrap_or(""));
        match key.trim().to_ascii_lowercase().as_str() {
            "type" => kind_name = Some(value.to_ascii_lowercase()),
            "source" | "src" => {
                // Keep the span on the path, inside any CSV quotes.
                let inner = trim_quotes_range(&spec.value, value_range);
                source = o.value_sub(inner);
            }
            "target" | "destination" | "dst" | "dest" => target = Some(value.to_string()),
            "readonly" | "ro" => {
                read_only = !matches!(
                    value.to_ascii_lowercase().as_str(),
                    "false" | "0" | "no" | "f"
                );
            }
            _ => {}
        }
    }
    let kind = match kind_name.as_deref() {
        Some("bind") => MountKind::Bind,
        Some("volume") => MountKind::Volume,
        Some(_) => MountKind::Other,
        // Docker defaults to a volume, but a path there is plainly meant as a bind (and Podman
        // requires a type): judge by the source.
        None => match &source {
            Some(s) if !is_volume_name(&s.value) => MountKind::Bind,
            _ => MountKind::Volume,
        },
    };
    Some(Mount {
        option: o.name,
        spec: spec.clone(),
        kind,
        source,
        target,
        read_only,
        span: o.report_span(),
    })
}

fn unquote(s: &str) -> &str {
    let s = s.trim();
    s.strip_prefix('"')
        .and_then(|r| r.strip_suffix('"'))
        .unwrap_or(s)
}

fn trim_quotes_range(text: &str, r: Range<usize>) -> Range<usize> {
    match text.get(r.clone()) {
        Some(s) if s.len() >= 2 && s.starts_with('"') && s.ends_with('"') => r.start + 1..r.end - 1,
        _ => r,
    }
}

// ---------------------------------------------------------------------------------------------
// Tokens: an argument's text and where each of its bytes sits in the source.

/// Arguments longer than this keep only their whole span (a map costs a word per byte).
const MAX_MAPPED: usize = 64 * 1024;

#[derive(Debug, Clone, PartialEq)]
struct Token {
    text: String,
    span: Span,
    /// Source offset of each byte of `text`, plus one for the end, when known.
    map: Option<Vec<usize>>,
}

impl Token {
    fn from_arg(source: &str, arg: &Spanned<String>) -> Token {
        Token {
            text: arg.value.clone(),
            span: arg.span,
            map: byte_map(source, arg.span, &arg.value),
        }
    }

    fn spanned(&self) -> Spanned<String> {
        Spanned::new(self.text.clone(), self.span)
    }

    fn sub_span(&self, range: Range<usize>) -> Span {
        match &self.map {
            Some(map) if range.start <= range.end && range.end < map.len() => {
                Span::new(map[range.start], map[range.end].max(map[range.start]))
            }
            _ => self.span,
        }
    }

    /// The part `range` of the token as a token of its own.
    fn slice(&self, range: Range<usize>) -> Option<Token> {
        let text = self.text.get(range.clone())?.to_string();
        Some(Token {
            span: self.sub_span(range.clone()),
            map: self
                .map
                .as_ref()
                .and_then(|m| m.get(range.start..=range.end))
                .map(<[usize]>::to_vec),
            text,
        })
    }
}

/// Maps each byte of `value` to its offset in `source`, by decoding the raw text at `span`
/// (quoted with escapes, single-quoted, or plain) and checking it gives `value` back.
fn byte_map(source: &str, span: Span, value: &str) -> Option<Vec<usize>> {
    if value.len() > MAX_MAPPED {
        return None;
    }
    let raw = source.get(span.range())?;
    let quoted = |q: char| {
        (raw.len() >= 2 && raw.starts_with(q) && raw.ends_with(q)).then(|| &raw[1..raw.len() - 1])
    };
    let attempts: Vec<Option<(String, Vec<usize>)>> = if let Some(inner) = quoted('"') {
        vec![decode_escaped(inner, span.start + 1)]
    } else if let Some(inner) = quoted('\'') {
        vec![
            decode_single_quoted(inner, span.start + 1),
            Some(identity(inner, span.start + 1)),
        ]
    } else {
        vec![Some(identity(raw, span.start))]
    };
    attempts
        .into_iter()
        .flatten()
        .find(|(text, _)| text == value)
        .map(|(_, map)| map)
}

fn identity(raw: &str, base: usize) -> (String, Vec<usize>) {
    (raw.to_string(), (0..=raw.len()).map(|i| base + i).collect())
}

/// YAML single quotes: `''` is one quote.
fn decode_single_quoted(inner: &str, base: usize) -> Option<(String, Vec<usize>)> {
    let mut out = String::with_capacity(inner.len());
    let mut map = Vec::with_capacity(inner.len() + 1);
    let mut chars = inner.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        if c == '\'' && chars.peek().map(|&(_, n)| n) == Some('\'') {
            chars.next();
        }
        map.extend((0..c.len_utf8()).map(|_| base + i));
        out.push(c);
    }
    map.push(base + inner.len());
    Some((out, map))
}

/// Backslash escapes of JSON, TOML basic strings and YAML double quotes.
fn decode_escaped(inner: &str, base: usize) -> Option<(String, Vec<usize>)> {
    let mut out = String::with_capacity(inner.len());
    let mut map = Vec::with_capacity(inner.len() + 1);
    let mut i = 0;
    while i < inner.len() {
        let c = inner[i..].chars().next()?;
        let (ch, len) = if c == '\\' {
            let e = inner[i + 1..].chars().next()?;
            match e {
                'u' | 'U' | 'x' => {
                    let n = match e {
                        'u' => 4,
                        'U' => 8,
                        _ => 2,
                    };
                    let code = u32::from_str_radix(inner.get(i + 2..i + 2 + n)?, 16).ok()?;
                    if (0xD800..0xDC00).contains(&code) {
                        // A UTF-16 surrogate pair written as two escapes.
                        let low = inner
                            .get(i + 6..i + 12)
                            .and_then(|s| s.strip_prefix("\\u"))
                            .and_then(|h| u32::from_str_radix(h, 16).ok())
                            .filter(|l| (0xDC00..0xE000).contains(l))?;
                        let combined = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00);
                        (char::from_u32(combined)?, 12)
                    } else {
                        (char::from_u32(code)?, 2 + n)
                    }
                }
                _ => {
                    let ch = match e {
                        'n' => '\n',
                        't' => '\t',
                        'r' => '\r',
                        'b' => '\u{8}',
                        'f' => '\u{c}',
                        '0' => '\0',
                        'a' => '\u{7}',
                        'e' => '\u{1b}',
                        'v' => '\u{b}',
                        'N' => '\u{85}',
                        '_' => '\u{a0}',
                        'L' => '\u{2028}',
                        'P' => '\u{2029}',
                        '"' | '\\' | '/' | ' ' | '\'' => e,
                        _ => return None,
                    };
                    (ch, 1 + e.len_utf8())
                }
            }
        } else {
            (c, c.len_utf8())
        };
        map.extend((0..ch.len_utf8()).map(|_| base + i));
        out.push(ch);
        i += len;
    }
    map.push(base + inner.len());
    Some((out, map))
}

/// Splits a simple POSIX shell command line (`sh -c "docker run ..."`) into words, honouring
/// quotes and backslashes, and stopping at the first operator (`;`, `&`, `|`, `<`, `>`,
/// newline): only the first command is the one launched. `$(...)` and variables stay literal.
fn shell_words(script: &Token) -> Vec<Token> {
    /// A word being read: its text, the script index of each of its bytes, and where it starts
    /// and ends in the script (raw, with quotes) and where its last character ends.
    #[derive(Default)]
    struct Word {
        text: String,
        index: Vec<usize>,
        raw_start: usize,
        raw_end: usize,
        content_end: usize,
    }
    fn push(cur: &mut Option<Word>, i: usize, c: char) {
        let w = cur.get_or_insert_with(|| Word {
            raw_start: i,
            ..Word::default()
        });
        w.index.extend((0..c.len_utf8()).map(|_| i));
        w.text.push(c);
        w.content_end = i + c.len_utf8();
    }
    let mut words = Vec::new();
    let mut current: Option<Word> = None;
    let mut quote: Option<char> = None;
    let mut chars = script.text.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        match quote {
            Some('\'') => {
                if c == '\'' {
                    quote = None;
                } else {
                    push(&mut current, i, c);
                }
            }
            Some(_) => match c {
                '"' => quote = None,
                '\\' if matches!(chars.peek(), Some((_, '"' | '\\' | '$' | '`'))) => {
                    if let Some((j, n)) = chars.next() {
                        push(&mut current, j, n);
                    }
                }
                _ => push(&mut current, i, c),
            },
            None => match c {
                '\'' | '"' => {
                    quote = Some(c);
                    current.get_or_insert_with(|| Word {
                        raw_start: i,
                        content_end: i,
                        ..Word::default()
                    });
                }
                '\\' => {
                    if let Some((j, n)) = chars.next() {
                        push(&mut current, j, n);
                    }
                }
                ';' | '&' | '|' | '<' | '>' | '\n' => break,
                c if c.is_whitespace() => {
                    words.extend(current.take());
                    continue;
                }
                _ => push(&mut current, i, c),
            },
        }
        if let Some(w) = current.as_mut() {
            // Past whatever was consumed, closing quotes included.
            w.raw_end = chars.peek().map_or(script.text.len(), |&(j, _)| j);
        }
    }
    words.extend(current.take());
    words
        .into_iter()
        .map(|w| {
            let map = script.map.as_ref().and_then(|m| {
                let mut out: Vec<usize> = w
                    .index
                    .iter()
                    .map(|&k| m.get(k).copied())
                    .collect::<Option<_>>()?;
                out.push(*m.get(w.content_end)?);
                Some(out)
            });
            let span = match &script.map {
                Some(m) => match (m.get(w.raw_start), m.get(w.raw_end)) {
                    (Some(&s), Some(&e)) => Span::new(s, e.max(s)),
                    _ => script.span,
                },
                None => script.span,
            };
            Token {
                text: w.text,
                span,
                map,
            }
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// The command line: wrappers, the engine's global options, `run` and its options.

/// Wrappers peeled before the engine is found, at most this deep (`wsl sudo docker`).
const MAX_WRAPPERS: usize = 4;

fn parse_tokens(mut tokens: Vec<Token>) -> Option<ContainerRun> {
    for _ in 0..=MAX_WRAPPERS {
        let program = program_name(&tokens.first()?.text).to_ascii_lowercase();
        if let Some(engine) = Engine::from_program(&program) {
            return parse_engine(engine, &tokens);
        }
        let rest = match program.as_str() {
            "wsl" => skip_wsl_options(&tokens[1..])?,
            "cmd" => skip_cmd_options(&tokens[1..])?,
            "sudo" | "doas" => skip_plain_flags(&tokens[1..]),
            "lima" => &tokens[1..],
            "sh" | "bash" | "zsh" | "dash" | "ash" => {
                let script = shell_script(&tokens[1..])?;
                let mut words = shell_words(script);
                if words.first().is_some_and(|w| w.text == "exec") {
                    words.remove(0);
                }
                tokens = words;
                continue;
            }
            _ => return None,
        };
        // `wsl "docker run ..."`, `cmd /c "docker run ..."`: one string holding the whole line.
        tokens = match rest {
            [only] if only.text.trim().contains(char::is_whitespace) => shell_words(only),
            _ => rest.to_vec(),
        };
    }
    None
}

fn skip_wsl_options(args: &[Token]) -> Option<&[Token]> {
    let mut i = 0;
    while let Some(t) = args.get(i) {
        match t.text.as_str() {
            "-d" | "--distribution" | "-u" | "--user" | "--cd" | "--shell-type"
            | "--distribution-id" => i += 2,
            "-e" | "--exec" | "--" => return args.get(i + 1..),
            s if s.starts_with('-') => return None,
            _ => return args.get(i..),
        }
    }
    None
}

fn skip_cmd_options(args: &[Token]) -> Option<&[Token]> {
    let mut i = 0;
    while let Some(t) = args.get(i) {
        let flag = t.text.to_ascii_lowercase();
        match flag.as_str() {
            "/c" | "/k" => return args.get(i + 1..),
            "/s" | "/q" | "/d" => i += 1,
            _ => return None,
        }
    }
    None
}

fn skip_plain_flags(args: &[Token]) -> &[Token] {
    let n = args
        .iter()
        .take_while(|t| {
            matches!(
                t.text.as_str(),
                "-E" | "-n" | "-H" | "--preserve-env" | "--"
            )
        })
        .count();
    &args[n..]
}

/// The script of `sh -c SCRIPT` (also `-lc`, `-ec`, `-l -c`).
fn shell_script(args: &[Token]) -> Option<&Token> {
    let mut i = 0;
    while let Some(t) = args.get(i) {
        let s = t.text.as_str();
        if s.starts_with('-') && !s.starts_with("--") && s.contains('c') {
            return args.get(i + 1);
        }
        if !s.starts_with('-') {
            return None;
        }
        i += 1;
    }
    None
}

/// Global options of docker, podman and nerdctl that take a value.
#[rustfmt::skip]
const GLOBAL_VALUE_OPTIONS: &[&str] = &[
    "config", "context", "host", "log-level", "tlscacert", "tlscert", "tlskey", "connection",
    "url", "identity", "root", "runroot", "runtime", "runtime-flag", "storage-driver",
    "storage-opt", "cgroup-manager", "conmon", "events-backend", "hooks-dir", "imagestore",
    "module", "network-cmd-path", "network-config-dir", "out", "ssh", "tmpdir", "volumepath",
    "cdi-spec-dir", "namespace", "address", "snapshotter", "cni-path", "cni-netconfpath",
    "data-root", "hosts-dir", "host-gateway-ip", "bridge-ip",
];

fn parse_engine(engine: Engine, tokens: &[Token]) -> Option<ContainerRun> {
    let program = tokens.first()?.spanned();
    let mut i = 1;
    // Global options, then the subcommand.
    while let Some(t) = tokens.get(i) {
        let s = t.text.as_str();
        if let Some(long) = s.strip_prefix("--") {
            let takes_value = !long.contains('=') && GLOBAL_VALUE_OPTIONS.contains(&long);
            i += if takes_value { 2 } else { 1 };
        } else if let Some(short) = s.strip_prefix('-') {
            let takes_value = short.len() == 1 && matches!(short, "c" | "H" | "l" | "n" | "a");
            i += if takes_value { 2 } else { 1 };
        } else {
            break;
        }
    }
    match tokens.get(i)?.text.as_str() {
        "run" => i += 1,
        "container" if tokens.get(i + 1)?.text == "run" => i += 2,
        _ => return None,
    }
    let mut run = ContainerRun {
        engine,
        program,
        options: Vec::new(),
        image: None,
        command: Vec::new(),
        unknown_options: Vec::new(),
    };
    while let Some(t) = tokens.get(i) {
        let s = t.text.as_str();
        if s == "--" {
            i += 1;
            break;
        }
        if let Some(body) = s.strip_prefix("--").filter(|b| !b.is_empty()) {
            i += 1;
            let (name, inline) = match body.find('=') {
                Some(eq) => (&body[..eq], Some(2 + eq + 1..s.len())),
                None => (body, None),
            };
            let flag = Spanned::new(format!("--{name}"), t.sub_span(0..2 + name.len()));
            let Some(spec) = lookup_long(name) else {
                run.unknown_options.push(t.spanned());
                continue;
            };
            let (value_token, separate) = match inline {
                Some(r) => (t.slice(r), false),
                None if spec.takes_value => {
                    let v = tokens.get(i).cloned();
                    i += 1;
                    (v, true)
                }
                None => (None, false),
            };
            run.options.push(RunOption {
                name: spec.canonical,
                flag,
                value: value_token.as_ref().map(Token::spanned),
                arg: t.span,
                value_token,
                value_separate: separate,
            });
        } else if s.len() > 1 && s.starts_with('-') {
            i += 1;
            // A cluster of short flags: `-itd`, `-eKEY=v`, `-p8080:80`, `-it -v /a:/b`.
            for (at, c) in s.char_indices().skip(1) {
                let flag = Spanned::new(format!("-{c}"), t.sub_span(at..at + c.len_utf8()));
                let Some(spec) = lookup_short(c) else {
                    run.unknown_options
                        .push(Spanned::new(format!("-{c}"), flag.span));
                    continue;
                };
                let (value_token, separate) = if spec.takes_value {
                    let rest = at + c.len_utf8();
                    if rest < s.len() {
                        // pflag drops one `=` after a short flag: `-e=KEY` is `KEY`.
                        let start = if s[rest..].starts_with('=') {
                            rest + 1
                        } else {
                            rest
                        };
                        (t.slice(start..s.len()), false)
                    } else {
                        let v = tokens.get(i).cloned();
                        i += 1;
                        (v, true)
                    }
                } else {
                    (None, false)
                };
                let takes_rest = spec.takes_value;
                run.options.push(RunOption {
                    name: spec.canonical,
                    flag,
                    value: value_token.as_ref().map(Token::spanned),
                    arg: t.span,
                    value_token,
                    value_separate: separate,
                });
                if takes_rest {
                    break;
                }
            }
        } else {
            break;
        }
    }
    let rootfs = run.options_named("rootfs").any(RunOption::is_on);
    if let Some(image) = tokens.get(i) {
        // Podman `--rootfs` takes a folder where the image would be.
        if !rootfs {
            run.image = Some(ImageRef::parse(image.spanned()));
        }
        run.command = tokens[i + 1..].iter().map(Token::spanned).collect();
    }
    Some(run)
}

struct OptionSpec {
    canonical: &'static str,
    takes_value: bool,
}

/// `docker run`, `podman run` and `nerdctl run` options that take a value.
#[rustfmt::skip]
const VALUE_OPTIONS: &[&str] = &[
    "add-host", "annotation", "arch", "attach", "authfile", "blkio-weight",
    "blkio-weight-device", "cap-add", "cap-drop", "cert-dir", "cgroup-conf", "cgroup-parent",
    "cgroupns", "cgroups", "chrootdirs", "cidfile", "conmon-pidfile",
    "cosign-certificate-identity", "cosign-certificate-identity-regexp",
    "cosign-certificate-oidc-issuer", "cosign-certificate-oidc-issuer-regexp", "cosign-key",
    "cpu-count", "cpu-percent", "cpu-period", "cpu-quota", "cpu-rt-period", "cpu-rt-runtime",
    "cpu-shares", "cpus", "cpuset-cpus", "cpuset-mems", "creds", "decryption-key",
    "detach-keys", "device", "device-cgroup-rule", "device-read-bps", "device-read-iops",
    "device-write-bps", "device-write-iops", "dns", "dns-opt", "dns-option", "dns-search",
    "domainname", "entrypoint", "env", "env-file", "env-merge", "expose", "gidmap", "gpus",
    "group-add", "group-entry", "health-cmd", "health-interval", "health-log-destination",
    "health-max-log-count", "health-max-log-size", "health-on-failure", "health-retries",
    "health-start-interval", "health-start-period", "health-startup-cmd",
    "health-startup-interval", "health-startup-retries", "health-startup-success",
    "health-startup-timeout", "health-timeout", "hostname", "hostuser", "image-volume",
    "init-path", "io-maxbandwidth", "io-maxiops", "ip", "ip6", "ipc", "isolation",
    "kernel-memory", "label", "label-file", "link", "link-local-ip", "log-driver", "log-opt",
    "mac-address", "memory", "memory-reservation", "memory-swap", "memory-swappiness", "mount",
    "name", "network", "network-alias", "oom-score-adj", "os", "passwd-entry", "personality",
    "pid", "pidfile", "pids-limit", "platform", "pod", "pod-id-file", "preserve-fd",
    "preserve-fds", "publish", "pull", "rdt-class", "requires", "restart", "retry",
    "retry-delay", "runtime", "sdnotify", "seccomp-policy", "secret", "security-opt",
    "shm-size", "shm-size-systemd", "stop-signal", "stop-timeout", "storage-opt", "subgidname",
    "subuidname", "sysctl", "systemd", "timeout", "tmpfs", "tz", "uidmap", "ulimit", "umask",
    "unsetenv", "user", "userns", "uts", "variant", "verify", "volume", "volume-driver",
    "volumes-from", "workdir",
];

/// Flags: no value unless joined with `=` (`--privileged=false`).
#[rustfmt::skip]
const FLAG_OPTIONS: &[&str] = &[
    "detach", "disable-content-trust", "env-host", "help", "http-proxy", "init", "interactive",
    "no-healthcheck", "no-hosts", "oom-kill-disable", "passwd", "privileged", "publish-all",
    "quiet", "read-only", "read-only-tmpfs", "replace", "rm", "rmi", "rootfs", "sig-proxy",
    "tls-verify", "tty", "unsetenv-all", "use-api-socket",
];

fn lookup_long(name: &str) -> Option<OptionSpec> {
    let canonical = match name {
        "net" => "network",
        "net-alias" => "network-alias",
        "dns-opt" => "dns-option",
        "preserve-fds" => "preserve-fd",
        other => other,
    };
    if let Some(&c) = VALUE_OPTIONS.iter().find(|&&o| o == canonical) {
        return Some(OptionSpec {
            canonical: c,
            takes_value: true,
        });
    }
    FLAG_OPTIONS
        .iter()
        .find(|&&o| o == canonical)
        .map(|&c| OptionSpec {
            canonical: c,
            takes_value: false,
        })
}

fn lookup_short(c: char) -> Option<OptionSpec> {
    let long = match c {
        'a' => "attach",
        'c' => "cpu-shares",
        'e' => "env",
        'h' => "hostname",
        'l' => "label",
        'm' => "memory",
        'p' => "publish",
        'u' => "user",
        'v' => "volume",
        'w' => "workdir",
        'd' => "detach",
        'i' => "interactive",
        't' => "tty",
        'P' => "publish-all",
        'q' => "quiet",
        _ => return None,
    };
    lookup_long(long)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::document::{Format, parse};

    /// Builds a server entry from a JSON argv (`["docker", "run", ...]`) and parses it.
    fn parse_json(src: &str) -> Option<ContainerRun> {
        let doc = parse(src, Format::Json).expect("test JSON parses");
        let argv: Vec<_> = doc.items().iter().filter_map(|n| n.spanned_str()).collect();
        let (first, rest) = argv.split_first()?;
        let mut entry = ServerEntry::new(Spanned::new("s".into(), doc.span), doc.span);
        entry.command = Some(first.clone());
        entry.args = rest.to_vec();
        ContainerRun::parse(src, &entry)
    }

    fn run(src: &str) -> (ContainerRun, &str) {
        (parse_json(src).expect("a container run"), src)
    }

    fn at(src: &str, span: Span) -> &str {
        &src[span.range()]
    }

    fn names(r: &ContainerRun) -> Vec<(&str, String)> {
        r.options
            .iter()
            .map(|o| (o.name, o.value_str().to_string()))
            .collect()
    }

    #[test]
    fn github_server_image_follows_env_without_value() {
        let (r, src) = run(
            r#"["docker", "run", "-i", "--rm", "-e", "GITHUB_PERSONAL_ACCESS_TOKEN", "ghcr.io/github/github-mcp-server"]"#,
        );
        assert_eq!(r.engine, Engine::Docker);
        let image = r.image.as_ref().unwrap();
        assert_eq!(image.reference.value, "ghcr.io/github/github-mcp-server");
        assert_eq!(
            at(src, image.reference.span),
            "\"ghcr.io/github/github-mcp-server\""
        );
        assert_eq!(image.repository, "ghcr.io/github/github-mcp-server");
        assert_eq!(image.tag, None);
        assert!(!image.is_pinned());
        assert!(r.command.is_empty());
        let env = r.env();
        assert_eq!(env.len(), 1);
        assert_eq!(env[0].key.value, "GITHUB_PERSONAL_ACCESS_TOKEN");
        assert_eq!(env[0].value, None);
        assert!(r.unknown_options.is_empty());
    }

    #[test]
    fn options_after_the_image_belong_to_the_container_command() {
        let (r, _) =
            run(r#"["docker", "run", "--rm", "-i", "mcp/grafana", "-t", "stdio", "--privileged"]"#);
        assert_eq!(r.image.as_ref().unwrap().reference.value, "mcp/grafana");
        let cmd: Vec<_> = r.command.iter().map(|c| c.value.as_str()).collect();
        assert_eq!(cmd, ["-t", "stdio", "--privileged"]);
        assert_eq!(
            names(&r),
            [("rm", String::new()), ("interactive", String::new())]
        );
    }

    #[test]
    fn value_options_in_every_form() {
        let (r, src) = run(
            r#"["docker", "run", "--name", "x", "--entrypoint=/bin/sh", "-v", "/a:/b", "--volume=/c:/d:ro",
                "-p8080:80", "-e=K=v", "-eFOO=bar", "--network", "host", "-u", "0", "img:1", "-c", "echo"]"#,
        );
        assert_eq!(
            names(&r),
            [
                ("name", "x".into()),
                ("entrypoint", "/bin/sh".into()),
                ("volume", "/a:/b".into()),
                ("volume", "/c:/d:ro".into()),
                ("publish", "8080:80".into()),
                ("env", "K=v".into()),
                ("env", "FOO=bar".into()),
                ("network", "host".into()),
                ("user", "0".into()),
            ]
        );
        assert_eq!(r.image.as_ref().unwrap().reference.value, "img:1");
        // Joined values point inside their argument; separate ones at their own.
        let entrypoint = r.last_value("entrypoint").unwrap();
        assert_eq!(at(src, entrypoint.value.as_ref().unwrap().span), "/bin/sh");
        assert_eq!(
            at(src, entrypoint.report_span()),
            "\"--entrypoint=/bin/sh\""
        );
        assert_eq!(
            at(src, r.last_value("network").unwrap().report_span()),
            "\"host\""
        );
        let env = r.env();
        assert_eq!(at(src, env[1].key.span), "FOO");
        assert_eq!(at(src, env[1].value.as_ref().unwrap().span), "bar");
    }

    #[test]
    fn short_flag_clusters() {
        let (r, src) = run(r#"["podman", "run", "-itd", "-iv/x:/y", "--rm", "alpine"]"#);
        assert_eq!(r.engine, Engine::Podman);
        assert_eq!(
            names(&r),
            [
                ("interactive", String::new()),
                ("tty", String::new()),
                ("detach", String::new()),
                ("interactive", String::new()),
                ("volume", "/x:/y".into()),
                ("rm", String::new()),
            ]
        );
        assert_eq!(at(src, r.options[1].flag.span), "t");
        assert_eq!(at(src, r.options[4].value.as_ref().unwrap().span), "/x:/y");
    }

    #[test]
    fn run_i_rm_and_container_run_and_global_options() {
        for src in [
            r#"["docker", "container", "run", "--rm", "-i", "busybox"]"#,
            r#"["docker", "--context", "remote", "run", "--rm", "-i", "busybox"]"#,
            r#"["docker", "-H", "unix:///x.sock", "--debug", "run", "--rm", "-i", "busybox"]"#,
            r#"["podman", "--remote", "--connection=m", "container", "run", "--rm", "-i", "busybox"]"#,
            r#"["nerdctl", "-n", "k8s.io", "run", "--rm", "-i", "busybox"]"#,
            r#"["finch", "run", "--rm", "-i", "--", "busybox"]"#,
        ] {
            let (r, _) = run(src);
            assert_eq!(r.image.unwrap().reference.value, "busybox", "{src}");
            assert_eq!(r.options.len(), 2, "{src}");
        }
    }

    #[test]
    fn other_subcommands_are_not_runs() {
        for src in [
            r#"["docker", "mcp", "gateway", "run"]"#,
            r#"["docker", "compose", "run", "--rm", "svc"]"#,
            r#"["docker", "exec", "-i", "ctr", "node", "server.js"]"#,
            r#"["docker"]"#,
            r#"["npx", "-y", "docker", "run", "x"]"#,
            r#"["dockerd", "run"]"#,
        ] {
            assert!(parse_json(src).is_none(), "{src}");
        }
    }

    #[test]
    fn program_paths_and_wrappers() {
        for src in [
            r#"["/usr/local/bin/docker", "run", "-i", "busybox"]"#,
            r#"["C:\\Program Files\\Docker\\Docker\\resources\\bin\\docker.exe", "run", "-i", "busybox"]"#,
            r#"["wsl", "docker", "run", "-i", "busybox"]"#,
            r#"["wsl.exe", "-d", "Ubuntu", "-e", "docker", "run", "-i", "busybox"]"#,
            r#"["cmd", "/c", "docker", "run", "-i", "busybox"]"#,
            r#"["cmd.exe", "/C", "docker run -i busybox"]"#,
            r#"["sudo", "-E", "docker", "run", "-i", "busybox"]"#,
            r#"["lima", "nerdctl", "run", "-i", "busybox"]"#,
            r#"["sh", "-c", "exec docker run -i busybox"]"#,
            r#"["bash", "-lc", "docker run -i busybox 2>/tmp/log"]"#,
        ] {
            let (r, _) = run(src);
            assert_eq!(r.image.unwrap().reference.value, "busybox", "{src}");
        }
        assert!(parse_json(r#"["sh", "-c", "cd /x && docker run -i busybox"]"#).is_none());
        assert!(parse_json(r#"["wsl", "--install"]"#).is_none());
    }

    #[test]
    fn shell_words_keep_quotes_and_spans() {
        let (r, src) =
            run(r#"["sh", "-c", "docker run -i -v \"$(pwd)\":/app -e 'A=b c' img:2 --flag"]"#);
        let volume = r.last_value("volume").unwrap();
        assert_eq!(volume.value_str(), "$(pwd):/app");
        assert_eq!(at(src, volume.report_span()), "\\\"$(pwd)\\\":/app");
        let env = r.env();
        assert_eq!(env[0].value.as_ref().unwrap().value, "b c");
        assert_eq!(at(src, env[0].value.as_ref().unwrap().span), "b c");
        let image = r.image.unwrap();
        assert_eq!(at(src, image.reference.span), "img:2");
        assert_eq!(r.command[0].value, "--flag");
    }

    #[test]
    fn unknown_options_are_recorded() {
        let (r, _) = run(r#"["docker", "run", "--frobnicate", "-Z", "-i", "img"]"#);
        let unknown: Vec<_> = r.unknown_options.iter().map(|u| u.value.as_str()).collect();
        assert_eq!(unknown, ["--frobnicate", "-Z"]);
        assert_eq!(r.image.unwrap().reference.value, "img");
    }

    #[test]
    fn missing_values_and_images_do_not_panic() {
        for src in [
            r#"["docker", "run"]"#,
            r#"["docker", "run", "-v"]"#,
            r#"["docker", "run", "--volume"]"#,
            r#"["docker", "run", "-e"]"#,
            r#"["docker", "run", "-"]"#,
            r#"["docker", "run", "--", "--"]"#,
            r#"["docker", "run", "-é", "--=", "--mount=", "-v", "", "x"]"#,
            r#"["docker", "--context"]"#,
            r#"["sh", "-c"]"#,
            r#"["sh", "-c", "'unterminated"]"#,
            r#"["cmd", "/c"]"#,
        ] {
            let _ = parse_json(src).map(|r| (r.mounts(), r.env()));
        }
        let (r, _) = run(r#"["docker", "run", "-i"]"#);
        assert!(r.image.is_none());
    }

    #[test]
    fn podman_rootfs_has_no_image() {
        let (r, _) = run(r#"["podman", "run", "--rootfs", "/srv/rootfs", "/bin/server"]"#);
        assert!(r.image.is_none());
        assert_eq!(r.command[0].value, "/bin/server");
    }

    fn image(reference: &str) -> ImageRef {
        ImageRef::parse(Spanned::new(reference.to_string(), Span::default()))
    }

    #[test]
    fn image_references() {
        let digest = "sha256:".to_string() + &"a".repeat(64);
        let cases: Vec<(String, &str, Option<&str>, bool)> = vec![
            ("alpine".into(), "alpine", None, false),
            ("alpine:3.20".into(), "alpine", Some("3.20"), false),
            ("mcp/git:latest".into(), "mcp/git", Some("latest"), false),
            (
                "localhost:5000/img".into(),
                "localhost:5000/img",
                None,
                false,
            ),
            (
                "localhost:5000/img:tag".into(),
                "localhost:5000/img",
                Some("tag"),
                false,
            ),
            (
                format!("localhost:5000/img:tag@{digest}"),
                "localhost:5000/img",
                Some("tag"),
                true,
            ),
            (format!("ghcr.io/a/b@{digest}"), "ghcr.io/a/b", None, true),
            ("ghcr.io/a/b@sha256:abc".into(), "ghcr.io/a/b", None, false),
            (
                format!("ghcr.io/a/b@{}", digest.to_uppercase()),
                "ghcr.io/a/b",
                None,
                false,
            ),
            (
                format!("docker://quay.io/x/y:1@{digest}"),
                "quay.io/x/y",
                Some("1"),
                true,
            ),
        ];
        for (text, repo, tag, pinned) in cases {
            let i = image(&text);
            assert_eq!(i.repository, repo, "{text}");
            assert_eq!(i.tag.as_deref(), tag, "{text}");
            assert_eq!(i.is_pinned(), pinned, "{text}");
        }
        assert!(image("${IMAGE}").is_templated());
        assert!(image("ghcr.io/a/b:$TAG").is_templated());
        assert!(image("%IMAGE%").is_templated());
        assert!(!image("ghcr.io/a/b:1%").is_templated());
        assert!(image("oci-archive:/tmp/img.tar").is_local_archive());
        assert!(!image("docker-daemon:alpine:3").is_local_archive());
        assert_eq!(image("docker-daemon:alpine:3").tag.as_deref(), Some("3"));
    }

    fn spec_parts(spec: &str) -> Vec<&str> {
        split_volume_spec(spec)
            .into_iter()
            .map(|r| &spec[r])
            .collect()
    }

    #[test]
    fn volume_specs_keep_drives_and_variables_whole() {
        assert_eq!(spec_parts("/a:/b:ro"), ["/a", "/b", "ro"]);
        assert_eq!(
            spec_parts("C:\\Users\\me:/data"),
            ["C:\\Users\\me", "/data"]
        );
        assert_eq!(
            spec_parts("c:/Users/me:/data:ro"),
            ["c:/Users/me", "/data", "ro"]
        );
        assert_eq!(
            spec_parts("${env:HOME}/.ssh:/root/.ssh"),
            ["${env:HOME}/.ssh", "/root/.ssh"]
        );
        assert_eq!(
            spec_parts("//./pipe/docker_engine://./pipe/docker_engine"),
            ["//./pipe/docker_engine", "//./pipe/docker_engine"]
        );
        assert_eq!(spec_parts("/data"), ["/data"]);
    }

    #[test]
    fn mounts_from_volume_and_mount() {
        let (r, src) = run(
            r#"["docker", "run", "-v", "/var/run/docker.sock:/var/run/docker.sock:ro", "-v", "cache:/cache",
                "-v", "/anon", "--mount", "type=bind,source=/Users/me,target=/home,readonly",
                "--mount=type=volume,src=data,dst=/data", "--mount", "type=tmpfs,dst=/tmp",
                "--mount", "src=\"/etc\",dst=/host-etc,ro=false", "img"]"#,
        );
        let m = r.mounts();
        assert_eq!(m.len(), 7);
        assert_eq!(m[0].kind, MountKind::Bind);
        assert!(m[0].read_only);
        assert_eq!(
            at(src, m[0].source.as_ref().unwrap().span),
            "/var/run/docker.sock"
        );
        assert_eq!(
            at(src, m[0].span),
            "\"/var/run/docker.sock:/var/run/docker.sock:ro\""
        );
        assert_eq!(m[1].kind, MountKind::Volume);
        assert_eq!(m[2].kind, MountKind::Volume);
        assert_eq!(m[2].source, None);
        assert_eq!(m[3].kind, MountKind::Bind);
        assert!(m[3].read_only);
        assert_eq!(m[3].source.as_ref().unwrap().value, "/Users/me");
        assert_eq!(m[3].target.as_deref(), Some("/home"));
        assert_eq!(m[4].kind, MountKind::Volume);
        assert_eq!(m[5].kind, MountKind::Other);
        assert_eq!(m[6].kind, MountKind::Bind);
        assert!(!m[6].read_only);
        assert_eq!(at(src, m[6].source.as_ref().unwrap().span), "/etc");
    }

    #[test]
    fn escaped_windows_paths_locate_their_parts() {
        let (r, src) =
            run(r#"["docker", "run", "-v", "C:\\Users\\alice\\.ssh:/root/.ssh:ro", "img"]"#);
        let m = &r.mounts()[0];
        let source = m.source.as_ref().unwrap();
        assert_eq!(source.value, "C:\\Users\\alice\\.ssh");
        assert_eq!(at(src, source.span), "C:\\\\Users\\\\alice\\\\.ssh");
    }

    #[test]
    fn byte_maps_decode_escapes_or_give_up() {
        let src = r#""a\u00e9\uD83D\uDE00\n/b""#;
        let value = "a\u{e9}\u{1F600}\n/b";
        let map = byte_map(src, Span::new(0, src.len()), value).unwrap();
        assert_eq!(map.len(), value.len() + 1);
        assert_eq!(map[value.len() - 2], src.len() - 3);
        // A value the raw text does not decode to: no map, whole-span fallback.
        assert!(byte_map(src, Span::new(0, src.len()), "other").is_none());
        assert_eq!(
            byte_map("'it''s'", Span::new(0, 7), "it's").map(|m| m.len()),
            Some(5)
        );
        assert!(byte_map("plain", Span::new(0, 5), "plain").is_some());
        assert!(byte_map("x", Span::new(3, 9), "x").is_none());
    }

    #[test]
    fn yaml_and_toml_args() {
        let src = "args: [run, -i, --rm, '-v', 'C:\\Users\\bob:/w', mcp/x]\n";
        let doc = parse(src, Format::Yaml).unwrap();
        let items: Vec<_> = doc
            .get("args")
            .unwrap()
            .items()
            .iter()
            .filter_map(|n| n.spanned_str())
            .collect();
        let mut entry = ServerEntry::new(Spanned::new("s".into(), doc.span), doc.span);
        entry.command = Some(Spanned::new("docker".into(), Span::new(0, 4)));
        entry.args = items;
        let r = ContainerRun::parse(src, &entry).unwrap();
        let m = &r.mounts()[0];
        assert_eq!(at(src, m.source.as_ref().unwrap().span), "C:\\Users\\bob");
        assert_eq!(r.image.unwrap().reference.value, "mcp/x");
    }

    #[test]
    fn bool_flags_with_values() {
        let (r, _) = run(r#"["docker", "run", "--privileged=false", "--rm=true", "img"]"#);
        assert!(!r.options[0].is_on());
        assert!(r.options[1].is_on());
    }
}
