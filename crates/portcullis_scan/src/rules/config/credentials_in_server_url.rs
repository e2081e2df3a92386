use std::ops::Range;
use std::sync::Arc;

use crate::clients::Client;
use crate::declare_rule;
use crate::diagnostic::Diagnostic;
use crate::model::{ConfigFile, SecretFact, ServerEntry};
use crate::net::ParsedUrl;
use crate::registry::{Confidence, RuleMeta};
use crate::secrets;
use crate::source::SourceFile;
use crate::span::{Span, Spanned};

declare_rule! {
    /// ## What it does
    /// Finds remote MCP servers whose `url` carries a credential: a password in the user-info
    /// part (`https://user:password@host/mcp`), a literal secret in a query parameter such as
    /// `?api_key=`, `?token=`, `?access_token=`, `?key=` or `?sig=`, or a provider token
    /// anywhere in the URL. Values that are references (`${env:TOKEN}`, `${input:key}`) and
    /// obvious placeholders (`YOUR_API_KEY`) are not reported.
    ///
    /// ## Why is this bad?
    /// A URL is not treated as a secret by anything that handles it. It is written to the
    /// access logs of the server and of every proxy and load balancer on the way, kept in the
    /// client's own logs and error messages, shown in its UI, and copied along with the config
    /// into issues and repositories. A credential in the URL leaks through all of them, and it
    /// is also a literal secret in the configuration file.
    ///
    /// ## Example
    /// ```json
    /// {
    ///   "mcpServers": {
    ///     "search": { "type": "http", "url": "https://mcp.example.com/mcp?api_key=sk_live_4eC39HqLyjWDarjtT1zdp7dc" }
    ///   }
    /// }
    /// ```
    ///
    /// ## Use instead
    /// ```json
    /// {
    ///   "mcpServers": {
    ///     "search": {
    ///       "type": "http",
    ///       "url": "https://mcp.example.com/mcp",
    ///       "headers": { "Authorization": "Bearer ${SEARCH_API_KEY}" }
    ///     }
    ///   }
    /// }
    /// ```
    /// Send the credential in a header whose value comes from the environment or a secret
    /// input, or let the client do OAuth with the server. Rotate any credential that was ever
    /// written in the URL.
    ///
    /// ## References
    /// - [CWE-598: Use of GET Request Method With Sensitive Query Strings](https://cwe.mitre.org/data/definitions/598.html)
    /// - [CWE-522: Insufficiently Protected Credentials](https://cwe.mitre.org/data/definitions/522.html)
    /// - [RFC 3986 §3.2.1: user information in URIs is deprecated](https://www.rfc-editor.org/rfc/rfc3986#section-3.2.1)
    /// - [MCP Authorization: access token usage](https://modelcontextprotocol.io/specification/2025-11-25/basic/authorization#access-token-usage)
    pub static CREDENTIALS_IN_SERVER_URL = {
        code: "PC210",
        name: "credentials-in-server-url",
        summary: "A remote MCP server's URL carries a password, token or API key",
        severity: High,
        confidence: High,
        cwe: [598, 522],
        target: Config,
    }
}

