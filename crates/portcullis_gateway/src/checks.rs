//! Argument checks: paths confined to roots, URLs limited to schemes, hosts and public
//! addresses, commands limited to an allowlist, string lengths and patterns; and which
//! arguments are paths, URLs or commands, inferred from a tool's `inputSchema`.
//!
//! Each check returns `Err(reason)` in words for the refusal message. They judge what the
//! server would see: a path is resolved the way the operating system would resolve it (`..`,
//! symlinks, the existing parent of a file not created yet); a URL host is parsed the WHATWG
//! way (so `2130706433`, `0177.0.0.1`, `0x7f.1` and `127.1` are all `127.0.0.1`) and then
//! resolved through DNS, every address checked. The trade-off: DNS is checked once, here; a
//! server that resolves again later may see another answer (rebinding between check and use),
//! and a server that follows redirects may be sent on to a private address by a public one;
//! only a network sandbox can close those.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::{Component, Path, PathBuf};
use std::time::Duration;

use serde_json::Value;

use crate::policy::{CommandRule, PathRule, UrlRule};

/// What kind of value an argument carries, for the checks.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ArgKinds {
    pub paths: Vec<String>,
    pub urls: Vec<String>,
    pub commands: Vec<String>,
}

/// Infers path, URL and command arguments from a tool definition's `inputSchema`, nested
/// objects and arrays included: names such as `path`, `file`, `dir` (and `*_path`, `filePath`,
/// ...), `url`/`uri` or `format: uri`, `command`/`cmd`. A top-level property is named as it
/// is (`path`); a nested one by its JSON pointer, `*` standing for every element of an array
/// or member of a map (`/options/files`, `/edits/*/path`). Local `$ref`s (`#/$defs/...`),
/// `anyOf`/`oneOf`/`allOf`, `items`, `prefixItems`, `additionalProperties` and
/// `patternProperties` are followed, with bounds on depth and size.
pub fn infer_kinds(tool: &Value) -> ArgKinds {
    let mut kinds = ArgKinds::default();
    let Some(schema) = tool.get("inputSchema") else {
        return kinds;
    };
    let mut walk = SchemaWalk {
        root: schema,
        kinds: &mut kinds,
        visited: 0,
    };
    walk.schema(schema, &mut Vec::new(), None, 0);
    kinds
}

/// The kinds an argument can be judged as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Path,
    Url,
    Command,
}

/// The kind a property's name (or, with no name, its schema's `format`) says it holds.
fn kind_of(name: Option<&str>, schema: &Value) -> Option<Kind> {
    let format = schema.get("format").and_then(Value::as_str).unwrap_or("");
    if matches!(format, "uri" | "url" | "iri" | "uri-reference") {
        return Some(Kind::Url);
    }
    let n = name?.to_ascii_lowercase().replace(['-', '_'], "");
    if n == "url" || n == "uri" || n.ends_with("url") || n.ends_with("uri") {
        Some(Kind::Url)
    } else if n == "command" || n == "cmd" || n.ends_with("command") {
        Some(Kind::Command)
    } else if [
        "path",
        "file",
        "dir",
        "directory",
        "folder",
        "filename",
        "paths",
        "files",
    ]
    .contains(&n.as_str())
        || n.ends_with("path")
        || n.ends_with("file")
        || n.ends_with("dir")
        || n.ends_with("directory")
    {
        Some(Kind::Path)
    } else {
        None
    }
}

/// Deepest schema nesting followed, and most schema nodes looked at, per tool: a hostile
/// schema (deep, wide or with `$ref` cycles) costs a bounded amount of work.
const MAX_SCHEMA_DEPTH: usize = 32;
const MAX_SCHEMA_NODES: usize = 10_000;

struct SchemaWalk<'a> {
    root: &'a Value,
    kinds: &'a mut ArgKinds,
    visited: usize,
}

