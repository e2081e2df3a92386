use crate::clients::Scope;
use crate::declare_rule;
use crate::diagnostic::Diagnostic;
use crate::model::ConfigFile;
use crate::registry::{Confidence, RuleMeta, Severity};
use crate::span::Span;

declare_rule! {
    /// ## What it does
    /// Finds Claude Code settings that approve project MCP servers (the servers of a
    /// repository's `.mcp.json`) in advance:
    /// - a repository's own `.claude/settings.json` (or a `.claude/settings.local.json` that
    ///   came with it) setting `enableAllProjectMcpServers: true` or listing servers in
    ///   `enabledMcpjsonServers`: the repository approves its own servers;
    /// - the user's `~/.claude/settings.json` (or managed settings) setting
    ///   `enableAllProjectMcpServers: true`: every repository the user opens gets its servers
    ///   approved (reported at medium severity).
    ///
    /// ## Why is this bad?
    /// A project server is a command from the repository that runs on the user's machine with
    /// the user's rights. Claude Code asks before starting each one because cloning a
    /// repository must not be enough to run code from it. A committed approval answers that
    /// question on the user's behalf: once the folder is trusted (a generic dialog that does
    /// not list the servers), the repository's servers start without being shown, and a later
    /// commit can change what an approved name runs without asking again, because approval is
    /// kept by name.
    ///
    /// ## Example
    /// ```json file=.claude/settings.json
    /// {
    ///   "enableAllProjectMcpServers": true,
    ///   "permissions": { "allow": ["Bash(npm test)"] }
    /// }
    /// ```
    ///
    /// ## Use instead
    /// ```json file=.claude/settings.json
    /// {
    ///   "permissions": { "allow": ["Bash(npm test)"] }
    /// }
    /// ```
    /// Let each developer approve the project's servers when Claude Code asks. To pre-approve
    /// servers for a team, use managed settings (`allowedMcpServers`) that the team controls,
    /// not a file the repository controls.
    ///
    /// ## References
    /// - [CWE-862: Missing Authorization](https://cwe.mitre.org/data/definitions/862.html)
    /// - [Claude Code MCP: project server approvals and workspace trust](https://code.claude.com/docs/en/mcp)
    /// - [Claude Code settings: `enableAllProjectMcpServers`, `enabledMcpjsonServers`](https://code.claude.com/docs/en/settings)
    pub static PROJECT_SERVERS_SELF_APPROVED = {
        code: "PC213",
        name: "project-servers-self-approved",
        summary: "Settings approve a repository's MCP servers before the user has seen them",
        severity: High,
        confidence: High,
        cwe: [862],
        target: Config,
    }
}

/// What the settings approve.
enum Approved<'a> {
    All,
    Named(&'a str),
}

/// Who wrote the approval.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Author {
    /// The repository's shared settings.
    Repository,
    /// `settings.local.json`: usually the user's own, unless it was committed.
    LocalFile,
    /// The user's or the administrator's settings, for every project.
    Everywhere,
}

fn diagnostic(
    file: &ConfigFile,
    span: Span,
    approved: &Approved<'_>,
    author: Author,
) -> Diagnostic {
    let message = match (approved, author) {
        (Approved::All, Author::Everywhere) => "`enableAllProjectMcpServers: true` approves the `.mcp.json` servers of every repository you open, before you see them".to_string(),
        (Approved::All, Author::Repository) => "this repository approves every server of its own `.mcp.json`: once the folder is trusted they start without asking".to_string(),
        (Approved::All, Author::LocalFile) => "these local settings approve every server of the project's `.mcp.json`; if this file came with the repository, the repository approves its own servers".to_string(),
        (Approved::Named(name), Author::LocalFile) => format!("these local settings approve the project server `{name}`; if this file came with the repository, the repository approves its own server"),
        (Approved::Named(name), _) => format!("this repository approves its own `.mcp.json` server `{name}`: once the folder is trusted it starts without asking"),
    };
    let help = match author {
        Author::Everywhere => {
            "Remove `enableAllProjectMcpServers` and approve each project's servers when Claude Code asks; to pre-approve known servers for a team, list them in managed `allowedMcpServers`."
        }
        Author::Repository => {
            "Remove the approval from the repository's settings and let each developer approve the project's servers when Claude Code asks, after reading what `.mcp.json` runs."
        }
        Author::LocalFile => {
            "If you did not write this approval yourself, remove it, keep `settings.local.json` out of git, and approve the project's servers when Claude Code asks."
        }
    };
    let (severity, confidence) = match author {
        Author::Repository => (Severity::High, Confidence::High),
        Author::LocalFile => (Severity::Medium, Confidence::Low),
        Author::Everywhere => (Severity::Medium, Confidence::High),
    };
    let mut d = Diagnostic::new(&PROJECT_SERVERS_SELF_APPROVED, &file.source, span, message)
        .with_help(help)
        .with_severity(severity)
        .with_confidence(confidence);
    if let Approved::Named(name) = approved {
        d = d.with_server(*name);
    }
    d
}

pub struct Rule;

impl super::ConfigRule for Rule {
    fn meta(&self) -> &'static RuleMeta {
        &PROJECT_SERVERS_SELF_APPROVED
    }

    fn check_file(&self, file: &ConfigFile, out: &mut Vec<Diagnostic>) {
        let author = match file.scope {
            Scope::Project if is_local_settings(file) => Author::LocalFile,
            Scope::Project => Author::Repository,
            Scope::User | Scope::Managed => Author::Everywhere,
            Scope::Extension => return,
        };
        if let Some(span) = file.trust.approve_all_project_servers {
            out.push(diagnostic(file, span, &Approved::All, author));
        }
        // Named approvals in the user's own settings are the user's choices, one by one.
        if author == Author::Everywhere {
            return;
        }
        for name in &file.trust.approved_project_servers {
            out.push(diagnostic(
                file,
                name.span,
                &Approved::Named(&name.value),
                author,
            ));
        }
    }
}

/// `.claude/settings.local.json`, which Claude Code keeps out of git.
fn is_local_settings(file: &ConfigFile) -> bool {
    file.source
        .path
        .file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| n.to_ascii_lowercase().starts_with("settings.local."))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::{FileTask, load};
    use crate::rules::config::ConfigRule;

    /// Loads `text` as `<home>/.claude/settings.json`, so the file is the user's.
    fn user_settings(text: &str) -> Vec<Diagnostic> {
        let dir = tempfile::tempdir().unwrap();
        let home = dir.path().join("home");
        let path = home.join(".claude/settings.json");
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, text).unwrap();
        let task = FileTask {
            path,
            display: "~/.claude/settings.json".into(),
            root: home.clone(),
            known: None,
            explicit: true,
        };
        let config = load(&task, Some(&home)).config.unwrap();
        assert_eq!(config.scope, Scope::User);
        let mut out = Vec::new();
        Rule.check_file(&config, &mut out);
        out
    }

    #[test]
    fn user_wide_approval_is_medium() {
        let out = user_settings(r#"{ "enableAllProjectMcpServers": true }"#);
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].severity, Severity::Medium);
        assert!(out[0].message.contains("every repository"));
    }

    #[test]
    fn user_named_approvals_and_false_are_not_reported() {
        let out = user_settings(
            r#"{ "enableAllProjectMcpServers": false, "enabledMcpjsonServers": ["docs"] }"#,
        );
        assert!(out.is_empty());
    }
}