/// What a credential in a URL is.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Place<'a> {
    /// The password of `user:password@`.
    Password { user: String },
    /// The value of a query parameter with a credential's name.
    Query { name: &'a str },
    /// A token the secret detectors recognised.
    Detected { kind: &'static str },
}

fn diagnostic(
    file: &Arc<SourceFile>,
    client: Client,
    server: &ServerEntry,
    span: Span,
    place: &Place<'_>,
    secret: &str,
) -> Diagnostic {
    let masked = secrets::mask(secret);
    let what = match place {
        Place::Password { user } if user.is_empty() => format!("a password `{masked}`"),
        // A long user name may itself be a token: never show it whole.
        Place::Password { user } if user.chars().count() > 24 => {
            format!("the password `{masked}` of user `{}`", secrets::mask(user))
        }
        Place::Password { user } => format!("the password `{masked}` of user `{user}`"),
        Place::Query { name } => format!("a literal secret `{masked}` in the `{name}` parameter"),
        Place::Detected { kind } => format!("a literal {kind} `{masked}`"),
    };
    Diagnostic::new(
        &CREDENTIALS_IN_SERVER_URL,
        file,
        span,
        format!("the URL of server `{}` carries {what}", server.name.value),
    )
    .with_help(format!(
        "Move the credential out of the URL, which servers, proxies and the client write to their logs: {} Then rotate it.",
        header_hint(client)
    ))
    .with_server(&server.name.value)
}

/// How to send a credential in a header instead, in the client's own syntax.
fn header_hint(client: Client) -> String {
    let reference = match client {
        Client::ClaudeCode | Client::GeminiCli | Client::Kiro => "${API_TOKEN}",
        Client::Opencode => "{env:API_TOKEN}",
        Client::Continue => "${{ secrets.API_TOKEN }}",
        Client::Codex => {
            return "set `bearer_token_env_var = \"API_TOKEN\"` (or `env_http_headers`) so Codex sends it as a header from the environment, or log in with `codex mcp login`.".into();
        }
        Client::Goose => {
            return "send it in `headers` with the value kept in Goose's keyring, or use the server's OAuth support.".into();
        }
        _ => "${env:API_TOKEN}",
    };
    format!(
        "send it in a header (`\"Authorization\": \"Bearer {reference}\"`) or use the client's OAuth support."
    )
}

pub struct Rule;

impl super::ConfigRule for Rule {
    fn meta(&self) -> &'static RuleMeta {
        &CREDENTIALS_IN_SERVER_URL
    }

    fn check_file(&self, file: &ConfigFile, out: &mut Vec<Diagnostic>) {
        for server in &file.servers {
            let Some(url) = &server.url else { continue };
            // The secrets found at load time, which the renderers already mask.
            let facts: Vec<&SecretFact> = file
                .secrets
                .iter()
                .filter(|f| f.in_server_url && url.span.contains(f.span))
                .collect();
            for fact in &facts {
                let secret = file.source.text.get(fact.span.range()).unwrap_or("");
                out.push(
                    diagnostic(
                        &file.source,
                        file.client,
                        server,
                        fact.span,
                        &Place::Detected { kind: fact.kind },
                        secret,
                    )
                    .with_confidence(fact.confidence),
                );
            }
            // Our own reading of the URL, for what the detectors did not report.
            for (range, place) in url_credentials(&url.value) {
                let span = source_span(&file.source.text, url, range.clone());
                if facts
                    .iter()
                    .any(|f| f.span.start < span.end && span.start < f.span.end)
                {
                    continue;
                }
                let secret = url.value.get(range).unwrap_or("");
                let source = with_masked(&file.source, span);
                let mut d = diagnostic(&source, file.client, server, span, &place, secret);
                if span == url.span {
                    // The secret could not be placed inside the value (escapes): the whole
                    // URL is flagged and masked.
                    d = d.with_confidence(Confidence::Medium);
                }
                out.push(d);
            }
        }
    }
}

/// The credentials in a URL string, as byte ranges into it: a user-info password and the
/// values of query parameters named like credentials. References and placeholders are skipped.
fn url_credentials(url: &str) -> Vec<(Range<usize>, Place<'_>)> {
    let mut out = Vec::new();
    let trimmed_start = url.len() - url.trim_start().len();
    let Some(scheme_end) = url.find("://") else {
        return out;
    };
    let scheme = &url[trimmed_start..scheme_end];
    if scheme.is_empty()
        || !scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
    {
        return out;
    }
    // The url crate decides whether this is a URL at all; an unexpanded `${HOST}` is not, and
    // neither is anything else we could misread.
    let parsed = ParsedUrl::parse(url);
    let authority_start = scheme_end + 3;
    let rest = &url[authority_start..];
    let authority_len = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = &rest[..authority_len];
    if let Some(at) = authority.rfind('@') {
        let userinfo = &authority[..at];
        if let Some((user, password)) = split_userinfo(userinfo) {
            let start = authority_start + user.len() + 1;
            let decoded_user = decode(user);
            if is_literal(&decode(password), 1)
                && parsed
                    .as_ref()
                    .is_none_or(|p| p.password.as_deref().is_some_and(|pw| !pw.is_empty()))
            {
                out.push((
                    start..start + password.len(),
                    Place::Password { user: decoded_user },
                ));
            }
        }
    }
    let after_authority = authority_start + authority_len;
    let tail = &url[after_authority..];
    let Some(q) = tail.find('?') else {
        return out;
    };
    let query_start = after_authority + q + 1;
    let query_end = url[query_start..]
        .find('#')
        .map_or(url.len(), |i| query_start + i);
    let mut offset = query_start;
    for param in url[query_start..query_end].split('&') {
        if let Some((name, value)) = param.split_once('=')
            && is_credential_param(&decode(name))
            && is_literal(&decode(value), 6)
        {
            let start = offset + name.len() + 1;
            out.push((start..start + value.len(), Place::Query { name }));
        }
        offset += param.len() + 1;
    }
    out
}

