//! The interpolation syntaxes of MCP clients. A value made of references is not a secret.

use std::sync::LazyLock;

use regex::Regex;

/// `${VAR}`, `${VAR:-default}`, `${env:VAR}`, `${input:id}`, `${workspaceFolder}`, `$VAR`,
/// `%VAR%`, `{env:VAR}`, `{file:path}`, `${{ secrets.NAME }}`.
static REFERENCE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?x)
        \$\{\{\s*[A-Za-z_][\w.\-]*\s*\}\}        # Continue ${{ secrets.NAME }}
      | \$\{[A-Za-z_][\w.\-]*(?::[^}]*)?\}       # ${VAR}, ${env:VAR}, ${input:id}, ${VAR:-d}
      | \$\{/\}                                  # ${/}
      | \{(?:env|file):[^}]+\}                   # opencode {env:VAR}, {file:path}
      | \$[A-Za-z_][A-Za-z0-9_]*                 # $VAR
      | %[A-Za-z_][A-Za-z0-9_]*%                 # %VAR%
      | <[A-Za-z_][\w\-]*>                       # <YOUR_TOKEN> placeholders
        ",
    )
    .expect("static regex")
});

/// Whether the whole value is one or more references with nothing secret between them.
pub fn is_interpolation(value: &str) -> bool {
    let stripped = strip_interpolations(value);
    REFERENCE.is_match(value) && stripped.trim().len() < 8
}

/// The value with every reference removed, so that `Bearer ${TOKEN}` leaves `Bearer `.
pub fn strip_interpolations(value: &str) -> String {
    REFERENCE.replace_all(value, "").into_owned()
}

/// Whether `value` contains a reference anywhere (`Bearer ${TOKEN}`, `pass${X}`). A secret
/// candidate with one inside is a template, not a literal.
pub fn contains_reference(value: &str) -> bool {
    REFERENCE.is_match(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_every_client_syntax() {
        for v in [
            "${GITHUB_TOKEN}",
            "${env:OPENAI_API_KEY}",
            "${input:api-key}",
            "$TOKEN",
            "%APPDATA%",
            "{env:KEY}",
            "${{ secrets.GITHUB_PAT }}",
            "Bearer ${TOKEN}",
            "${VAR:-fallback}",
        ] {
            assert!(is_interpolation(v), "{v}");
        }
        assert!(!is_interpolation(
            "ghp_A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8"
        ));
        assert!(!is_interpolation("plain"));
    }
}