impl<'a> SchemaWalk<'a> {
    /// Follows a local `$ref` (`#/$defs/x`, `#/definitions/x`, any local JSON pointer).
    fn deref(&self, schema: &'a Value) -> &'a Value {
        let mut schema = schema;
        // A few hops only: a ref to a ref to a ref is already unusual.
        for _ in 0..8 {
            let Some(target) = schema.get("$ref").and_then(Value::as_str) else {
                break;
            };
            match target
                .strip_prefix('#')
                .and_then(|pointer| self.root.pointer(pointer))
            {
                Some(found) => schema = found,
                None => break,
            }
        }
        schema
    }

    /// One schema at `path` (pointer segments), reached through the property `name` (`None`
    /// for array items and map values).
    fn schema(
        &mut self,
        schema: &'a Value,
        path: &mut Vec<String>,
        name: Option<&str>,
        depth: usize,
    ) {
        self.visited += 1;
        if depth > MAX_SCHEMA_DEPTH || self.visited > MAX_SCHEMA_NODES {
            return;
        }
        let schema = self.deref(schema);
        if let Some(kind) = kind_of(name, schema).filter(|_| !path.is_empty()) {
            let list = match kind {
                Kind::Path => &mut self.kinds.paths,
                Kind::Url => &mut self.kinds.urls,
                Kind::Command => &mut self.kinds.commands,
            };
            let selector = selector_of(path);
            if !list.contains(&selector) {
                list.push(selector);
            }
        }
        for key in ["anyOf", "oneOf", "allOf"] {
            for alternative in schema
                .get(key)
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                self.schema(alternative, path, name, depth + 1);
            }
        }
        self.object_properties(schema, path, depth);
        let mut items: Vec<&Value> = Vec::new();
        match schema.get("items") {
            Some(Value::Array(tuple)) => items.extend(tuple),
            Some(one @ Value::Object(_)) => items.push(one),
            _ => {}
        }
        items.extend(
            schema
                .get("prefixItems")
                .and_then(Value::as_array)
                .into_iter()
                .flatten(),
        );
        if let Some(extra @ Value::Object(_)) = schema.get("additionalProperties") {
            items.push(extra);
        }
        items.extend(
            schema
                .get("patternProperties")
                .and_then(Value::as_object)
                .into_iter()
                .flat_map(|m| m.values()),
        );
        for item in items {
            path.push("*".into());
            self.schema(item, path, None, depth + 1);
            path.pop();
        }
    }

    fn object_properties(&mut self, schema: &'a Value, path: &mut Vec<String>, depth: usize) {
        let schema = self.deref(schema);
        let Some(props) = schema.get("properties").and_then(Value::as_object) else {
            return;
        };
        for (name, sub) in props {
            path.push(name.clone());
            self.schema(sub, path, Some(name), depth + 1);
            path.pop();
        }
    }
}

/// A top-level property by its name, anything deeper by its JSON pointer.
fn selector_of(path: &[String]) -> String {
    match path {
        [only] if !only.starts_with('/') && only != "*" && !only.contains(['.', '*', '?', '[']) => {
            only.clone()
        }
        _ => path
            .iter()
            .map(|s| format!("/{}", s.replace('~', "~0").replace('/', "~1")))
            .collect(),
    }
}

/// One step of an argument selector.
#[derive(Debug, Clone)]
enum Step {
    Key(String),
    /// A key glob such as `*_path`.
    Glob(globset::GlobMatcher),
    /// `*`: every member of an object, every element of an array.
    Any,
    /// `**`: any depth, none included.
    AnyDepth,
}

/// Parses a selector: a JSON pointer (`/options/files`, `/edits/*/path`), a dotted key path
/// whose steps may be globs (`options.files`, `edits.*.path`, `**.path`, `*_file`), or a plain
/// top-level name (`path`).
fn steps_of(selector: &str) -> Vec<Step> {
    let glob = |text: &str| -> Step {
        match text {
            "*" => Step::Any,
            "**" => Step::AnyDepth,
            _ if text.contains(['*', '?', '[']) => globset::Glob::new(text)
                .map(|g| Step::Glob(g.compile_matcher()))
                .unwrap_or_else(|_| Step::Key(text.to_string())),
            _ => Step::Key(text.to_string()),
        }
    };
    if let Some(pointer) = selector.strip_prefix('/') {
        pointer
            .split('/')
            .map(|s| match s {
                "*" => Step::Any,
                "**" => Step::AnyDepth,
                _ => Step::Key(s.replace("~1", "/").replace("~0", "~")),
            })
            .collect()
    } else if selector.contains('.') || selector.contains(['*', '?', '[']) {
        selector.split('.').map(glob).collect()
    } else {
        vec![Step::Key(selector.to_string())]
    }
}