/// `user:password` split at the first `:` outside a `${...}` reference.
fn split_userinfo(userinfo: &str) -> Option<(&str, &str)> {
    let mut depth = 0usize;
    let bytes = userinfo.as_bytes();
    for (i, &b) in bytes.iter().enumerate() {
        match b {
            b'{' => depth += 1,
            b'}' => depth = depth.saturating_sub(1),
            b':' if depth == 0 => return Some((&userinfo[..i], &userinfo[i + 1..])),
            _ => {}
        }
    }
    None
}

fn decode(s: &str) -> String {
    url::form_urlencoded::parse(s.as_bytes())
        .next()
        .map(|(k, _)| k.into_owned())
        .unwrap_or_default()
}

/// Query parameter names that carry credentials. Names are compared without case, `-`, `_`
/// and `.`, so `api_key`, `apiKey` and `X-API-Key` are one name.
fn is_credential_param(name: &str) -> bool {
    let norm: String = name
        .chars()
        .filter(|c| !matches!(c, '-' | '_' | '.'))
        .flat_map(char::to_lowercase)
        .collect();
    const EXACT: &[&str] = &[
        "key",
        "apikey",
        "xapikey",
        "appkey",
        "token",
        "auth",
        "authorization",
        "bearer",
        "jwt",
        "pat",
        "secret",
        "password",
        "passwd",
        "pwd",
        "pass",
        "sig",
        "signature",
        "xamzsignature",
        "subscriptionkey",
        "credential",
        "credentials",
    ];
    // Pagination and anti-forgery tokens are not credentials.
    const NOT_CREDENTIALS: &[&str] = &["page", "next", "continuation", "sync", "cursor", "resume"];
    if EXACT.contains(&norm.as_str()) {
        return true;
    }
    let credential_suffix = [
        "token",
        "apikey",
        "secret",
        "password",
        "accesskey",
        "secretkey",
    ]
    .iter()
    .any(|s| norm.ends_with(s));
    credential_suffix && !NOT_CREDENTIALS.iter().any(|p| norm.starts_with(p)) && norm != "csrftoken"
}

/// Whether a value is a literal worth reporting: long enough, not a reference to a variable,
/// not a placeholder copied from a README.
fn is_literal(value: &str, min_len: usize) -> bool {
    let v = value.trim();
    if v.chars().count() < min_len || secrets::is_interpolation(v) {
        return false;
    }
    let lower = v.to_ascii_lowercase();
    let generic = [
        "password",
        "pass",
        "secret",
        "token",
        "apikey",
        "api_key",
        "changeme",
        "placeholder",
        "redacted",
        "null",
        "undefined",
    ];
    if generic.contains(&lower.as_str()) {
        return false;
    }
    let placeholder_words = [
        "your", "replace", "insert", "example", "xxxx", "****", "...",
    ];
    if placeholder_words.iter().any(|w| lower.contains(w)) {
        return false;
    }
    // `aaaaaaaa`, `00000000`: filler, not a secret.
    let mut chars = v.chars();
    let first = chars.next();
    !chars.all(|c| Some(c) == first)
}

/// Maps a byte range of the decoded URL string back to the source text. The URL is usually
/// written verbatim between quotes; when escapes make it differ, the whole value is flagged.
fn source_span(text: &str, url: &Spanned<String>, range: Range<usize>) -> Span {
    let raw = text.get(url.span.range()).unwrap_or("");
    match raw.find(url.value.as_str()) {
        Some(at) if !url.value.is_empty() => {
            let base = url.span.start + at;
            Span::new(base + range.start, base + range.end)
        }
        _ => url.span,
    }
}

