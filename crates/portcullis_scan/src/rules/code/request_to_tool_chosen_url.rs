use crate::code::catalog::SinkKind;
use crate::code::taint::HitKind;
use crate::declare_rule;

use super::{Flow, TaintRule};

declare_rule! {
    /// ## What it does
    /// Finds tool arguments that choose the URL or host of an outbound request (`requests`, `httpx`,
    /// `aiohttp`, `urllib`, `http.client`, sockets), when the scheme and host are not fixed by the
    /// server and no host allowlist is checked after parsing.
    ///
    /// ## Why is this bad?
    /// The server runs inside the user's network. A model-chosen URL reaches `http://169.254.169.254/`
    /// (cloud credentials), `http://localhost:8080/admin`, intranet services, or `file://`. Fetch tools
    /// are prime prompt-injection targets.
    ///
    /// ## Example
    /// ```python
    /// from mcp.server.fastmcp import FastMCP
    ///
    /// mcp = FastMCP("demo")
    ///
    /// @mcp.tool()
    /// def fetch(url: str) -> str:
    ///     import requests
    ///     return requests.get(url, timeout=10).text[:10_000]
    /// ```
    ///
    /// ## Use instead
    /// ```python
    /// from mcp.server.fastmcp import FastMCP
    ///
    /// mcp = FastMCP("demo")
    ///
    /// ALLOWED = {"docs.python.org", "peps.python.org"}
    ///
    /// @mcp.tool()
    /// def fetch(url: str) -> str:
    ///     import requests
    ///     from urllib.parse import urlparse
    ///     if urlparse(url).hostname not in ALLOWED:
    ///         raise ValueError("host not allowed")
    ///     return requests.get(url, timeout=10).text[:10_000]
    /// ```
    ///
    /// ## References
    /// - [CWE-918: Server-Side Request Forgery](https://cwe.mitre.org/data/definitions/918.html)
    /// - [OWASP SSRF Prevention Cheat Sheet](https://cheatsheetseries.owasp.org/cheatsheets/Server_Side_Request_Forgery_Prevention_Cheat_Sheet.html)
    pub static REQUEST_TO_TOOL_CHOSEN_URL = {
        code: "PC108",
        name: "request-to-tool-chosen-url",
        summary: "A tool argument chooses where the server sends a request",
        severity: High,
        confidence: Medium,
        cwe: [918],
        target: Code,
    }
}

fn describe(f: &Flow<'_>) -> (String, String) {
    (format!("{} chooses where `{}` sends its request", f.subject(), f.what), "Fix the scheme and host in the server, or parse the URL and require its host to be in an allowlist; if any host is allowed, resolve it and refuse private, loopback, link-local and metadata addresses, and do not follow redirects blindly.".to_string())
}

pub(super) static RULE: TaintRule = TaintRule {
    meta: &REQUEST_TO_TOOL_CHOSEN_URL,
    kind: HitKind::Sink(SinkKind::Ssrf),
    describe,
};
