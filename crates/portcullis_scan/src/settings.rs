//! Portcullis's own settings (`portcullis.toml`): which rules run, at what severity, what is
//! allowed and why. Parsed strictly into raw settings, then resolved into settings with no
//! options left, so every mistake is reported with its place in the file.

use std::collections::BTreeMap;
use std::path::Path;

use globset::{Glob, GlobSet, GlobSetBuilder};
use serde::Deserialize;

use crate::registry::{RuleMeta, Severity, all_rules};

/// The settings file name looked for in the working folder and its parents.
pub const FILE_NAME: &str = "portcullis.toml";

#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("{path}: {message}")]
    Invalid { path: String, message: String },
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawSettings {
    #[serde(default)]
    scan: RawScan,
    #[serde(default)]
    rules: RawRules,
    #[serde(default)]
    allow: Vec<RawAllow>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawScan {
    fail_on: Option<String>,
    #[serde(default)]
    exclude: Vec<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawRules {
    select: Option<Vec<String>>,
    #[serde(default)]
    ignore: Vec<String>,
    #[serde(default)]
    severity: BTreeMap<String, String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawAllow {
    rule: String,
    path: Option<String>,
    server: Option<String>,
    reason: String,
}

/// An accepted finding: this rule, in these files, for this server, for this reason.
#[derive(Debug, Clone)]
pub struct Allow {
    pub rule: &'static RuleMeta,
    pub paths: Option<GlobSet>,
    pub server: Option<String>,
    pub reason: String,
}

/// Resolved settings.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Codes of the rules that run.
    pub enabled: Vec<&'static str>,
    pub severity_overrides: BTreeMap<&'static str, Severity>,
    pub allows: Vec<Allow>,
    pub fail_on: Severity,
    pub exclude: Option<GlobSet>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            enabled: all_rules().iter().map(|r| r.code).collect(),
            severity_overrides: BTreeMap::new(),
            allows: Vec::new(),
            fail_on: Severity::Low,
            exclude: None,
        }
    }
}

impl Settings {
    pub fn is_enabled(&self, rule: &RuleMeta) -> bool {
        self.enabled.contains(&rule.code)
    }

    /// Keeps only the rules matched by `keys` (codes, names, code prefixes).
    pub fn select_only(&mut self, keys: &[String]) -> Result<(), String> {
        self.enabled = resolve_rule_keys(keys)?.iter().map(|r| r.code).collect();
        Ok(())
    }

    /// Turns off the rules matched by `keys`.
    pub fn ignore(&mut self, keys: &[String]) -> Result<(), String> {
        let off: Vec<_> = resolve_rule_keys(keys)?.iter().map(|r| r.code).collect();
        self.enabled.retain(|c| !off.contains(c));
        Ok(())
    }

