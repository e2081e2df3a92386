use crate::code::catalog::SinkKind;
use crate::code::taint::HitKind;
use crate::declare_rule;

use super::{Flow, TaintRule};

declare_rule! {
    /// ## What it does
    /// Finds tool arguments (or files they name) reaching `pickle`, `marshal`, `dill`, `jsonpickle`,
    /// `shelve`, `pandas.read_pickle`, and `yaml.load` without a safe loader.
    ///
    /// ## Why is this bad?
    /// These loaders construct arbitrary objects and call their methods while loading: a crafted
    /// payload runs code as soon as it is read.
    ///
    /// ## Example
    /// ```python
    /// from mcp.server.fastmcp import FastMCP
    ///
    /// mcp = FastMCP("demo")
    ///
    /// @mcp.tool()
    /// def load_config(text: str) -> dict:
    ///     import yaml
    ///     return yaml.load(text, Loader=yaml.Loader)
    /// ```
    ///
    /// ## Use instead
    /// ```python
    /// from mcp.server.fastmcp import FastMCP
    ///
    /// mcp = FastMCP("demo")
    ///
    /// @mcp.tool()
    /// def load_config(text: str) -> dict:
    ///     import yaml
    ///     return yaml.safe_load(text)
    /// ```
    ///
    /// ## References
    /// - [CWE-502: Deserialization of Untrusted Data](https://cwe.mitre.org/data/definitions/502.html)
    /// - [pickle: security warning](https://docs.python.org/3/library/pickle.html)
    pub static UNSAFE_DESERIALIZATION_OF_TOOL_ARGUMENT = {
        code: "PC104",
        name: "unsafe-deserialization-of-tool-argument",
        summary: "A tool argument is deserialised with a loader that can build any object",
        severity: High,
        confidence: High,
        cwe: [502],
        target: Code,
    }
}

fn describe(f: &Flow<'_>) -> (String, String) {
    (format!("{} is deserialised by `{}`, which can build any object", f.subject(), f.what), f.by_language("Use a data-only format (`json`, `yaml.safe_load`, `tomllib`); never unpickle what a tool received.", "Use a data-only format (`JSON.parse`, `yaml.load` with the JSON or core schema); never revive functions from what a tool received."))
}

pub(super) static RULE: TaintRule = TaintRule {
    meta: &UNSAFE_DESERIALIZATION_OF_TOOL_ARGUMENT,
    kind: HitKind::Sink(SinkKind::Deserialize),
    describe,
};
