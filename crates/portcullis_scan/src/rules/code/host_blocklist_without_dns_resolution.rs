use crate::code::taint::Broken;
use crate::code::taint::HitKind;
use crate::declare_rule;

use super::{Flow, TaintRule};

declare_rule! {
    /// ## What it does
    /// Finds URLs or hosts checked against a blocklist of names or addresses (`localhost`, `127.0.0.1`,
    /// `169.254.169.254`) and then requested, without resolving the name first.
    ///
    /// ## Why is this bad?
    /// Any domain can resolve to `127.0.0.1` or the metadata address (`localtest.me`, DNS rebinding),
    /// and addresses have many spellings (`2130706433`, `0x7f.1`, `[::ffff:127.0.0.1]`): a name
    /// blocklist stops none of them.
    ///
    /// ## Example
    /// ```python
    /// from mcp.server.fastmcp import FastMCP
    ///
    /// mcp = FastMCP("demo")
    ///
    /// BLOCKED = {"localhost", "127.0.0.1", "169.254.169.254"}
    ///
    /// @mcp.tool()
    /// def fetch(url: str) -> str:
    ///     import requests
    ///     from urllib.parse import urlparse
    ///     if urlparse(url).hostname in BLOCKED:
    ///         raise ValueError("blocked")
    ///     return requests.get(url, timeout=10).text[:10_000]
    /// ```
    ///
    /// ## Use instead
    /// ```python
    /// from mcp.server.fastmcp import FastMCP
    ///
    /// mcp = FastMCP("demo")
    ///
    /// ALLOWED = {"docs.python.org"}
    ///
    /// @mcp.tool()
    /// def fetch(url: str) -> str:
    ///     import requests
    ///     from urllib.parse import urlparse
    ///     if urlparse(url).hostname not in ALLOWED:
    ///         raise ValueError("not allowed")
    ///     return requests.get(url, timeout=10, allow_redirects=False).text[:10_000]
    /// ```
    ///
    /// ## References
    /// - [CWE-918: SSRF](https://cwe.mitre.org/data/definitions/918.html)
    /// - [CWE-350: Reliance on Reverse DNS Resolution](https://cwe.mitre.org/data/definitions/350.html)
    /// - [OWASP SSRF Prevention Cheat Sheet](https://cheatsheetseries.owasp.org/cheatsheets/Server_Side_Request_Forgery_Prevention_Cheat_Sheet.html)
    pub static HOST_BLOCKLIST_WITHOUT_DNS_RESOLUTION = {
        code: "PC119",
        name: "host-blocklist-without-dns-resolution",
        summary: "A request target is checked against a host blocklist without resolving the name",
        severity: High,
        confidence: Medium,
        cwe: [918, 350],
        target: Code,
    }
}

fn describe(f: &Flow<'_>) -> (String, String) {
    (format!("{} is checked against a host blocklist without resolving the name before `{}`", f.subject(), f.what), f.by_language("Prefer an allowlist of hosts; otherwise resolve the name (`socket.getaddrinfo`), refuse private, loopback, link-local and metadata addresses, and connect to the address you checked.", "Prefer an allowlist of hosts; otherwise resolve the name (`dns.lookup` with `all: true`), refuse private, loopback, link-local and metadata addresses, and connect to the address you checked."))
}

pub(super) static RULE: TaintRule = TaintRule {
    meta: &HOST_BLOCKLIST_WITHOUT_DNS_RESOLUTION,
    kind: HitKind::Broken(Broken::BlocklistWithoutDns),
    describe,
};
