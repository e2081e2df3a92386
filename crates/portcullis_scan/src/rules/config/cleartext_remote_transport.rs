use crate::declare_rule;
use crate::diagnostic::Diagnostic;
use crate::model::{ConfigFile, ServerEntry};
use crate::net::{ParsedUrl, is_loopback_host};
use crate::registry::RuleMeta;
use crate::span::Spanned;

declare_rule! {
    /// ## What it does
    /// Finds remote MCP servers reached over plain `http://` or `ws://` at an address that is not
    /// this machine (anything but `localhost`, `127.0.0.0/8` and `::1`).
    ///
    /// ## Why is this bad?
    /// Everything the client and server exchange — tool calls with their arguments, file
    /// contents, results, and the bearer token or OAuth access token in the headers — crosses
    /// the network unencrypted. Anyone on the path (public Wi-Fi, a compromised router, a proxy)
    /// can read it, steal the token, or change a tool's result to inject instructions.
    ///
    /// ## Example
    /// ```json
    /// { "mcpServers": { "crm": { "url": "http://mcp.example.com/mcp" } } }
    /// ```
    ///
    /// ## Use instead
    /// ```json
    /// { "mcpServers": { "crm": { "url": "https://mcp.example.com/mcp" } } }
    /// ```
    ///
    /// ## References
    /// - [CWE-319: Cleartext Transmission of Sensitive Information](https://cwe.mitre.org/data/definitions/319.html)
    /// - [MCP Authorization: communication security](https://modelcontextprotocol.io/specification/2025-11-25/basic/authorization#communication-security)
    pub static CLEARTEXT_REMOTE_TRANSPORT = {
        code: "PC209",
        name: "cleartext-remote-transport",
        summary: "A remote MCP server is reached over unencrypted HTTP",
        severity: High,
        confidence: High,
        cwe: [319],
        target: Config,
    }
}

fn diagnostic(
    file: &ConfigFile,
    server: &ServerEntry,
    url: &Spanned<String>,
    parsed: &ParsedUrl,
) -> Diagnostic {
    let secure = if parsed.scheme == "ws" {
        "wss"
    } else {
        "https"
    };
    Diagnostic::new(
        &CLEARTEXT_REMOTE_TRANSPORT,
        &file.source,
        url.span,
        format!(
            "server `{}` is reached over unencrypted `{}://` at `{}`",
            server.name.value, parsed.scheme, parsed.host
        ),
    )
    .with_help(format!(
        "Use `{secure}://`; if the server cannot serve TLS, put it behind a TLS-terminating proxy."
    ))
    .with_server(&server.name.value)
}

pub struct Rule;

impl super::ConfigRule for Rule {
    fn meta(&self) -> &'static RuleMeta {
        &CLEARTEXT_REMOTE_TRANSPORT
    }

    fn check_file(&self, file: &ConfigFile, out: &mut Vec<Diagnostic>) {
        for server in file.servers.iter().filter(|s| s.enabled) {
            let Some(url) = &server.url else { continue };
            let Some(parsed) = ParsedUrl::parse(&url.value) else {
                continue;
            };
            if matches!(parsed.scheme.as_str(), "http" | "ws") && !is_loopback_host(&parsed.host) {
                out.push(diagnostic(file, server, url, &parsed));
            }
        }
    }
}
