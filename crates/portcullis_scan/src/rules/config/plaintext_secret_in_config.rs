use crate::clients::Client;
use crate::declare_rule;
use crate::diagnostic::Diagnostic;
use crate::model::{ConfigFile, SecretFact};
use crate::registry::RuleMeta;
use crate::secrets;

declare_rule! {
    /// ## What it does
    /// Finds credentials written literally into an MCP client configuration: API tokens of known
    /// providers (GitHub, GitLab, OpenAI, Anthropic, AWS, Slack, Stripe, Hugging Face, Google,
    /// Azure and more), private keys, JWTs, database URLs with passwords, and high-entropy values
    /// stored under names such as `API_KEY`, `TOKEN` or `Authorization`. Values that reference a
    /// variable in the client's own syntax (`${VAR}`, `${env:VAR}`, `${input:id}`, `$VAR`,
    /// `{env:VAR}`, `${{ secrets.NAME }}`) are not reported.
    ///
    /// ## Why is this bad?
    /// Client configuration files are read by every tool on the machine, synced to other machines,
    /// pasted into issues and committed to repositories. A token in one is a token leaked: anyone
    /// who reads the file acts with the user's permissions at the provider.
    ///
    /// ## Example
    /// ```json
    /// {
    ///   "mcpServers": {
    ///     "github": {
    ///       "command": "github-mcp-server",
    ///       "env": { "GITHUB_PERSONAL_ACCESS_TOKEN": "ghp_R4nd0mT0k3nV4lu3Th4tL00ksR34l1234567" }
    ///     }
    ///   }
    /// }
    /// ```
    ///
    /// ## Use instead
    /// ```json
    /// {
    ///   "mcpServers": {
    ///     "github": {
    ///       "command": "github-mcp-server",
    ///       "env": { "GITHUB_PERSONAL_ACCESS_TOKEN": "${GITHUB_PERSONAL_ACCESS_TOKEN}" }
    ///     }
    ///   }
    /// }
    /// ```
    /// Keep the value in the environment, the OS keychain, or the client's secret inputs (VS Code
    /// `inputs` with `"password": true`), and rotate any token that was ever written in the file.
    ///
    /// ## References
    /// - [CWE-798: Use of Hard-coded Credentials](https://cwe.mitre.org/data/definitions/798.html)
    /// - [MCP Security Best Practices](https://modelcontextprotocol.io/docs/tutorials/security/security_best_practices)
    /// - [VS Code MCP configuration: input variables](https://code.visualstudio.com/docs/copilot/reference/mcp-configuration)
    pub static PLAINTEXT_SECRET_IN_CONFIG = {
        code: "PC201",
        name: "plaintext-secret-in-config",
        summary: "A credential is written literally in an MCP client configuration",
        severity: High,
        confidence: High,
        cwe: [798],
        target: Config,
    }
}

fn diagnostic(file: &ConfigFile, fact: &SecretFact) -> Diagnostic {
    let secret = &file.source.text[fact.span.range()];
    let place = match (&fact.server, &fact.key) {
        (Some(server), Some(key)) => format!("`{key}` of server `{server}`"),
        (None, Some(key)) => format!("`{key}`"),
        (Some(server), None) => format!("a value of server `{server}`"),
        (None, None) => format!("`{}`", fact.path),
    };
    let name = fact
        .key
        .as_deref()
        .filter(|k| is_env_name(k))
        .unwrap_or("SECRET_NAME");
    let mut d = Diagnostic::new(
        &PLAINTEXT_SECRET_IN_CONFIG,
        &file.source,
        fact.span,
        format!(
            "{place} holds a literal {} `{}`",
            fact.kind,
            secrets::mask(secret)
        ),
    )
    .with_help(format!(
        "{} Then rotate this credential: it has been stored in plain text.",
        reference_hint(file.client, name)
    ))
    .with_confidence(fact.confidence);
    if let Some(server) = &fact.server {
        d = d.with_server(server);
    }
    d
}

/// How to reference a secret instead, in the client's own syntax.
fn reference_hint(client: Client, name: &str) -> String {
    match client {
        Client::ClaudeCode | Client::Kiro | Client::GeminiCli => format!("Reference it from the environment: `${{{name}}}`."),
        Client::VsCode => format!("Reference it from the environment (`${{env:{name}}}`) or a secret input (`${{input:{}}}` with `\"password\": true`).", name.to_lowercase().replace('_', "-")),
        Client::Cursor | Client::Windsurf | Client::RooCode => format!("Reference it from the environment: `${{env:{name}}}`."),
        Client::Opencode => format!("Reference it from the environment: `{{env:{name}}}`."),
        Client::Continue => format!("Keep it in Continue's secrets and reference it: `${{{{ secrets.{name} }}}}`."),
        Client::Codex => format!("List the variable's name in `env_vars = [\"{name}\"]` (or `bearer_token_env_var`) so Codex forwards it from the environment."),
        Client::Goose => format!("Store it in the keyring and list its name in `env_keys: [{name}]`."),
        Client::ClaudeDesktop => "Claude Desktop does not expand variables: launch the server through a wrapper that reads the secret from the OS keychain, or install it as a Desktop Extension with a sensitive `user_config` field.".into(),
        _ => format!("Move it out of the file and pass it through the environment (`{name}`)."),
    }
}

fn is_env_name(key: &str) -> bool {
    !key.is_empty()
        && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !key.starts_with(|c: char| c.is_ascii_digit())
}

pub struct Rule;

impl super::ConfigRule for Rule {
    fn meta(&self) -> &'static RuleMeta {
        &PLAINTEXT_SECRET_IN_CONFIG
    }

    fn check_file(&self, file: &ConfigFile, out: &mut Vec<Diagnostic>) {
        // Credentials in a server's own URL are reported by `credentials-in-server-url`.
        out.extend(
            file.secrets
                .iter()
                .filter(|f| !f.in_server_url)
                .map(|f| diagnostic(file, f)),
        );
    }
}
