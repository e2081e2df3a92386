use crate::declare_rule;
use crate::diagnostic::Diagnostic;
use crate::document::{self, Format, Node, Value};
use crate::registry::{RuleMeta, Severity};
use crate::span::Span;
use crate::supply::node::NODE_LOCKS;
use crate::supply::{SupplyFile, SupplyKind};

declare_rule! {
    /// ## What it does
    /// Finds `package.json` dependencies of an MCP server that are not pinned to one release when
    /// no lockfile (`package-lock.json`, `npm-shrinkwrap.json`, `yarn.lock`, `pnpm-lock.yaml`,
    /// `bun.lock`) is beside the manifest or at the root of its workspace: ranges (`^1.2.0`,
    /// `~1.2.0`, `>=1`, `1.x`, `1.2`, `*`), dist-tags (`latest`, `next`), an empty version, and
    /// git dependencies without a commit (`github:acme/tool`, `git+https://...#main`). Exact
    /// versions, commit-pinned git URLs and local (`file:`, `link:`, `workspace:`) dependencies
    /// are fine.
    ///
    /// Only applications are checked: a package with `bin`, `"private": true`, a `start` script,
    /// or a dependency on an MCP SDK (`@modelcontextprotocol/sdk`, `fastmcp`, `mcp-framework`).
    /// A library's ranges are how it should be written; the application that installs it pins.
    /// `dependencies` and `optionalDependencies` are medium, `devDependencies` low;
    /// `peerDependencies` are ranges by design and not reported.
    ///
    /// ## Why is this bad?
    /// Without a lockfile, `npm install` resolves every range afresh: a hijacked maintainer
    /// account or a malicious release published tomorrow lands in the next build and runs with
    /// the server's access to files, tokens and the network, as in the `event-stream`, `ua-parser-js`
    /// and `nx` compromises (CWE-1357, reliance on insufficiently trustworthy component; CWE-829,
    /// inclusion of functionality from an untrusted control sphere). With a lockfile committed and
    /// `npm ci`, the exact tree that was reviewed is what gets installed.
    ///
    /// Note that a package run with `npx` ignores its own `package-lock.json`; only
    /// `npm-shrinkwrap.json` travels with a published package.
    ///
    /// ## Example
    /// ```json file=package.json
    /// {
    ///   "name": "notes-mcp",
    ///   "version": "0.4.0",
    ///   "bin": { "notes-mcp": "dist/index.js" },
    ///   "dependencies": {
    ///     "@modelcontextprotocol/sdk": "^1.12.0",
    ///     "zod": "latest"
    ///   }
    /// }
    /// ```
    ///
    /// ## Use instead
    /// ```json file=package.json
    /// {
    ///   "name": "notes-mcp",
    ///   "version": "0.4.0",
    ///   "bin": { "notes-mcp": "dist/index.js" },
    ///   "dependencies": {
    ///     "@modelcontextprotocol/sdk": "1.12.1",
    ///     "zod": "3.25.76"
    ///   }
    /// }
    /// ```
    /// Better still, keep the ranges and commit the lockfile (`npm install` once, then `npm ci` in
    /// every build); for a package meant for `npx`, publish an `npm-shrinkwrap.json`.
    ///
    /// ## References
    /// - [CWE-1357: Reliance on Insufficiently Trustworthy Component](https://cwe.mitre.org/data/definitions/1357.html)
    /// - [CWE-829: Inclusion of Functionality from Untrusted Control Sphere](https://cwe.mitre.org/data/definitions/829.html)
    /// - [npm: package-lock.json](https://docs.npmjs.com/cli/configuring-npm/package-lock-json)
    /// - [npm: npm ci](https://docs.npmjs.com/cli/commands/npm-ci)
    /// - [npm: npm-shrinkwrap.json](https://docs.npmjs.com/cli/configuring-npm/npm-shrinkwrap-json)
    pub static UNPINNED_NODE_DEPENDENCY = {
        code: "PC403",
        name: "unpinned-node-dependency",
        summary: "A Node dependency of an MCP server floats and no lockfile pins it",
        severity: Medium,
        confidence: High,
        cwe: [1357, 829],
        target: Supply,
    }
}

/// How a dependency floats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Float {
    /// `""` or `*`.
    Any,
    Range,
    /// `latest`, `next`, `beta`.
    Tag,
    /// A git dependency without a commit.
    Git,
}

fn diagnostic(
    file: &SupplyFile,
    span: Span,
    name: &str,
    spec: &str,
    float: Float,
    dev: bool,
) -> Diagnostic {
    let what = match float {
        Float::Any => format!("`{name}` accepts any version (`{spec}`)"),
        Float::Range => format!("`{name}` is a range (`{spec}`)"),
        Float::Tag => format!("`{name}` follows the dist-tag `{spec}`"),
        Float::Git => format!("`{name}` follows a git branch or tag, not a commit (`{spec}`)"),
    };
    let d = Diagnostic::new(
        &UNPINNED_NODE_DEPENDENCY,
        &file.source,
        span,
        if float == Float::Git {
            format!("{what} and no lockfile pins it: every install takes whatever the branch holds then")
        } else {
            format!("{what} and no lockfile pins it: every install takes the newest match")
        },
    )
    .with_help("Commit a lockfile (`npm install` once, then `npm ci` in builds; or yarn/pnpm/bun's), or pin exact versions; pin git dependencies to a full commit hash.");
    if dev {
        d.with_severity(Severity::Low)
    } else {
        d
    }
}

