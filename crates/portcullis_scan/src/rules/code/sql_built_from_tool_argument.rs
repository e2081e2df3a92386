use crate::code::catalog::SinkKind;
use crate::code::taint::HitKind;
use crate::declare_rule;

use super::{Flow, TaintRule};

declare_rule! {
    /// ## What it does
    /// Finds tool arguments pasted into SQL text (f-strings, `%`, `.format`, `+`, `join`) passed to
    /// `execute`, `executemany`, `executescript`, SQLAlchemy `text`, `pandas.read_sql`. A whole query
    /// passed as is (a query tool by design) is not reported here.
    ///
    /// ## Why is this bad?
    /// Pasting a value into SQL lets it close the string and add its own clauses: `x' OR 1=1 --`, `;
    /// DROP TABLE users`. Read-only intentions do not survive `UNION SELECT` on other tables.
    ///
    /// ## Example
    /// ```python
    /// from mcp.server.fastmcp import FastMCP
    ///
    /// mcp = FastMCP("demo")
    ///
    /// @mcp.tool()
    /// def find_user(name: str) -> list:
    ///     import sqlite3
    ///     db = sqlite3.connect("app.db")
    ///     return db.execute(f"SELECT * FROM users WHERE name = '{name}'").fetchall()
    /// ```
    ///
    /// ## Use instead
    /// ```python
    /// from mcp.server.fastmcp import FastMCP
    ///
    /// mcp = FastMCP("demo")
    ///
    /// @mcp.tool()
    /// def find_user(name: str) -> list:
    ///     import sqlite3
    ///     db = sqlite3.connect("app.db")
    ///     return db.execute("SELECT * FROM users WHERE name = ?", (name,)).fetchall()
    /// ```
    ///
    /// ## References
    /// - [CWE-89: SQL Injection](https://cwe.mitre.org/data/definitions/89.html)
    /// - [sqlite3: placeholders](https://docs.python.org/3/library/sqlite3.html#sqlite3-placeholders)
    pub static SQL_BUILT_FROM_TOOL_ARGUMENT = {
        code: "PC109",
        name: "sql-built-from-tool-argument",
        summary: "SQL text is built from a tool argument",
        severity: High,
        confidence: High,
        cwe: [89],
        target: Code,
    }
}

fn describe(f: &Flow<'_>) -> (String, String) {
    (format!("{} is pasted into SQL run by `{}`", f.subject(), f.what), "Pass values as query parameters (`execute(\"... WHERE name = ?\", (name,))`); for identifiers, check them against an allowlist.".to_string())
}

pub(super) static RULE: TaintRule = TaintRule {
    meta: &SQL_BUILT_FROM_TOOL_ARGUMENT,
    kind: HitKind::Sink(SinkKind::Sql),
    describe,
};