    /// Reads `portcullis.toml` from `path`.
    pub fn from_file(path: &Path) -> Result<Settings, SettingsError> {
        let shown = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| SettingsError::Read {
            path: shown.clone(),
            source,
        })?;
        Settings::from_toml(&text).map_err(|message| SettingsError::Invalid {
            path: shown,
            message,
        })
    }

    /// Parses and resolves settings text.
    pub fn from_toml(text: &str) -> Result<Settings, String> {
        let raw: RawSettings = toml::from_str(text).map_err(|e| e.to_string())?;
        let mut settings = Settings::default();
        if let Some(select) = &raw.rules.select {
            settings.select_only(select)?;
        }
        settings.ignore(&raw.rules.ignore)?;
        for (key, sev) in &raw.rules.severity {
            let rule = find_one(key)?;
            let sev: Severity = sev
                .parse()
                .map_err(|e| format!("[rules.severity] {key}: {e}"))?;
            settings.severity_overrides.insert(rule.code, sev);
        }
        if let Some(fail_on) = &raw.scan.fail_on {
            settings.fail_on = fail_on
                .parse()
                .map_err(|e| format!("[scan] fail-on: {e}"))?;
        }
        if !raw.scan.exclude.is_empty() {
            settings.exclude =
                Some(glob_set(&raw.scan.exclude).map_err(|e| format!("[scan] exclude: {e}"))?);
        }
        for (i, allow) in raw.allow.iter().enumerate() {
            let rule = find_one(&allow.rule).map_err(|e| format!("[[allow]] #{}: {e}", i + 1))?;
            if allow.reason.trim().is_empty() {
                return Err(format!(
                    "[[allow]] #{}: `reason` must say why the finding is accepted",
                    i + 1
                ));
            }
            let paths = match &allow.path {
                Some(p) => Some(
                    glob_set(std::slice::from_ref(p))
                        .map_err(|e| format!("[[allow]] #{}: {e}", i + 1))?,
                ),
                None => None,
            };
            settings.allows.push(Allow {
                rule,
                paths,
                server: allow.server.clone(),
                reason: allow.reason.clone(),
            });
        }
        Ok(settings)
    }

    /// Finds `portcullis.toml` in `start` or its parents.
    pub fn discover(start: &Path) -> Option<std::path::PathBuf> {
        start
            .ancestors()
            .map(|d| d.join(FILE_NAME))
            .find(|p| p.is_file())
    }
}

fn find_one(key: &str) -> Result<&'static RuleMeta, String> {
    all_rules()
        .into_iter()
        .find(|r| r.name == key || r.code.eq_ignore_ascii_case(key))
        .ok_or_else(|| format!("unknown rule `{key}` (see `portcullis rules`)"))
}

/// Resolves codes, names and code prefixes into rules; an unknown key is an error.
pub fn resolve_rule_keys(keys: &[String]) -> Result<Vec<&'static RuleMeta>, String> {
    let rules = all_rules();
    let mut out = Vec::new();
    for key in keys {
        let matched: Vec<_> = rules.iter().copied().filter(|r| r.matches(key)).collect();
        if matched.is_empty() {
            return Err(format!("unknown rule `{key}` (see `portcullis rules`)"));
        }
        out.extend(matched);
    }
    out.sort_by_key(|r| r.code);
    out.dedup_by_key(|r| r.code);
    Ok(out)
}

fn glob_set(patterns: &[String]) -> Result<GlobSet, String> {
    let mut builder = GlobSetBuilder::new();
    for p in patterns {
        builder.add(Glob::new(p).map_err(|e| e.to_string())?);
        // `dir` also means everything under it.
        if !p.contains('*') {
            builder.add(
                Glob::new(&format!("{}/**", p.trim_end_matches('/'))).map_err(|e| e.to_string())?,
            );
        }
    }
    builder.build().map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolves_and_validates() {
        let s = Settings::from_toml(
            "[scan]\nfail-on = \"high\"\n[rules]\nignore = [\"PC902\"]\n[rules.severity]\nplaintext-secret-in-config = \"critical\"\n[[allow]]\nrule = \"PC201\"\npath = \"examples\"\nreason = \"demo\"\n",
        )
        .unwrap();
        assert_eq!(s.fail_on, Severity::High);
        assert!(!s.enabled.contains(&"PC902"));
        assert_eq!(s.severity_overrides.get("PC201"), Some(&Severity::Critical));
        assert!(
            s.allows[0]
                .paths
                .as_ref()
                .unwrap()
                .is_match("examples/a/.mcp.json")
        );
    }

    #[test]
    fn rejects_mistakes_with_a_place() {
        let err = Settings::from_toml("[rules]\nselct = []\n").unwrap_err();
        assert!(err.contains("selct"), "{err}");
        assert!(err.contains("line 2") || err.contains("2 |"), "{err}");
        assert!(
            Settings::from_toml("[rules]\nignore = [\"no-such-rule\"]\n")
                .unwrap_err()
                .contains("unknown rule")
        );
        assert!(Settings::from_toml("[[allow]]\nrule = \"PC201\"\nreason = \" \"\n").is_err());
    }
}
