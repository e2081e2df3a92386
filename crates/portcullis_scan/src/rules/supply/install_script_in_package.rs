use crate::declare_rule;
use crate::diagnostic::Diagnostic;
use crate::document::{self, Format, Node, Value};
use crate::registry::{RuleMeta, Severity};
use crate::span::Span;
use crate::supply::{SupplyFile, SupplyKind};

declare_rule! {
    /// ## What it does
    /// Finds `preinstall`, `install` and `postinstall` scripts in a `package.json`. npm, yarn,
    /// pnpm and bun run them on every machine that installs the package, including each user who
    /// starts the server with `npx`, before any of its code is ever called. Every such script is
    /// reported, graded by what it does:
    /// - high when it downloads or evaluates code (`curl`, `wget`, `Invoke-WebRequest`,
    ///   `| sh`, `node -e`, `eval`, `base64`, a URL);
    /// - low for well-known build steps (`node-gyp rebuild`, `prebuild-install`, `husky`,
    ///   `patch-package`, `prisma generate`, `tsc`);
    /// - medium for anything else.
    ///
    /// `prepare` is not reported: it runs for the package's own developers and for git installs,
    /// not for installs from the registry.
    ///
    /// ## Why is this bad?
    /// An install script is code run with the installing user's rights on a machine that has
    /// not yet decided to trust the package: the usual way malicious packages steal tokens and
    /// SSH keys (CWE-829, inclusion of functionality from an untrusted control sphere). Even a
    /// benign one trains users and CI to install with scripts enabled, and becomes the payload's
    /// entry point the day the package or one of its maintainers is compromised. An MCP server
    /// needs no install step that could not happen at build or first run.
    ///
    /// ## Example
    /// ```json file=package.json
    /// {
    ///   "name": "browser-mcp",
    ///   "version": "1.3.0",
    ///   "bin": { "browser-mcp": "dist/index.js" },
    ///   "scripts": {
    ///     "postinstall": "curl -fsSL https://example.com/install-driver.sh | sh"
    ///   }
    /// }
    /// ```
    ///
    /// ## Use instead
    /// ```json file=package.json
    /// {
    ///   "name": "browser-mcp",
    ///   "version": "1.3.0",
    ///   "bin": { "browser-mcp": "dist/index.js" },
    ///   "scripts": {
    ///     "build": "tsc",
    ///     "setup-driver": "node dist/setup-driver.js"
    ///   }
    /// }
    /// ```
    /// Do the work at build time, or at first run with a checksum-verified download the user
    /// can see; ship prebuilt binaries as optional platform packages instead of compiling on
    /// install.
    ///
    /// ## References
    /// - [CWE-829: Inclusion of Functionality from Untrusted Control Sphere](https://cwe.mitre.org/data/definitions/829.html)
    /// - [npm: scripts, life cycle](https://docs.npmjs.com/cli/using-npm/scripts#life-cycle-scripts)
    /// - [npm: ignore-scripts](https://docs.npmjs.com/cli/using-npm/config#ignore-scripts)
    /// - [OpenSSF: npm best practices, install scripts](https://github.com/ossf/package-manager-best-practices/blob/main/published/npm.md)
    pub static INSTALL_SCRIPT_IN_PACKAGE = {
        code: "PC404",
        name: "install-script-in-package",
        summary: "A package runs a script when it is installed",
        severity: Medium,
        confidence: High,
        cwe: [829],
        target: Supply,
    }
}

/// What an install script does, as far as its text tells.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// Downloads or evaluates code.
    Fetches,
    /// A well-known build step.
    Build,
    Other,
}

fn diagnostic(file: &SupplyFile, span: Span, hook: &str, command: &str, kind: Kind) -> Diagnostic {
    let shown: String = if command.chars().count() > 80 {
        command.chars().take(79).chain(['…']).collect()
    } else {
        command.to_string()
    };
    let (message, severity) = match kind {
        Kind::Fetches => (
            format!("the `{hook}` script downloads or evaluates code on every install: `{shown}`"),
            Severity::High,
        ),
        Kind::Build => (
            format!("the `{hook}` script runs a build step on every install: `{shown}`"),
            Severity::Low,
        ),
        Kind::Other => (
            format!("the `{hook}` script runs on every install: `{shown}`"),
            Severity::Medium,
        ),
    };
    Diagnostic::new(&INSTALL_SCRIPT_IN_PACKAGE, &file.source, span, message)
        .with_help("Move the work to build time or first run (with a checksum-verified download), or ship prebuilt binaries as optional platform packages; then remove the install script.")
        .with_severity(severity)
}

/// Lifecycle scripts run by `npm install` of the package from a registry.
const HOOKS: &[&str] = &["preinstall", "install", "postinstall"];

/// Signs that a command fetches or evaluates code.
const FETCHES: &[&str] = &[
    "curl ",
    "wget ",
    "invoke-webrequest",
    "iwr ",
    "invoke-expression",
    "iex ",
    "| sh",
    "|sh",
    "| bash",
    "|bash",
    "node -e",
    "node --eval",
    "node -p",
    "python -c",
    "python3 -c",
    "eval ",
    "eval(",
    "base64",
    "http://",
    "https://",
];

/// Well-known build steps, by how the command starts.
const BUILD_STEPS: &[&str] = &[
    "node-gyp rebuild",
    "node-gyp-build",
    "prebuild-install",
    "node-pre-gyp install",
    "husky",
    "patch-package",
    "prisma generate",
    "tsc",
    "npm run build",
    "yarn build",
    "pnpm build",
    "electron-builder install-app-deps",
];

fn kind_of(command: &str) -> Kind {
    let lower = command.to_ascii_lowercase();
    if FETCHES.iter().any(|f| lower.contains(f)) {
        return Kind::Fetches;
    }
    let steps: Vec<&str> = lower.split("&&").map(str::trim).collect();
    if steps
        .iter()
        .all(|s| BUILD_STEPS.iter().any(|b| s.starts_with(b)) || s.starts_with("echo "))
    {
        return Kind::Build;
    }
    Kind::Other
}

pub struct Rule;

impl super::SupplyRule for Rule {
    fn meta(&self) -> &'static RuleMeta {
        &INSTALL_SCRIPT_IN_PACKAGE
    }

    fn check(&self, file: &SupplyFile, out: &mut Vec<Diagnostic>) {
        if file.kind != SupplyKind::PackageJson {
            return;
        }
        let Ok(doc) = document::parse(&file.source.text, Format::Json) else {
            return;
        };
        for member in doc.get("scripts").map(Node::members).unwrap_or_default() {
            let hook = member.key.value.as_str();
            if !HOOKS.contains(&hook) {
                continue;
            }
            let Value::String(command) = &member.value.value else {
                continue;
            };
            if command.trim().is_empty() {
                continue;
            }
            let span = member.key.span.cover(member.value.span);
            out.push(diagnostic(file, span, hook, command, kind_of(command)));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds() {
        assert_eq!(
            kind_of("curl -fsSL https://x.example/i.sh | sh"),
            Kind::Fetches
        );
        assert_eq!(kind_of("node -e \"require('./setup')\""), Kind::Fetches);
        assert_eq!(kind_of("node-gyp rebuild"), Kind::Build);
        assert_eq!(kind_of("prisma generate && tsc"), Kind::Build);
        assert_eq!(kind_of("node scripts/postinstall.js"), Kind::Other);
    }
}