/// Dependencies that make a package an MCP server.
const MCP_PACKAGES: &[&str] = &["@modelcontextprotocol/sdk", "fastmcp", "mcp-framework"];

pub struct Rule;

impl super::SupplyRule for Rule {
    fn meta(&self) -> &'static RuleMeta {
        &UNPINNED_NODE_DEPENDENCY
    }

    fn check(&self, file: &SupplyFile, out: &mut Vec<Diagnostic>) {
        if file.kind != SupplyKind::PackageJson || file.has_lock(NODE_LOCKS) {
            return;
        }
        let Ok(doc) = document::parse(&file.source.text, Format::Json) else {
            return;
        };
        if !is_application(&doc) {
            return;
        }
        for (section, dev) in [
            ("dependencies", false),
            ("optionalDependencies", false),
            ("devDependencies", true),
        ] {
            for member in doc.get(section).map(Node::members).unwrap_or_default() {
                let Value::String(spec) = &member.value.value else {
                    continue;
                };
                if let Some(float) = spec_float(spec) {
                    let span = member.key.span.cover(member.value.span);
                    out.push(diagnostic(file, span, &member.key.value, spec, float, dev));
                }
            }
        }
    }
}

/// Whether a `package.json` is something that runs (a server, a CLI, an app) rather than a
/// library others depend on.
fn is_application(doc: &Node) -> bool {
    let depends_on_mcp = ["dependencies", "devDependencies"].iter().any(|s| {
        doc.get(s).is_some_and(|d| {
            d.members()
                .iter()
                .any(|m| MCP_PACKAGES.contains(&m.key.value.as_str()))
        })
    });
    doc.get("bin").is_some()
        || doc.get("private").and_then(Node::as_bool) == Some(true)
        || doc.pointer(&["scripts", "start"]).is_some()
        || depends_on_mcp
}

/// How an npm version spec floats; `None` for an exact version, a pinned git commit or a local
/// dependency.
fn spec_float(spec: &str) -> Option<Float> {
    let s = spec.trim();
    // `npm:other-name@^1.0`: the alias's own spec decides.
    if let Some(alias) = s.strip_prefix("npm:") {
        let at = alias.rfind('@').filter(|&i| i > 0)?;
        return spec_float(&alias[at + 1..]);
    }
    if [
        "file:",
        "link:",
        "workspace:",
        "portal:",
        "catalog:",
        "./",
        "../",
        "/",
        "~/",
    ]
    .iter()
    .any(|p| s.starts_with(p))
    {
        return None;
    }
    let lower = s.to_ascii_lowercase();
    let git = lower.starts_with("git+")
        || lower.starts_with("git://")
        || lower.starts_with("github:")
        || lower.starts_with("gitlab:")
        || lower.starts_with("bitbucket:")
        || lower.starts_with("gist:")
        || (lower.starts_with("http") && lower.contains(".git"))
        || (!lower.contains(':') && lower.contains('/') && !lower.starts_with('@'));
    if git {
        let commit = s.rsplit_once('#').map(|(_, r)| r).is_some_and(|r| {
            (7..=40).contains(&r.len()) && r.chars().all(|c| c.is_ascii_hexdigit())
        });
        return (!commit).then_some(Float::Git);
    }
    if lower.starts_with("http://") || lower.starts_with("https://") {
        // A tarball URL: what it serves can change, but it is no range; not this rule's call.
        return None;
    }
    if s.is_empty() || s == "*" || s == "x" || s == "X" {
        return Some(Float::Any);
    }
    let v = s.strip_prefix('=').unwrap_or(s).trim();
    let v = v.strip_prefix('v').unwrap_or(v);
    if v.starts_with(|c: char| c.is_ascii_alphabetic()) {
        return Some(Float::Tag);
    }
    // An exact version: three numeric parts, optional prerelease/build, nothing else.
    let core = v.split(['-', '+']).next().unwrap_or(v);
    let parts: Vec<&str> = core.split('.').collect();
    let exact = parts.len() == 3
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()))
        && !v.contains([' ', '|', '<', '>', '^', '~', '*']);
    (!exact).then_some(Float::Range)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specs() {
        for (spec, want) in [
            ("1.2.3", None),
            ("=1.2.3", None),
            ("v1.2.3", None),
            ("1.2.3-beta.1", None),
            ("^1.2.3", Some(Float::Range)),
            ("~1.2.3", Some(Float::Range)),
            (">=1.0.0", Some(Float::Range)),
            ("1.x", Some(Float::Range)),
            ("1.2", Some(Float::Range)),
            ("1", Some(Float::Range)),
            ("1.0.0 - 2.0.0", Some(Float::Range)),
            ("^1 || ^2", Some(Float::Range)),
            ("*", Some(Float::Any)),
            ("", Some(Float::Any)),
            ("latest", Some(Float::Tag)),
            ("next", Some(Float::Tag)),
            ("github:acme/tool", Some(Float::Git)),
            ("acme/tool#main", Some(Float::Git)),
            (
                "git+https://github.com/acme/tool.git#semver:^1.0",
                Some(Float::Git),
            ),
            (
                "git+https://github.com/acme/tool.git#3f2c1a9b8d7e6f5a4b3c2d1e0f9a8b7c6d5e4f3a",
                None,
            ),
            ("file:../shared", None),
            ("workspace:*", None),
            ("npm:@acme/fork@^2.0.0", Some(Float::Range)),
            ("npm:@acme/fork@2.0.1", None),
            ("https://registry.example.com/tool-1.0.0.tgz", None),
        ] {
            assert_eq!(spec_float(spec), want, "{spec}");
        }
    }
}
