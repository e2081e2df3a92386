use crate::clients::Client;
use crate::declare_rule;
use crate::diagnostic::Diagnostic;
use crate::model::{ConfigFile, SecretFact, ServerEntry};
use crate::registry::RuleMeta;
use crate::secrets;

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

fn diagnostic(
    file: &ConfigFile,
    server: &ServerEntry,
    fact: &SecretFact,
    secret: &str,
) -> Diagnostic {
    let masked = secrets::mask(secret);
    let what = match query_name(&file.source.text, fact) {
        Some(name) => format!("a literal secret `{masked}` in the `{name}` parameter"),
        None if fact.kind == "password in URL" => format!("a password `{masked}`"),
        None => format!("a literal {} `{masked}`", fact.kind),
    };
    Diagnostic::new(
        &CREDENTIALS_IN_SERVER_URL,
        &file.source,
        fact.span,
        format!("the URL of server `{}` carries {what}", server.name.value),
    )
    .with_help(format!(
        "Move the credential out of the URL, which servers, proxies and the client write to their logs: {} Then rotate it.",
        header_hint(file.client)
    ))
    .with_server(&server.name.value)
}

/// The query parameter a secret is the value of (`...?api_key=SECRET`), read back from the text.
fn query_name<'a>(text: &'a str, fact: &SecretFact) -> Option<&'a str> {
    let before = text
        .get(fact.value_span.start..fact.span.start)?
        .strip_suffix('=')?;
    let start = before.rfind(['?', '&'])? + 1;
    Some(&before[start..]).filter(|n| !n.is_empty())
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
        // The secret detectors read every URL once at load time (user-info passwords, query
        // parameters named like credentials, provider tokens); the facts in a server's own
        // `url` are this rule's, and the renderers already mask them.
        for server in &file.servers {
            let Some(url) = &server.url else { continue };
            for fact in file
                .secrets
                .iter()
                .filter(|f| f.in_server_url && url.span.contains(f.span))
            {
                let secret = file.source.text.get(fact.span.range()).unwrap_or("");
                out.push(diagnostic(file, server, fact, secret).with_confidence(fact.confidence));
            }
        }
    }
}