/// The source, with `span` masked in code frames. Load-time masking only covers what the
/// secret detectors found; a credential only this rule recognised must not be shown whole.
fn with_masked(source: &Arc<SourceFile>, span: Span) -> Arc<SourceFile> {
    if source.secret_spans.iter().any(|s| s.contains(span)) {
        return Arc::clone(source);
    }
    let mut copy = SourceFile::new(
        source.path.clone(),
        source.display.clone(),
        source.text.clone(),
    );
    copy.secret_spans = source.secret_spans.clone();
    copy.secret_spans.push(span);
    Arc::new(copy)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(url: &str) -> Vec<(&str, Place<'_>)> {
        url_credentials(url)
            .into_iter()
            .map(|(r, p)| (&url[r], p))
            .collect()
    }

    #[test]
    fn finds_userinfo_passwords() {
        assert_eq!(
            found("https://deploy:s3cr3t-Pa55@mcp.example.com/mcp"),
            vec![(
                "s3cr3t-Pa55",
                Place::Password {
                    user: "deploy".into()
                }
            )]
        );
        // Same user and password: the range must be the password's.
        let url = "https://admin:admin@10.0.0.5/sse";
        let got = url_credentials(url);
        assert_eq!(got[0].0, 14..19);
        // A username alone is not a credential; neither is an `@` in the path.
        assert!(found("https://bot@mcp.example.com/mcp").is_empty());
        assert!(found("https://mcp.example.com/users/a:b@c").is_empty());
        assert!(found("https://user:${env:MCP_PASSWORD}@mcp.example.com/").is_empty());
        assert!(found("https://user:password@mcp.example.com/").is_empty());
        assert!(found("https://${env:MCP_USER}:${env:MCP_PASSWORD}@mcp.example.com/").is_empty());
        assert_eq!(
            found("https://${env:MCP_USER}:hunter2-Real@mcp.example.com/")[0].0,
            "hunter2-Real"
        );
    }

    #[test]
    fn finds_credential_query_parameters() {
        let got = found("https://mcp.example.com/mcp?region=eu&api_key=9f8e7d6c5b4a3f2e1d0c&x=1");
        assert_eq!(
            got,
            vec![("9f8e7d6c5b4a3f2e1d0c", Place::Query { name: "api_key" })]
        );
        for url in [
            "https://h/mcp?apiKey=A1b2C3d4E5f6",
            "https://h/mcp?access_token=eyJhbGciOi.x.y",
            "https://h/mcp?token=tok_4f9a8b7c",
            "https://h/sse?key=AIzaSyD-abcdefghijkl",
            "https://acct.blob.core.windows.net/c?sv=2024-01-01&sig=Zx%2Bq9w8e7r6t5y",
            "wss://h/ws?X-API-Key=0123456789abcdef",
        ] {
            assert_eq!(found(url).len(), 1, "{url}");
        }
        for url in [
            "https://h/mcp?api_key=${env:SEARCH_KEY}",
            "https://h/mcp?token={env:TOKEN}",
            "https://h/mcp?api_key=YOUR_API_KEY",
            "https://h/mcp?api_key=<your-key>",
            "https://h/mcp?pageToken=CiAKGjBpNDd2Nmp2Zml2cXRwYjBpOXA0",
            "https://h/mcp?next_token=abcdef123456",
            "https://h/mcp?keyword=rust&monkey=banana12",
            "https://h/mcp?token=",
            "https://h/mcp?token=short",
            "https://h/mcp#access_token=fragment-is-not-sent",
            "not a url?token=abcdef123456",
            "",
            "://",
        ] {
            assert!(found(url).is_empty(), "{url}");
        }
    }

    #[test]
    fn recognises_credential_names() {
        for n in [
            "api_key",
            "apiKey",
            "X-Api-Key",
            "access_token",
            "auth_token",
            "client_secret",
            "key",
            "sig",
            "subscription-key",
            "private_token",
        ] {
            assert!(is_credential_param(n), "{n}");
        }
        for n in [
            "keyword",
            "keys_only",
            "pageToken",
            "nextPageToken",
            "continuation_token",
            "csrf_token",
            "region",
            "format",
        ] {
            assert!(!is_credential_param(n), "{n}");
        }
    }

    #[test]
    fn maps_ranges_into_the_source() {
        let text = r#"{"url": "https://u:pw1234@h/x"}"#;
        let start = text.find("\"https").unwrap();
        let url = Spanned::new(
            "https://u:pw1234@h/x".to_string(),
            Span::new(start, text.len() - 1),
        );
        let span = source_span(text, &url, 10..16);
        assert_eq!(&text[span.range()], "pw1234");
        // An escaped value falls back to the whole URL.
        let text = r#"{"url": "https:\/\/u:pw1234@h"}"#;
        let start = text.find("\"https").unwrap();
        let url = Spanned::new(
            "https://u:pw1234@h".to_string(),
            Span::new(start, text.len() - 1),
        );
        assert_eq!(source_span(text, &url, 10..16), url.span);
    }
}
