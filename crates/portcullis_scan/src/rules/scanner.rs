//! The scanner reporting on its own work (`PC9xx`): files it could not read or parse, and
//! suppressions that no longer suppress anything.

use crate::declare_rule;
use crate::registry::RuleMeta;

declare_rule! {
    /// ## What it does
    /// Reports a configuration file that could not be parsed, with the line and column where the
    /// parser stopped.
    ///
    /// ## Why is this bad?
    /// A client that cannot parse its configuration may ignore it, load part of it, or refuse to
    /// start; and portcullis cannot audit what it cannot read, so the servers in the file go
    /// unchecked.
    ///
    /// ## Example
    /// ```json
    /// { "mcpServers": { "fs": { "command": "npx", }
    /// ```
    ///
    /// ## Use instead
    /// ```json
    /// { "mcpServers": { "fs": { "command": "npx" } } }
    /// ```
    ///
    /// ## References
    /// - [JSON with comments (JSONC)](https://code.visualstudio.com/docs/languages/json#_json-with-comments)
    pub static UNPARSEABLE_FILE = {
        code: "PC901",
        name: "unparseable-file",
        summary: "A configuration file could not be parsed",
        severity: Medium,
        confidence: High,
        cwe: [],
        target: Scanner,
    }
}

declare_rule! {
    /// ## What it does
    /// Reports a `portcullis-ignore:` comment that suppressed nothing in this scan.
    ///
    /// ## Why is this bad?
    /// A stale suppression hides nothing today but will silently hide the next real finding on
    /// that line. Suppressions should be removed once the problem they excused is fixed.
    ///
    /// ## Example
    /// ```jsonc
    /// // portcullis-ignore: plaintext-secret-in-config -- test token
    /// "API_KEY": "${env:API_KEY}"
    /// ```
    ///
    /// ## Use instead
    /// ```jsonc
    /// "API_KEY": "${env:API_KEY}"
    /// ```
    ///
    /// ## References
    /// - [Ruff: unused-noqa (RUF100)](https://docs.astral.sh/ruff/rules/unused-noqa/)
    pub static UNUSED_SUPPRESSION = {
        code: "PC902",
        name: "unused-suppression",
        summary: "A suppression comment suppresses nothing",
        severity: Low,
        confidence: High,
        cwe: [],
        target: Scanner,
    }
}

declare_rule! {
    /// ## What it does
    /// Reports a file that was named or found but could not be read: not UTF-8, too large, a
    /// broken link, a link loop, or no permission.
    ///
    /// ## Why is this bad?
    /// What cannot be read cannot be audited. The scan goes on with the other files.
    ///
    /// ## Example
    /// ```text
    /// ~/.cursor/mcp.json: permission denied
    /// ```
    ///
    /// ## Use instead
    /// ```text
    /// Make the file readable by the user running portcullis, or exclude it in portcullis.toml.
    /// ```
    ///
    /// ## References
    /// - [Portcullis settings](../settings.md)
    pub static UNREADABLE_FILE = {
        code: "PC903",
        name: "unreadable-file",
        summary: "A file could not be read",
        severity: Low,
        confidence: High,
        cwe: [],
        target: Scanner,
    }
}

/// The scanner's own rules.
pub static RULES: &[&RuleMeta] = &[&UNPARSEABLE_FILE, &UNUSED_SUPPRESSION, &UNREADABLE_FILE];