/// Every value `selector` reaches in `arguments`. Arrays met before the selector ends are
/// looked through (`/files/path` reaches the `path` of each element of `files`); an array
/// index is a key that is a number (`/files/0`). A top-level key spelled exactly like the
/// selector is reached too (a name may hold a dot): both are judged, so neither spelling can
/// be used to slip a value past the other.
pub fn values_of<'a>(arguments: &'a Value, selector: &str) -> Vec<&'a Value> {
    let mut out = Vec::new();
    select(arguments, &steps_of(selector), &mut out);
    if let Some(v) = arguments.get(selector)
        && !out.iter().any(|seen| std::ptr::eq(*seen, v))
    {
        out.push(v);
    }
    out
}

fn select<'a>(value: &'a Value, steps: &[Step], out: &mut Vec<&'a Value>) {
    let Some((step, rest)) = steps.split_first() else {
        out.push(value);
        return;
    };
    match (value, step) {
        (Value::Array(items), Step::Key(k)) => match k.parse::<usize>() {
            Ok(i) => {
                if let Some(item) = items.get(i) {
                    select(item, rest, out);
                }
            }
            Err(_) => items.iter().for_each(|item| select(item, steps, out)),
        },
        (Value::Array(items), Step::Any) => items.iter().for_each(|item| select(item, rest, out)),
        (Value::Array(items), Step::Glob(_) | Step::AnyDepth) => {
            items.iter().for_each(|item| select(item, steps, out));
        }
        (Value::Object(map), Step::Key(k)) => {
            if let Some(v) = map.get(k) {
                select(v, rest, out);
            }
        }
        (Value::Object(map), Step::Glob(g)) => map
            .iter()
            .filter(|(k, _)| g.is_match(k.as_str()))
            .for_each(|(_, v)| select(v, rest, out)),
        (Value::Object(map), Step::Any) => map.values().for_each(|v| select(v, rest, out)),
        (Value::Object(map), Step::AnyDepth) => {
            select(value, rest, out);
            map.values().for_each(|v| select(v, steps, out));
        }
        (_, Step::AnyDepth) => select(value, rest, out),
        _ => {}
    }
}

/// The string values `selector` reaches (see [`values_of`]): strings, and the strings of
/// arrays, at any array depth.
pub fn strings_of<'a>(arguments: &'a Value, selector: &str) -> Vec<&'a str> {
    fn strings<'a>(value: &'a Value, out: &mut Vec<&'a str>) {
        match value {
            Value::String(s) => out.push(s),
            Value::Array(items) => items.iter().for_each(|i| strings(i, out)),
            _ => {}
        }
    }
    let mut out = Vec::new();
    for value in values_of(arguments, selector) {
        strings(value, &mut out);
    }
    out
}

// ---- paths ----

/// Characters that some servers or file systems fold into `.` or `/` (Unicode compatibility
/// forms): refused outright rather than guessed at.
const LOOKALIKES: &[char] = &[
    '\u{2024}', '\u{2025}', '\u{2026}', '\u{FF0E}', '\u{FE52}', '\u{FF0F}', '\u{2215}', '\u{2044}',
    '\u{29F8}', '\u{FF3C}', '\u{FE68}', '\u{2216}',
];

