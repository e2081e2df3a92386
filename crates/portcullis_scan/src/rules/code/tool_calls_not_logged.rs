use crate::code::ir::{ExprKind, Module};
use crate::code::structure::{Effect, ServerCtor, Structure, call_parts, for_each_expr};
use crate::declare_rule;
use crate::diagnostic::Diagnostic;
use crate::registry::RuleMeta;

declare_rule! {
    /// ## What it does
    /// Finds MCP servers whose tools do something worth a record (run commands, write or delete
    /// files, make network requests, in the handler or a function it calls) and that log nothing:
    /// no `logging`, `structlog`, `loguru` or `logfire` in any of the server's modules, no FastMCP
    /// logging middleware, and no handler that writes to a logger, to the client's log
    /// (`ctx.info`, `ctx.debug`, `ctx.warning`, `ctx.error`, `ctx.log`) or to standard error.
    /// In TypeScript and JavaScript: no `winston`, `pino`, `bunyan`, `log4js` or `loglevel`,
    /// and no handler calling `console.error`/`console.warn` or `sendLoggingMessage`.
    /// One finding per server, on its constructor. A server of pure functions (a calculator, a
    /// formatter) is not reported: there is nothing to audit.
    ///
    /// ## Why is this bad?
    /// When a tool is misused (a prompt injection deleting files, an agent looping on a paid
    /// API), the record of which tool was called, with what, and what it did is how anyone finds
    /// out and repairs the damage (CWE-778, insufficient logging). The SDKs log that a request
    /// arrived, not which tool ran with which arguments. This is a hygiene finding: informational
    /// severity, low confidence, since a gateway or the client may keep that record instead.
    ///
    /// ## Example
    /// ```python
    /// import shutil
    /// from mcp.server.fastmcp import FastMCP
    ///
    /// mcp = FastMCP("files")
    ///
    /// @mcp.tool()
    /// def archive(folder: str) -> str:
    ///     return shutil.make_archive("/tmp/archive", "zip", folder)
    /// ```
    ///
    /// ## Use instead
    /// ```python
    /// import logging
    /// import shutil
    /// from mcp.server.fastmcp import FastMCP
    ///
    /// logger = logging.getLogger("files-mcp")
    /// mcp = FastMCP("files")
    ///
    /// @mcp.tool()
    /// def archive(folder: str) -> str:
    ///     logger.info("archive folder=%r", folder)
    ///     return shutil.make_archive("/tmp/archive", "zip", folder)
    /// ```
    /// Log each tool call with its arguments (secrets redacted) and outcome to standard error or
    /// a file (never standard output, which is the stdio transport), or send it to the client
    /// with `ctx.info(...)`.
    ///
    /// ## References
    /// - [CWE-778: Insufficient Logging](https://cwe.mitre.org/data/definitions/778.html)
    /// - [OWASP Logging Cheat Sheet](https://cheatsheetseries.owasp.org/cheatsheets/Logging_Cheat_Sheet.html)
    /// - [MCP: Logging utility](https://modelcontextprotocol.io/specification/2025-06-18/server/utilities/logging)
    pub static TOOL_CALLS_NOT_LOGGED = {
        code: "PC126",
        name: "tool-calls-not-logged",
        summary: "An MCP server whose tools have effects logs nothing about their calls",
        severity: Info,
        confidence: Low,
        cwe: [778],
        target: Code,
    }
}

fn diagnostic(module: &Module, server: &ServerCtor<'_>, tool: &str, effect: Effect) -> Diagnostic {
    let name = server
        .receiver_dotted()
        .map_or_else(|| "the server".to_string(), |r| format!("`{r}`"));
    Diagnostic::new(
        &TOOL_CALLS_NOT_LOGGED,
        &module.file,
        server.call.span,
        format!(
            "{name} logs nothing about the tool calls it serves, though tools such as `{tool}` {}: misuse would leave no record",
            effect.verb()
        ),
    )
    .with_help("Log each tool call (name, arguments with secrets redacted, outcome) with `logging` to standard error or a file, or to the client with `ctx.info(...)`.")
}

/// Logging libraries: importing one is taken as logging.
const LOG_PACKAGES: &[&str] = &[
    "logging",
    "structlog",
    "loguru",
    "logbook",
    "logfire",
    "eliot",
    "twiggy",
    // Node
    "winston",
    "pino",
    "bunyan",
    "log4js",
    "loglevel",
];

/// Context methods that send a log message to the client.
const CONTEXT_LOG: &[&str] = &["debug", "info", "warning", "error", "log", "critical"];

pub struct Rule;

impl super::ProjectRule for Rule {
    fn meta(&self) -> &'static RuleMeta {
        &TOOL_CALLS_NOT_LOGGED
    }

    fn check(&self, s: &Structure<'_>, out: &mut Vec<Diagnostic>) {
        for component in s.server_components() {
            let Some(server) = s.component_servers(component).into_iter().next() else {
                continue;
            };
            if component.iter().any(|&m| logs(s.module(m))) {
                continue;
            }
            // The first handler with a consequence, to name in the message.
            let consequential = component.iter().find_map(|&m| {
                s.module(m)
                    .handlers
                    .iter()
                    .enumerate()
                    .find_map(|(h, handler)| {
                        s.effect_reached((m, handler.function))
                            .map(|e| (s.handler_name((m, h)), e))
                    })
            });
            let Some((tool, effect)) = consequential else {
                continue;
            };
            out.push(diagnostic(s.module(server.module), &server, &tool, effect));
        }
    }
}

/// Whether a module imports a logging library, or one of its handlers logs somewhere.
fn logs(module: &Module) -> bool {
    if module.imports.iter().any(|i| {
        let root = i.path.split('.').next().unwrap_or("");
        LOG_PACKAGES.contains(&root) || i.path.contains(".logging")
    }) {
        return true;
    }
    module.handlers.iter().any(|h| {
        let mut found = false;
        for_each_expr(module, h.function, &mut |e| {
            let Some((callee, args)) = call_parts(e) else {
                return;
            };
            match &callee.kind {
                // `console.error(...)`: standard error, which the client keeps (standard output
                // is the protocol on stdio). `server.sendLoggingMessage(...)`: to the client.
                ExprKind::Attr { object, name, .. }
                    if (object.dotted().as_deref() == Some("console")
                        && matches!(name.as_str(), "error" | "warn"))
                        || name == "sendLoggingMessage" =>
                {
                    found = true;
                }
                // `ctx.info(...)`, `logger.warning(...)`, `self.log.debug(...)`.
                ExprKind::Attr { object, name, .. } if CONTEXT_LOG.contains(&name.as_str()) => {
                    let receiver = object.dotted().unwrap_or_default().to_ascii_lowercase();
                    let last = receiver.rsplit('.').next().unwrap_or("");
                    if matches!(last, "ctx" | "context") || last.contains("log") {
                        found = true;
                    }
                }
                // `print(..., file=sys.stderr)`: the client keeps the server's standard error.
                ExprKind::Name(n)
                    if n == "print"
                        && args.iter().any(|a| {
                            a.name.as_deref() == Some("file")
                                && a.value.dotted().as_deref() == Some("sys.stderr")
                        }) =>
                {
                    found = true;
                }
                _ => {}
            }
        });
        found
    })
}
