//! Rule metadata, declared once per rule with [`declare_rule!`], and the severity scale.
//!
//! The SARIF rule list, `portcullis rules`, `portcullis explain` and the generated docs all read
//! these statics, so a rule's code, name and documentation cannot drift apart.

use std::fmt;
use std::str::FromStr;

use serde::Serialize;

/// How much harm a finding can do if it is real.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    pub const ALL: [Severity; 5] = [
        Severity::Critical,
        Severity::High,
        Severity::Medium,
        Severity::Low,
        Severity::Info,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }

    /// The CVSS-like score GitHub code scanning reads from `security-severity`.
    pub fn security_score(self) -> &'static str {
        match self {
            Severity::Info => "0.5",
            Severity::Low => "3.0",
            Severity::Medium => "5.5",
            Severity::High => "8.0",
            Severity::Critical => "9.5",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Severity {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Severity::ALL
            .into_iter()
            .find(|sev| sev.as_str().eq_ignore_ascii_case(s))
            .ok_or_else(|| {
                format!("unknown severity `{s}`: expected critical, high, medium, low or info")
            })
    }
}

/// How sure the rule is that a finding is real.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Confidence {
    Low,
    Medium,
    High,
}

impl Confidence {
    pub fn as_str(self) -> &'static str {
        match self {
            Confidence::Low => "low",
            Confidence::Medium => "medium",
            Confidence::High => "high",
        }
    }
}

/// What a rule looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Target {
    /// MCP client configuration files.
    Config,
    /// MCP server source code.
    Code,
    /// Tool, prompt and resource metadata.
    Tools,
    /// Manifests, lockfiles and container files.
    Supply,
    /// The scanner reporting on its own work (parse errors, unused suppressions).
    Scanner,
}

impl Target {
    pub fn as_str(self) -> &'static str {
        match self {
            Target::Config => "config",
            Target::Code => "code",
            Target::Tools => "tools",
            Target::Supply => "supply",
            Target::Scanner => "scanner",
        }
    }
}

/// Whether a rule is ready for everyone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Stable,
    Preview,
}

/// Everything about a rule that is not its detection logic.
#[derive(Debug, Serialize)]
pub struct RuleMeta {
    /// `PCnnn`, never reused.
    pub code: &'static str,
    /// Kebab-case name of the hazard; the grep key everywhere.
    pub name: &'static str,
    /// One line saying what the rule finds.
    pub summary: &'static str,
    pub severity: Severity,
    pub confidence: Confidence,
    pub cwe: &'static [u32],
    pub target: Target,
    pub status: Status,
    pub since: &'static str,
    /// The rule's doc comment as the compiler sees it (one leading space per line).
    pub doc_raw: &'static str,
}

impl RuleMeta {
    /// Whether `key` names this rule: its code, its name, or a code prefix such as `PC2`.
    pub fn matches(&self, key: &str) -> bool {
        let key = key.trim();
        self.name == key || self.code.eq_ignore_ascii_case(key) || {
            key.len() >= 2
                && key.len() < self.code.len()
                && self.code[..key.len()].eq_ignore_ascii_case(key)
        }
    }

    /// The rule's documentation in Markdown.
    pub fn doc(&self) -> String {
        self.doc_raw
            .lines()
            .map(|l| l.strip_prefix(' ').unwrap_or(l))
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// One section of the documentation, without its heading, if present.
    pub fn doc_section(&self, heading: &str) -> Option<String> {
        let doc = self.doc();
        let marker = format!("## {heading}\n");
        let start = doc.find(&marker)? + marker.len();
        let rest = &doc[start..];
        let end = rest.find("\n## ").unwrap_or(rest.len());
        Some(rest[..end].trim().to_string())
    }
}

/// Declares a rule's metadata as a `pub static RuleMeta`. The doc comment becomes `doc`.
///
/// ```ignore
/// declare_rule! {
///     /// ## What it does
///     /// ...
///     pub static PLAINTEXT_SECRET = {
///         code: "PC201", name: "plaintext-secret-in-config", summary: "...",
///         severity: High, confidence: High, cwe: [798], target: Config,
///     }
/// }
/// ```
#[macro_export]
macro_rules! declare_rule {
    (
        $(#[doc = $doc:literal])*
        $vis:vis static $ident:ident = {
            code: $code:literal,
            name: $name:literal,
            summary: $summary:literal,
            severity: $severity:ident,
            confidence: $confidence:ident,
            cwe: [$($cwe:literal),* $(,)?],
            target: $target:ident
            $(, status: $status:ident)?
            $(, since: $since:literal)?
            $(,)?
        }
    ) => {
        $vis static $ident: $crate::registry::RuleMeta = $crate::registry::RuleMeta {
            code: $code,
            name: $name,
            summary: $summary,
            severity: $crate::registry::Severity::$severity,
            confidence: $crate::registry::Confidence::$confidence,
            cwe: &[$($cwe),*],
            target: $crate::registry::Target::$target,
            status: $crate::declare_rule!(@status $($status)?),
            since: $crate::declare_rule!(@since $($since)?),
            doc_raw: concat!($($doc, "\n"),*),
        };
    };
    (@status) => { $crate::registry::Status::Stable };
    (@status $s:ident) => { $crate::registry::Status::$s };
    (@since) => { "0.1.0" };
    (@since $s:literal) => { $s };
}

/// Every rule portcullis knows, in code order.
pub fn all_rules() -> Vec<&'static RuleMeta> {
    let mut rules: Vec<&'static RuleMeta> = crate::rules::config::RULES
        .iter()
        .map(|r| r.meta())
        .chain(crate::rules::code::RULES.iter().map(|r| r.meta))
        .chain(crate::rules::code::PROJECT_RULES.iter().map(|r| r.meta()))
        .chain(crate::rules::supply::RULES.iter().map(|r| r.meta()))
        .chain(crate::rules::tools::RULES.iter().map(|r| r.meta()))
        .chain(crate::rules::scanner::RULES.iter().copied())
        .collect();
    rules.sort_by_key(|r| r.code);
    rules
}

/// Finds a rule by code or name.
pub fn find_rule(key: &str) -> Option<&'static RuleMeta> {
    all_rules()
        .into_iter()
        .find(|r| r.name == key || r.code.eq_ignore_ascii_case(key))
}
