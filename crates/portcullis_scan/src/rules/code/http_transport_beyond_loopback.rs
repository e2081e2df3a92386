use crate::code::ir::Language;
use crate::code::structure::Structure;
use crate::code::transport::{HostSetting, Serving};
use crate::declare_rule;
use crate::diagnostic::Diagnostic;
use crate::registry::{RuleMeta, Severity};

declare_rule! {
    /// ## What it does
    /// Finds MCP servers served over HTTP that bind every network interface: a host of
    /// `0.0.0.0` or `::` given to the server constructor (`FastMCP(host=...)`), to `run`,
    /// `run_*_async` or `uvicorn.run`/`uvicorn.Config`, or set as `mcp.settings.host`, written
    /// out or as the default of an environment lookup (`os.getenv("HOST", "0.0.0.0")`).
    ///
    /// In TypeScript and JavaScript the host is what `listen` binds: `app.listen(port, host)`,
    /// `server.listen({ port, host })`, hono's `serve({ fetch, port, hostname })`, written out or
    /// as the default of an environment lookup (`process.env.HOST ?? "0.0.0.0"`). Given no host,
    /// Node's `listen` (express, `http.createServer`, koa) and hono's `serve` bind every
    /// interface (`::`, which takes IPv4 too), and are reported at the call; fastify's `listen`
    /// binds `localhost`. Only servers that serve MCP over HTTP (an SDK HTTP transport) count:
    /// the health page of a stdio server is not reported. `createMcpExpressApp({ host })` only
    /// chooses the Host validation; it binds nothing.
    ///
    /// Severity is medium, and low when the server checks authentication: then binding beyond
    /// loopback is how a deliberately remote server is deployed, and what matters is the
    /// authentication (see `http-transport-without-authentication`).
    ///
    /// ## Why is this bad?
    /// A server bound to `0.0.0.0` answers anyone on the same network: the café's Wi-Fi, the
    /// office LAN, every other container on the host. MCP servers hold tools that run commands,
    /// read files and use the user's tokens; the specification says servers running locally
    /// should bind only to `127.0.0.1`. Old releases of the Python SDK's FastMCP (before 1.9)
    /// bound `0.0.0.0` by default, and many examples still copy that (CWE-1327, binding to an
    /// unrestricted IP address).
    ///
    /// Inside a container, `0.0.0.0` is how a port gets published at all: there, publish it to
    /// the host's loopback only (`-p 127.0.0.1:8000:8000`) and suppress the finding with that
    /// reason.
    ///
    /// ## Example
    /// ```python
    /// from mcp.server.fastmcp import FastMCP
    ///
    /// mcp = FastMCP("notes", host="0.0.0.0", port=8000)
    ///
    /// @mcp.tool()
    /// def add_note(text: str) -> str:
    ///     return "saved"
    ///
    /// if __name__ == "__main__":
    ///     mcp.run(transport="streamable-http")
    /// ```
    ///
    /// ## Use instead
    /// ```python
    /// from mcp.server.fastmcp import FastMCP
    ///
    /// mcp = FastMCP("notes", host="127.0.0.1", port=8000)
    ///
    /// @mcp.tool()
    /// def add_note(text: str) -> str:
    ///     return "saved"
    ///
    /// if __name__ == "__main__":
    ///     mcp.run(transport="streamable-http")
    /// ```
    ///
    /// ## References
    /// - [CWE-1327: Binding to an Unrestricted IP Address](https://cwe.mitre.org/data/definitions/1327.html)
    /// - [MCP: Transports, security warning](https://modelcontextprotocol.io/specification/2025-06-18/basic/transports#security-warning)
    /// - [Uvicorn settings: host](https://www.uvicorn.org/settings/#socket-binding)
    /// - [Node.js: `server.listen()`](https://nodejs.org/api/net.html#serverlisten)
    pub static HTTP_TRANSPORT_BEYOND_LOOPBACK = {
        code: "PC123",
        name: "http-transport-beyond-loopback",
        summary: "An MCP server served over HTTP binds every network interface",
        severity: Medium,
        confidence: High,
        cwe: [1327],
        target: Code,
    }
}

fn diagnostic(
    s: &Structure<'_>,
    serving: &Serving<'_>,
    host: &HostSetting<'_>,
    authenticated: bool,
) -> Diagnostic {
    let server = serving.server_name();
    let value = host.value.as_deref().unwrap_or_default();
    let how = if let Some(call) = &host.implicit {
        format!("is served by `{call}` with no host, so Node binds every interface (`{value}`)")
    } else if host.from_env {
        format!("binds `{value}` unless the environment says otherwise")
    } else {
        format!("binds `{value}`")
    };
    let message = if authenticated {
        format!(
            "{server} {how}: every network this machine is on can reach it, with only its authentication in the way"
        )
    } else {
        format!("{server} {how}: anyone on any network this machine is on can call its tools")
    };
    let module = s.module(host.module);
    let help = if module.language == Language::Python {
        "Bind `127.0.0.1` for a local server; in a container, publish the port to the host's loopback only (`-p 127.0.0.1:8000:8000`)."
    } else {
        "Give `listen` a loopback host (`app.listen(port, \"127.0.0.1\")`, `server.listen({ port, host: \"127.0.0.1\" })`) for a local server; in a container, publish the port to the host's loopback only (`-p 127.0.0.1:3000:3000`)."
    };
    let d = Diagnostic::new(
        &HTTP_TRANSPORT_BEYOND_LOOPBACK,
        &module.file,
        host.expr.span,
        message,
    )
    .with_help(help);
    if authenticated {
        d.with_severity(Severity::Low)
    } else {
        d
    }
}

pub struct Rule;

impl super::ProjectRule for Rule {
    fn meta(&self) -> &'static RuleMeta {
        &HTTP_TRANSPORT_BEYOND_LOOPBACK
    }

    fn check(&self, s: &Structure<'_>, out: &mut Vec<Diagnostic>) {
        for component in s.server_components() {
            let serving = Serving::of(s, component);
            if serving.http.is_empty() {
                continue;
            }
            for host in serving.hosts.iter().filter(|h| h.is_wildcard()) {
                out.push(diagnostic(s, &serving, host, serving.auth.is_some()));
            }
        }
    }
}