/// Checks that `value` resolves inside one of the rule's roots. `cwd` is the folder relative
/// paths are resolved against (the server's working folder, which is the gateway's).
pub fn check_path(value: &str, rule: &PathRule, cwd: &Path) -> Result<(), String> {
    let mut forms = vec![value.to_string()];
    // `file://` URIs name a path too.
    if let Some(rest) = value.strip_prefix("file://") {
        let decoded = percent_decode(rest).ok_or("the file URI is not valid percent-encoding")?;
        forms = vec![decoded];
    } else if value.contains('%') {
        // A server that percent-decodes would see another path: both must be inside.
        if let Some(decoded) = percent_decode(value) {
            forms.push(decoded);
        }
    }
    for form in &forms {
        if form.contains('\0') {
            return Err("the path contains a NUL byte".into());
        }
        if form.is_empty() {
            return Err("the path is empty".into());
        }
        if let Some(c) = form.chars().find(|c| LOOKALIKES.contains(c)) {
            return Err(format!(
                "the path contains U+{:04X}, a look-alike of `.` or `/`",
                c as u32
            ));
        }
        if cfg!(unix) && form.contains('\\') {
            // Harmless to a Unix file system, but a server may treat it as a separator.
            return Err("the path contains a backslash".into());
        }
        let resolved = resolve_path(Path::new(form), cwd)
            .map_err(|e| format!("the path cannot be resolved: {e}"))?;
        if !rule.roots.iter().any(|root| resolved.starts_with(root)) {
            return Err(format!(
                "`{}` resolves to `{}`, outside the allowed roots ({})",
                value,
                resolved.display(),
                rule.roots
                    .iter()
                    .map(|r| format!("`{}`", r.display()))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
    }
    Ok(())
}

/// Resolves `path` as the OS would: the longest existing ancestor is canonicalised (symlinks
/// and `..` resolved), then the components that do not exist yet are applied lexically (they
/// cannot be links). Comparison is then component-wise (`Path::starts_with`), so the sibling
/// `/srv/data-evil` is not inside `/srv/data`.
pub fn resolve_path(path: &Path, cwd: &Path) -> std::io::Result<PathBuf> {
    let absolute = if path.is_absolute() {
        path.to_path_buf()
    } else {
        cwd.join(path)
    };
    let mut existing = absolute.clone();
    let mut rest: Vec<std::ffi::OsString> = Vec::new();
    loop {
        // symlink_metadata: a dangling link exists (and canonicalize then fails: refused).
        if existing.symlink_metadata().is_ok() {
            break;
        }
        match (existing.file_name(), existing.parent()) {
            (Some(name), Some(parent)) => {
                rest.push(name.to_os_string());
                existing = parent.to_path_buf();
            }
            // `..` at the end, or the root: canonicalize below reports it.
            _ => break,
        }
    }
    let mut resolved = std::fs::canonicalize(&existing)?;
    for name in rest.iter().rev() {
        for component in Path::new(name).components() {
            match component {
                Component::ParentDir => {
                    resolved.pop();
                }
                Component::Normal(n) => resolved.push(n),
                _ => {}
            }
        }
    }
    Ok(resolved)
}

fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = text.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

// ---- URLs ----

/// Why an address may not be reached, or `None` for a public address.
pub fn blocked_address(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => blocked_v4(v4),
        IpAddr::V6(v6) => {
            if v6 == Ipv6Addr::new(0xfd00, 0xec2, 0, 0, 0, 0, 0, 0x254) {
                return Some("the cloud metadata service");
            }
            if let Some(v4) = v6.to_ipv4_mapped() {
                return blocked_v4(v4).or(Some("an IPv4-mapped address"));
            }
            let s = v6.segments();
            if v6.is_loopback() {
                return Some("loopback");
            }
            if v6.is_unspecified() {
                return Some("the unspecified address");
            }
            // IPv4-compatible (::a.b.c.d), NAT64 (64:ff9b::/96) and 6to4 (2002::/16) carry an
            // IPv4 address inside.
            if s[..6] == [0, 0, 0, 0, 0, 0] || s[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
                let v4 =
                    Ipv4Addr::new((s[6] >> 8) as u8, s[6] as u8, (s[7] >> 8) as u8, s[7] as u8);
                return blocked_v4(v4).or(Some("an IPv4-embedding address"));
            }
            if s[0] == 0x2002 {
                let v4 =
                    Ipv4Addr::new((s[1] >> 8) as u8, s[1] as u8, (s[2] >> 8) as u8, s[2] as u8);
                if let Some(why) = blocked_v4(v4) {
                    return Some(why);
                }
            }
            if s[0] & 0xfe00 == 0xfc00 {
                return Some("a private (unique local) address");
            }
            if s[0] & 0xffc0 == 0xfe80 {
                return Some("a link-local address");
            }
            if s[0] & 0xffc0 == 0xfec0 {
                return Some("a site-local address");
            }
            if s[0] & 0xff00 == 0xff00 {
                return Some("a multicast address");
            }
            None
        }
    }
}

fn blocked_v4(v4: Ipv4Addr) -> Option<&'static str> {
    let o = v4.octets();
    if v4 == Ipv4Addr::new(169, 254, 169, 254) {
        Some("the cloud metadata service")
    } else if v4.is_loopback() {
        Some("loopback")
    } else if v4.is_unspecified() || o[0] == 0 {
        Some("the unspecified address (it reaches this machine)")
    } else if v4.is_private() {
        Some("a private address")
    } else if v4.is_link_local() {
        Some("a link-local address")
    } else if o[0] == 100 && (64..128).contains(&o[1]) {
        Some("a carrier-grade NAT address")
    } else if v4.is_broadcast() || v4.is_multicast() || o[0] >= 240 {
        Some("a broadcast, multicast or reserved address")
    } else if o[0] == 192 && o[1] == 0 && o[2] == 0 {
        Some("an IETF protocol assignment address")
    } else if o[0] == 198 && (o[1] == 18 || o[1] == 19) {
        Some("a benchmarking address")
    } else {
        None
    }
}

/// Checks a URL argument: scheme, host allowlist, then every address the host resolves to.
pub async fn check_url(value: &str, rule: &UrlRule) -> Result<(), String> {
    check_url_resolving(value, rule, |name, port| async move {
        let addrs = tokio::net::lookup_host((name.as_str(), port)).await?;
        Ok(addrs.map(|a| a.ip()).collect())
    })
    .await
}

/// [`check_url`] with the name lookup given, so tests can say what a name resolves to.
async fn check_url_resolving<F, Fut>(value: &str, rule: &UrlRule, resolve: F) -> Result<(), String>
where
    F: FnOnce(String, u16) -> Fut,
    Fut: std::future::Future<Output = std::io::Result<Vec<IpAddr>>>,
{
    if value.contains(['\0', '\n', '\r', '\t']) {
        return Err("the URL contains control characters".into());
    }
    let url = url::Url::parse(value.trim()).map_err(|e| format!("not a valid URL: {e}"))?;
    let scheme = url.scheme().to_ascii_lowercase();
    if !rule.schemes.contains(&scheme) {
        return Err(format!(
            "scheme `{scheme}` is not allowed (allowed: {})",
            rule.schemes.join(", ")
        ));
    }
    let host = match url.host() {
        Some(url::Host::Domain(d)) => Host::Name(d.trim_end_matches('.').to_ascii_lowercase()),
        Some(url::Host::Ipv4(ip)) => Host::Ip(IpAddr::V4(ip)),
        Some(url::Host::Ipv6(ip)) => Host::Ip(IpAddr::V6(ip)),
        None => return Err("the URL has no host".into()),
    };
    let host_text = match &host {
        Host::Name(n) => n.clone(),
        Host::Ip(ip) => ip.to_string(),
    };
    if let Some(hosts) = &rule.hosts
        && !hosts.is_match(&host_text)
    {
        return Err(format!("host `{host_text}` is not in the allowed hosts"));
    }
    if rule.allow_private {
        return Ok(());
    }
    let addresses = match host {
        Host::Ip(ip) => vec![ip],
        Host::Name(name) => {
            if name == "localhost" || name.ends_with(".localhost") {
                return Err(format!("host `{name}` is this machine (loopback)"));
            }
            let port = url.port_or_known_default().unwrap_or(443);
            match tokio::time::timeout(Duration::from_secs(3), resolve(name.clone(), port)).await {
                Ok(Ok(addrs)) => addrs,
                Ok(Err(e)) => return Err(format!("host `{name}` cannot be resolved: {e}")),
                Err(_) => return Err(format!("resolving host `{name}` timed out")),
            }
        }
    };
    if addresses.is_empty() {
        return Err(format!("host `{host_text}` resolves to no address"));
    }
    for ip in addresses {
        if let Some(why) = blocked_address(ip) {
            return Err(format!(
                "host `{host_text}` resolves to {ip}, {why}; private destinations are blocked"
            ));
        }
    }
    Ok(())
}

enum Host {
    Name(String),
    Ip(IpAddr),
}

// ---- commands, strings ----

/// Characters a shell (POSIX or `cmd.exe`) gives meaning to.
const SHELL_META: &[char] = &[
    ';', '&', '|', '$', '`', '<', '>', '(', ')', '{', '}', '[', ']', '*', '?', '~', '!', '#', '\\',
    '\'', '"', '%', '^', '\n', '\r', '\0',
];

/// Checks a command argument: no shell metacharacters, and the program (first word, compared
/// exactly) in the allowlist. An array is a program and its arguments.
pub fn check_command(value: &Value, rule: &CommandRule) -> Result<(), String> {
    let words: Vec<&str> = match value {
        Value::String(s) => {
            // Whole string first: splitting on whitespace would hide a newline.
            if let Some(c) = s
                .chars()
                .find(|c| SHELL_META.contains(c) || c.is_control() && *c != ' ')
            {
                return Err(format!(
                    "the command contains the shell metacharacter `{}`",
                    c.escape_default()
                ));
            }
            s.split_whitespace().collect()
        }
        Value::Array(items) => items
            .iter()
            .map(|v| v.as_str().ok_or("a command list holds a non-string"))
            .collect::<Result<_, _>>()?,
        _ => return Err("the command is not a string or a list of strings".into()),
    };
    for word in &words {
        if let Some(c) = word
            .chars()
            .find(|c| SHELL_META.contains(c) || c.is_control())
        {
            return Err(format!(
                "the command contains the shell metacharacter `{}`",
                c.escape_default()
            ));
        }
    }
    let program = words.first().ok_or("the command is empty")?;
    if !rule.allow.iter().any(|a| a == program) {
        return Err(format!(
            "program `{program}` is not in the allowed commands ({})",
            rule.allow.join(", ")
        ));
    }
    Ok(())
}

/// The first string (anywhere in `value`) longer than `max` characters, as its length.
pub fn longest_over(value: &Value, max: usize) -> Option<usize> {
    match value {
        Value::String(s) => {
            let n = s.chars().count();
            (n > max).then_some(n)
        }
        Value::Array(items) => items.iter().find_map(|v| longest_over(v, max)),
        Value::Object(map) => map.iter().find_map(|(k, v)| {
            longest_over(&Value::String(k.clone()), max).or_else(|| longest_over(v, max))
        }),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn root_rule(root: &Path) -> PathRule {
        PathRule {
            args: None,
            roots: vec![std::fs::canonicalize(root).unwrap()],
        }
    }

    #[test]
    fn paths_stay_inside_roots() {
        let tmp = tempfile::tempdir().unwrap();
        let data = tmp.path().join("data");
        let evil = tmp.path().join("data-evil");
        std::fs::create_dir_all(data.join("sub")).unwrap();
        std::fs::create_dir_all(&evil).unwrap();
        std::fs::write(data.join("a.txt"), "a").unwrap();
        let rule = root_rule(&data);
        let d = data.to_str().unwrap();
        let ok = |v: &str| check_path(v, &rule, &data);
        assert!(ok(&format!("{d}/a.txt")).is_ok());
        assert!(
            ok(&format!("{d}/sub/new/file.txt")).is_ok(),
            "file not created yet"
        );
        assert!(ok("a.txt").is_ok(), "relative to cwd");
        assert!(ok(&format!("file://{d}/a.txt")).is_ok());
        for bad in [
            format!("{d}/../data-evil/x"),
            format!("{d}-evil/x"),
            "/etc/passwd".to_string(),
            "../data-evil".to_string(),
            format!("{d}/sub/new/../../../data-evil"),
            format!("{d}/a.txt\0"),
            format!("{d}/%2e%2e/data-evil"),
            format!("file://{d}/%2e%2e/data-evil"),
            format!("{d}/\u{2025}/data-evil"),
            format!("{d}/..\\data-evil"),
            String::new(),
        ] {
            assert!(ok(&bad).is_err(), "{bad:?} allowed");
        }
    }

    #[cfg(unix)]
    #[test]
    fn symlinks_out_of_the_root_are_refused() {
        let tmp = tempfile::tempdir().unwrap();
        let data = tmp.path().join("data");
        std::fs::create_dir_all(&data).unwrap();
        std::os::unix::fs::symlink("/etc", data.join("etc")).unwrap();
        std::os::unix::fs::symlink("/no/such/target", data.join("dangling")).unwrap();
        std::os::unix::fs::symlink(&data, tmp.path().join("link-to-data")).unwrap();
        let rule = root_rule(&data);
        let d = data.to_str().unwrap();
        assert!(check_path(&format!("{d}/etc/passwd"), &rule, &data).is_err());
        assert!(check_path(&format!("{d}/etc/new-file"), &rule, &data).is_err());
        assert!(check_path(&format!("{d}/dangling"), &rule, &data).is_err());
        // A root reached through a link is still the root.
        let via = tmp.path().join("link-to-data/x.txt");
        assert!(check_path(via.to_str().unwrap(), &rule, &data).is_ok());
        // A root given as a link is canonicalised when the policy is resolved (root_rule).
        let rule2 = root_rule(&tmp.path().join("link-to-data"));
        assert!(check_path(&format!("{d}/x"), &rule2, &data).is_ok());
    }

    #[test]
    fn addresses() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "0.0.0.0",
            "100.64.0.1",
            "::1",
            "::",
            "fd00:ec2::254",
            "fe80::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "64:ff9b::7f00:1",
            "2002:7f00:1::",
            "::127.0.0.1",
            "fc00::1",
            "255.255.255.255",
            "224.0.0.1",
        ] {
            assert!(
                blocked_address(ip.parse().unwrap()).is_some(),
                "{ip} allowed"
            );
        }
        for ip in ["93.184.216.34", "8.8.8.8", "2606:4700::1111"] {
            assert!(
                blocked_address(ip.parse().unwrap()).is_none(),
                "{ip} blocked"
            );
        }
    }

    #[tokio::test(flavor = "current_thread")]
    async fn ssrf_forms_are_refused() {
        let rule = UrlRule {
            args: None,
            schemes: vec!["http".into(), "https".into()],
            hosts: None,
            allow_private: false,
        };
        for bad in [
            "http://127.0.0.1/",
            "http://2130706433/",
            "http://0177.0.0.1/",
            "http://0x7f.0.0.1/",
            "http://0x7f000001/",
            "http://127.1/",
            "http://[::ffff:127.0.0.1]/",
            "http://[::1]/",
            "http://0.0.0.0/",
            "http://[::]/",
            "http://localhost/",
            "http://localhost./",
            "http://LOCALHOST:8080/",
            "http://a.localhost/",
            "http://169.254.169.254/latest/meta-data",
            "http://[fd00:ec2::254]/",
            "http://100.64.1.1/",
            "http://user@127.0.0.1/",
            "http://10.0.0.1/",
            "file:///etc/passwd",
            "gopher://1.2.3.4/",
            "ftp://8.8.8.8/",
            "http://[::ffff:7f00:1]/",
            "not a url",
            "http://8.8.8.8\n/",
        ] {
            assert!(check_url(bad, &rule).await.is_err(), "{bad} allowed");
        }
        assert!(check_url("https://8.8.8.8/x", &rule).await.is_ok());
        // Names are judged by every address they resolve to: one private answer among public
        // ones is enough to refuse (a resolver may hand either to the server).
        let answers = |ips: &'static [&'static str]| {
            move |_: String, _: u16| async move {
                Ok(ips
                    .iter()
                    .map(|ip| ip.parse().unwrap())
                    .collect::<Vec<IpAddr>>())
            }
        };
        for (ips, allowed) in [
            (&["127.0.0.1"][..], false),
            (&["93.184.216.34", "10.1.2.3"][..], false),
            (&["::ffff:169.254.169.254"][..], false),
            (&["93.184.216.34", "2606:4700::1111"][..], true),
            (&[][..], false),
        ] {
            let verdict = check_url_resolving("https://rebind.test/x", &rule, answers(ips)).await;
            assert_eq!(verdict.is_ok(), allowed, "{ips:?}: {verdict:?}");
        }
        let failing = |_: String, _: u16| async {
            Err::<Vec<IpAddr>, _>(std::io::Error::other("no such host"))
        };
        let verdict = check_url_resolving("https://nowhere.test/", &rule, failing).await;
        assert!(verdict.unwrap_err().contains("cannot be resolved"));
        let mut hosts = globset::GlobSetBuilder::new();
        hosts.add(globset::Glob::new("*.example.com").unwrap());
        let only = UrlRule {
            hosts: Some(hosts.build().unwrap()),
            ..rule
        };
        assert!(check_url("https://8.8.8.8/x", &only).await.is_err());
        assert!(
            check_url("https://evil.com/.example.com", &only)
                .await
                .is_err()
        );
    }

    #[test]
    fn commands() {
        let rule = CommandRule {
            args: None,
            allow: vec!["git".into(), "ls".into()],
        };
        assert!(check_command(&json!("git status"), &rule).is_ok());
        assert!(check_command(&json!(["ls", "-la"]), &rule).is_ok());
        for bad in [
            json!("git status; rm -rf /"),
            json!("git $(id)"),
            json!("git `id`"),
            json!("ls | sh"),
            json!("ls && curl x"),
            json!("ls > /etc/passwd"),
            json!("ls\nrm -rf /"),
            json!("rm -rf /"),
            json!("/usr/bin/git status"),
            json!("bash -c ls"),
            json!("git ${IFS}x"),
            json!(["sh", "-c", "ls"]),
            json!(["git", 1]),
            json!(""),
            json!("ls %COMSPEC%"),
            json!("ls ^& whoami"),
        ] {
            assert!(check_command(&bad, &rule).is_err(), "{bad} allowed");
        }
    }

    #[test]
    fn infers_kinds_from_schema() {
        let tool = json!({"name": "t", "inputSchema": {"type": "object", "properties": {
            "path": {"type": "string"}, "targetFile": {"type": "string"},
            "link": {"type": "string", "format": "uri"}, "url": {"type": "string"},
            "cmd": {"type": "string"}, "text": {"type": "string"}}}});
        let k = infer_kinds(&tool);
        assert_eq!(k.paths, vec!["path", "targetFile"]);
        assert_eq!(k.urls, vec!["link", "url"]);
        assert_eq!(k.commands, vec!["cmd"]);
    }

    #[test]
    fn infers_kinds_in_nested_schemas() {
        let tool = json!({"name": "t", "inputSchema": {"type": "object",
            "$defs": {"Edit": {"type": "object", "properties": {
                "targetPath": {"type": "string"}, "note": {"type": "string"}}}},
            "properties": {
                "options": {"type": "object", "properties": {
                    "files": {"type": "array", "items": {"type": "string"}},
                    "depth": {"type": "integer"},
                    "proxy": {"type": "object", "properties": {"endpoint": {"type": "string", "format": "uri"}}}}},
                "edits": {"type": "array", "items": {"$ref": "#/$defs/Edit"}},
                "steps": {"type": "array", "items": {"anyOf": [
                    {"type": "object", "properties": {"cmd": {"type": "string"}}},
                    {"type": "string"}]}},
                "mirrors": {"type": "object", "additionalProperties": {"type": "string", "format": "uri"}},
                "a/b": {"type": "object", "properties": {"dir": {"type": "string"}}},
                "text": {"type": "string"}}}});
        let k = infer_kinds(&tool);
        assert_eq!(
            k.paths,
            vec!["/options/files", "/edits/*/targetPath", "/a~1b/dir"]
        );
        assert_eq!(k.urls, vec!["/options/proxy/endpoint", "/mirrors/*"]);
        assert_eq!(k.commands, vec!["/steps/*/cmd"]);
    }

    #[test]
    fn hostile_schemas_cost_bounded_work() {
        // A `$ref` cycle and a deep chain: no hang, no stack overflow.
        let cyclic = json!({"inputSchema": {"$defs": {"N": {"type": "object", "properties": {
            "next": {"$ref": "#/$defs/N"}, "path": {"type": "string"}}}},
            "$ref": "#/$defs/N"}});
        let k = infer_kinds(&cyclic);
        assert!(k.paths.contains(&"path".to_string()), "{k:?}");
        assert!(k.paths.len() <= MAX_SCHEMA_DEPTH + 1, "{k:?}");
        let mut deep = json!({"type": "string"});
        for _ in 0..100 {
            deep = json!({"type": "object", "properties": {"x": deep}});
        }
        let _ = infer_kinds(&json!({"inputSchema": deep}));
    }

    #[test]
    fn selectors_reach_nested_values() {
        let args = json!({
            "path": "/top",
            "options": {"files": ["/a", "/b", ["/c"]], "file.name": "x"},
            "edits": [{"path": "/e1"}, {"path": "/e2", "nested": {"path": "/e3"}}],
            "options.files": "/dotted-top-level",
            "n": 3
        });
        let s = |sel: &str| strings_of(&args, sel);
        assert_eq!(s("path"), vec!["/top"]);
        assert_eq!(s("/options/files"), vec!["/a", "/b", "/c"]);
        // Both the nested value and a top-level key spelled like the selector are judged.
        assert_eq!(
            s("options.files"),
            vec!["/a", "/b", "/c", "/dotted-top-level"]
        );
        assert_eq!(s("/options/files/1"), vec!["/b"]);
        assert_eq!(s("/edits/*/path"), vec!["/e1", "/e2"]);
        assert_eq!(
            s("/edits/path"),
            vec!["/e1", "/e2"],
            "arrays are looked through"
        );
        assert_eq!(s("edits.*.path"), vec!["/e1", "/e2"]);
        let mut deep = s("**.path");
        deep.sort_unstable();
        assert_eq!(deep, vec!["/e1", "/e2", "/e3", "/top"]);
        assert_eq!(s("options.file*"), vec!["/a", "/b", "/c", "x"]);
        assert_eq!(s("/missing/x"), Vec::<&str>::new());
        assert_eq!(s("n"), Vec::<&str>::new());
        assert_eq!(values_of(&args, "n"), vec![&json!(3)]);
        assert_eq!(values_of(&args, "/edits/1/nested").len(), 1);
        // What inference writes, the selectors read.
        assert_eq!(
            strings_of(
                &json!({"a/b": {"dir": "/d"}}),
                &selector_of(&["a/b".into(), "dir".into()])
            ),
            vec!["/d"]
        );
    }

    #[test]
    fn long_strings() {
        assert_eq!(longest_over(&json!({"a": ["xx", "xxxx"]}), 3), Some(4));
        assert_eq!(longest_over(&json!({"a": "xx"}), 3), None);
    }
}
