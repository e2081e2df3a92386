use crate::declare_rule;
use crate::diagnostic::Diagnostic;
use crate::document::{self, Format, Node, Value};
use crate::registry::{RuleMeta, Severity};
use crate::span::Span;
use crate::supply::{SupplyFile, SupplyKind};

declare_rule! {
    /// ## What it does
    /// Finds Python dependencies of an MCP server that are not pinned to one release, where
    /// nothing else pins them:
    /// - in `requirements*.txt` and `constraints*.txt`: a bare name, a range (`>=`, `~=`, `<`,
    ///   `!=`, `==1.*`), a VCS requirement without a commit (`git+https://...@main`), or an
    ///   archive of a branch (`.../archive/refs/heads/main.zip`). An exact `==`/`===` pin, a line
    ///   with `--hash`, a local path or an editable local project (`-e .`) is fine; a file that
    ///   applies a constraints file (`-c constraints.txt`) is left to that file. `-r other.txt`
    ///   is not followed: the other file is checked on its own;
    /// - in `pyproject.toml` (`[project] dependencies`, `[tool.poetry.dependencies]`) and
    ///   `Pipfile`, entries that are not exact pins, only when no lockfile (`uv.lock`,
    ///   `poetry.lock`, `pdm.lock`, `pylock.toml`, `Pipfile.lock`) is beside the manifest or at
    ///   the root of its workspace, and only for an application: a `pyproject.toml` declaring
    ///   scripts, depending on `mcp` or `fastmcp`, marked `[tool.uv] package = false`, or with no
    ///   `[build-system]`. A library's ranges are how it should be written: the application that
    ///   installs it pins.
    ///
    /// Development requirements (`requirements-dev.txt`, `[dev-packages]`) are low severity;
    /// what the server runs with is medium.
    ///
    /// ## Why is this bad?
    /// An unpinned dependency is whatever the index serves on the day of the build. A hijacked
    /// maintainer account or a typo-squatted release published tomorrow goes into the next
    /// image without anyone reviewing it, and it runs with the server's access to the user's
    /// files and tokens (CWE-1357, reliance on insufficiently trustworthy component; CWE-829,
    /// inclusion of functionality from an untrusted control sphere). Ranges are safe only when a
    /// lockfile, reviewed in version control, decides the exact release; note that `pip install
    /// -r requirements.txt` reads no lockfile, so ranges there always float.
    ///
    /// ## Example
    /// ```requirements
    /// mcp>=1.6
    /// httpx
    /// pydantic==2.9.2
    /// ```
    ///
    /// ## Use instead
    /// ```requirements
    /// # uv pip compile requirements.in --generate-hashes -o requirements.txt
    /// mcp==1.9.4 \
    ///     --hash=sha256:0e1a6b8cbc0b2c8e0b1dd18f0bd47e3a1e6f6c1e5e5d7a6b0a3f5a0c2c1f4e2d
    /// httpx==0.28.1 \
    ///     --hash=sha256:d909fcccc110f8c7faf814ca82a9a4d816bc5a6dbfea25d6591d6985b8ba59ad
    /// pydantic==2.9.2 \
    ///     --hash=sha256:f048cec7b26778210e28a0459867920654d48e5e62db0958433636cde4254f12
    /// ```
    /// Keep loose constraints in `requirements.in` or `pyproject.toml` and install from a
    /// generated, hashed lock (`uv lock` and `uv sync --frozen`, `pip-compile --generate-hashes`,
    /// `poetry lock`), updated on purpose and reviewed like code.
    ///
    /// ## References
    /// - [CWE-1357: Reliance on Insufficiently Trustworthy Component](https://cwe.mitre.org/data/definitions/1357.html)
    /// - [CWE-829: Inclusion of Functionality from Untrusted Control Sphere](https://cwe.mitre.org/data/definitions/829.html)
    /// - [pip: secure installs with hash-checking mode](https://pip.pypa.io/en/stable/topics/secure-installs/)
    /// - [uv: locking and syncing](https://docs.astral.sh/uv/concepts/projects/sync/)
    /// - [Python Packaging User Guide: install_requires vs requirements files](https://packaging.python.org/en/latest/discussions/install-requires-vs-requirements/)
    pub static UNPINNED_PYTHON_DEPENDENCY = {
        code: "PC402",
        name: "unpinned-python-dependency",
        summary: "A Python dependency of an MCP server is not pinned to one release",
        severity: Medium,
        confidence: High,
        cwe: [1357, 829],
        target: Supply,
    }
}

/// How a requirement floats.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Float {
    /// No version at all.
    Bare,
    /// A range or wildcard.
    Range,
    /// A VCS URL without a commit.
    Vcs,
    /// An archive of a branch.
    BranchArchive,
}

fn diagnostic(
    file: &SupplyFile,
    span: Span,
    written: &str,
    float: &Float,
    dev: bool,
    lockless: bool,
) -> Diagnostic {
    let what = match float {
        Float::Bare => {
            format!("`{written}` names no version: every install takes the newest release")
        }
        Float::Range => {
            format!("`{written}` is a range: every install takes the newest release inside it")
        }
        Float::Vcs => format!(
            "`{written}` is not pinned to a commit: every install takes whatever its branch or tag holds then"
        ),
        Float::BranchArchive => format!(
            "`{written}` downloads a branch archive: every install takes whatever the branch holds then"
        ),
    };
    let manifest = file.source.path().file_name().map_or_else(
        || "the manifest".to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    let message = if lockless {
        format!("{what}, and no lockfile governs `{manifest}`")
    } else {
        what
    };
    let help = if lockless {
        "Commit a lockfile and install from it (`uv lock` then `uv sync --frozen`, `poetry lock`, `pipenv lock`); keep the ranges in the manifest."
    } else if matches!(float, Float::Vcs) {
        "Pin the VCS requirement to a full commit hash (`git+https://...@<40-hex-sha>`)."
    } else {
        "Pin an exact release (`name==1.2.3`), ideally with hashes: generate the file with `uv pip compile --generate-hashes` or `pip-compile --generate-hashes` from a loose `requirements.in`."
    };
    let d =
        Diagnostic::new(&UNPINNED_PYTHON_DEPENDENCY, &file.source, span, message).with_help(help);
    if dev {
        d.with_severity(Severity::Low)
    } else {
        d
    }
}

/// Lock files that pin a Python manifest's dependencies.
const PYTHON_LOCKS: &[&str] = &["uv.lock", "poetry.lock", "pdm.lock", "pylock.toml"];

pub struct Rule;

impl super::SupplyRule for Rule {
    fn meta(&self) -> &'static RuleMeta {
        &UNPINNED_PYTHON_DEPENDENCY
    }

    fn check(&self, file: &SupplyFile, out: &mut Vec<Diagnostic>) {
        match file.kind {
            SupplyKind::Requirements => requirements(file, out),
            SupplyKind::Pyproject => {
                if !file.has_lock(PYTHON_LOCKS) {
                    pyproject(file, out);
                }
            }
            SupplyKind::Pipfile => {
                if !file.has_lock(&["Pipfile.lock"]) {
                    pipfile(file, out);
                }
            }
            SupplyKind::Dockerfile | SupplyKind::PackageJson => {}
        }
    }
}

/// Whether a path names development-only requirements: `requirements-dev.txt`,
/// `requirements/test.txt`, `dev-requirements.txt`.
fn is_dev_path(file: &SupplyFile) -> bool {
    let path = file.source.display.to_ascii_lowercase();
    let tail: Vec<&str> = path.rsplit(['/', '\\']).take(2).collect();
    tail.iter().any(|part| {
        part.split(|c: char| !c.is_ascii_alphanumeric()).any(|w| {
            matches!(
                w,
                "dev"
                    | "develop"
                    | "test"
                    | "tests"
                    | "testing"
                    | "docs"
                    | "doc"
                    | "lint"
                    | "ci"
                    | "typing"
            )
        })
    })
}

fn requirements(file: &SupplyFile, out: &mut Vec<Diagnostic>) {
    let text = &file.source.text;
    let dev = is_dev_path(file);
    let lines = logical_lines(text);
    // Pins that live in a constraints file apply to every line here.
    if lines.iter().any(|(_, l)| {
        let t = l.trim_start();
        t.starts_with("-c ") || t.starts_with("-c\t") || t.starts_with("--constraint")
    }) {
        return;
    }
    for (start, line) in lines {
        let content = strip_comment(&line);
        let trimmed = content.trim();
        if trimmed.is_empty() {
            continue;
        }
        let lead = content.len() - content.trim_start().len();
        let span_of = |s: &str| {
            // The requirement's first physical line is enough to point at it.
            let first = s
                .lines()
                .next()
                .unwrap_or(s)
                .trim_end_matches('\\')
                .trim_end();
            Span::new(start + lead, start + lead + first.len())
        };
        if let Some(rest) = trimmed
            .strip_prefix("-e ")
            .or_else(|| trimmed.strip_prefix("--editable "))
            .or_else(|| trimmed.strip_prefix("--editable="))
        {
            let target = rest.trim();
            if let Some(float) = url_float(target) {
                out.push(diagnostic(
                    file,
                    span_of(trimmed),
                    target,
                    &float,
                    dev,
                    false,
                ));
            }
            continue;
        }
        if trimmed.starts_with('-') {
            // `-r`, `--index-url`, `--find-links`, `--require-hashes`, ...
            continue;
        }
        // `name==1.0 --hash=sha256:...`: pip demands exact pins with hashes.
        if trimmed.contains("--hash") {
            continue;
        }
        let requirement = trimmed.split(" --").next().unwrap_or(trimmed).trim();
        if let Some(float) = requirement_float(requirement) {
            let written = requirement.split(';').next().unwrap_or(requirement).trim();
            let span = span_of(trimmed);
            let span = Span::new(span.start, span.start + written.len().min(span.len()));
            out.push(diagnostic(file, span, written, &float, dev, false));
        }
    }
}

/// Requirement lines with continuations joined, each with the offset where it starts.
fn logical_lines(text: &str) -> Vec<(usize, String)> {
    let mut out: Vec<(usize, String)> = Vec::new();
    let mut offset = 0;
    let mut pending: Option<(usize, String)> = None;
    for raw in text.split_inclusive('\n') {
        let start = offset;
        offset += raw.len();
        let line = raw.trim_end_matches(['\n', '\r']);
        let (body, continues) = match strip_comment(line).trim_end().strip_suffix('\\') {
            Some(b) => (b.to_string(), true),
            None => (line.to_string(), false),
        };
        match pending.as_mut() {
            Some((_, acc)) => {
                acc.push(' ');
                acc.push_str(body.trim());
            }
            None => pending = Some((start, body)),
        }
        if !continues && let Some(p) = pending.take() {
            out.push(p);
        }
    }
    out.extend(pending);
    out
}

/// A line without its comment: `#` at the start or after whitespace (a URL's `#egg=` stays).
fn strip_comment(line: &str) -> &str {
    if line.trim_start().starts_with('#') {
        return "";
    }
    match line.find(" #").or_else(|| line.find("\t#")) {
        Some(at) => &line[..at],
        None => line,
    }
}

/// How a PEP 508 requirement floats, if it does. Local paths float with the checkout, which is
/// not this rule's business.
fn requirement_float(req: &str) -> Option<Float> {
    let req = req.trim();
    let head = req.split(';').next().unwrap_or(req).trim();
    if head.starts_with('.') || head.starts_with('/') || head.starts_with("file:") {
        return None;
    }
    if let Some((_, url)) = head.split_once(" @ ").or_else(|| {
        head.split_once('@')
            .filter(|(n, u)| !n.contains(['/', ':']) && u.contains("://"))
    }) {
        return url_float(url.trim());
    }
    if head.contains("://") {
        return url_float(head);
    }
    let name_len = head
        .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')))
        .unwrap_or(head.len());
    if name_len == 0 {
        return None;
    }
    let mut spec = head[name_len..].trim();
    if let Some(rest) = spec.strip_prefix('[') {
        spec = rest.split_once(']').map_or("", |(_, r)| r).trim();
    }
    let spec = spec.trim_start_matches('(').trim_end_matches(')').trim();
    version_float(spec)
}

/// How a PEP 440 specifier set floats: `None` for an exact pin.
fn version_float(spec: &str) -> Option<Float> {
    if spec.is_empty() {
        return Some(Float::Bare);
    }
    let exact = spec.split(',').map(str::trim).any(|clause| {
        clause.starts_with("===")
            || clause
                .strip_prefix("==")
                .is_some_and(|v| !v.trim().is_empty() && !v.contains('*'))
    });
    (!exact).then_some(Float::Range)
}

/// A VCS URL without a commit, or a branch archive.
fn url_float(url: &str) -> Option<Float> {
    let lower = url.to_ascii_lowercase();
    let vcs = ["git+", "hg+", "svn+", "bzr+"]
        .iter()
        .any(|p| lower.starts_with(p));
    if vcs {
        let without_fragment = url.split('#').next().unwrap_or(url);
        // The revision follows the last `@` after the host part.
        let after_scheme = without_fragment
            .split_once("://")
            .map_or(without_fragment, |(_, r)| r);
        let path = after_scheme.split_once('/').map_or("", |(_, p)| p);
        let rev = path.rsplit_once('@').map(|(_, r)| r);
        let is_commit = rev.is_some_and(|r| {
            (7..=40).contains(&r.len()) && r.chars().all(|c| c.is_ascii_hexdigit())
        });
        return (!is_commit).then_some(Float::Vcs);
    }
    let branch = [
        "/archive/refs/heads/",
        "/archive/main.",
        "/archive/master.",
        "/tarball/main",
        "/tarball/master",
        "/zipball/main",
        "/zipball/master",
        "/-/archive/main/",
        "/-/archive/master/",
    ];
    branch
        .iter()
        .any(|b| lower.contains(b))
        .then_some(Float::BranchArchive)
}

fn pyproject(file: &SupplyFile, out: &mut Vec<Diagnostic>) {
    let Ok(doc) = document::parse(&file.source.text, Format::Toml) else {
        return;
    };
    let deps = doc.pointer(&["project", "dependencies"]);
    let poetry = doc.pointer(&["tool", "poetry", "dependencies"]);
    let names = deps
        .map(|d| {
            d.items()
                .iter()
                .filter_map(Node::as_str)
                .map(str::to_string)
                .collect::<Vec<_>>()
        })
        .unwrap_or_default()
        .into_iter()
        .chain(
            poetry
                .map(|p| {
                    p.members()
                        .iter()
                        .map(|m| m.key.value.clone())
                        .collect::<Vec<_>>()
                })
                .unwrap_or_default(),
        );
    let mcp_server = names.into_iter().any(|n| {
        let name: String = n
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
            .collect();
        matches!(name.to_ascii_lowercase().as_str(), "mcp" | "fastmcp")
    });
    let application = doc.pointer(&["project", "scripts"]).is_some()
        || doc.pointer(&["project", "gui-scripts"]).is_some()
        || doc.pointer(&["tool", "poetry", "scripts"]).is_some()
        || doc
            .pointer(&["tool", "uv", "package"])
            .and_then(Node::as_bool)
            == Some(false)
        || doc.get("build-system").is_none()
        || mcp_server;
    if !application {
        return;
    }
    for item in deps.map(Node::items).unwrap_or_default() {
        let Some(req) = item.as_str() else { continue };
        if let Some(float) = requirement_float(req) {
            out.push(diagnostic(file, item.span, req.trim(), &float, false, true));
        }
    }
    for member in poetry.map(Node::members).unwrap_or_default() {
        if member.key.value == "python" {
            continue;
        }
        if let Some(float) = poetry_float(&member.value) {
            let span = member.key.span.cover(member.value.span);
            let written = entry_text(file, span, &member.key.value);
            out.push(diagnostic(file, span, &written, &float, false, true));
        }
    }
}

/// Poetry's constraint syntax: a bare version is exact; `^`, `~`, `*`, `>=` float.
fn poetry_float(value: &Node) -> Option<Float> {
    let version = match &value.value {
        Value::String(v) => v.clone(),
        Value::Object(_) => {
            if value.get("path").is_some() || value.get("url").is_some() {
                return None;
            }
            if value.get("git").is_some() {
                let rev = value.get("rev").and_then(Node::as_str).unwrap_or("");
                let is_commit =
                    (7..=40).contains(&rev.len()) && rev.chars().all(|c| c.is_ascii_hexdigit());
                return (!is_commit).then_some(Float::Vcs);
            }
            value
                .get("version")
                .and_then(Node::as_str)
                .unwrap_or("")
                .to_string()
        }
        _ => return None,
    };
    let v = version.trim();
    if v.is_empty() || v == "*" {
        return Some(Float::Bare);
    }
    let exact = v.strip_prefix("==").unwrap_or(v);
    let plain = exact.chars().next().is_some_and(|c| c.is_ascii_digit())
        && !exact.contains([',', '*', '|', '<', '>', '^', '~', ' ']);
    (!plain).then_some(Float::Range)
}

/// A TOML entry as written when it fits on one short line (`fastmcp = "^2.3"`), else its key.
fn entry_text(file: &SupplyFile, span: Span, key: &str) -> String {
    match file.source.text.get(span.range()) {
        Some(t) if !t.contains('\n') && t.len() <= 80 => t.to_string(),
        _ => key.to_string(),
    }
}

fn pipfile(file: &SupplyFile, out: &mut Vec<Diagnostic>) {
    let Ok(doc) = document::parse(&file.source.text, Format::Toml) else {
        return;
    };
    for (section, dev) in [("packages", false), ("dev-packages", true)] {
        for member in doc.get(section).map(Node::members).unwrap_or_default() {
            let float = match &member.value.value {
                Value::String(v) if v.trim() == "*" || v.trim().is_empty() => Some(Float::Bare),
                Value::String(v) => version_float(v.trim()),
                Value::Object(_) => {
                    let v = &member.value;
                    if v.get("path").is_some() || v.get("file").is_some() {
                        None
                    } else if v.get("git").is_some() {
                        let rev = v.get("ref").and_then(Node::as_str).unwrap_or("");
                        let is_commit = (7..=40).contains(&rev.len())
                            && rev.chars().all(|c| c.is_ascii_hexdigit());
                        (!is_commit).then_some(Float::Vcs)
                    } else {
                        match v.get("version").and_then(Node::as_str).map(str::trim) {
                            None | Some("*") | Some("") => Some(Float::Bare),
                            Some(spec) => version_float(spec),
                        }
                    }
                }
                _ => None,
            };
            if let Some(float) = float {
                let span = member.key.span.cover(member.value.span);
                let written = entry_text(file, span, &member.key.value);
                out.push(diagnostic(file, span, &written, &float, dev, true));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requirements_float_or_not() {
        for (req, want) in [
            ("mcp", Some(Float::Bare)),
            ("mcp[cli]", Some(Float::Bare)),
            ("mcp>=1.6", Some(Float::Range)),
            ("anyio ~= 4.6", Some(Float::Range)),
            ("starlette==0.41.*", Some(Float::Range)),
            ("httpx>=0.27,<0.29", Some(Float::Range)),
            ("pydantic==2.9.2", None),
            (
                "uvicorn[standard]==0.32.0 ; python_version >= \"3.10\"",
                None,
            ),
            ("legacy===1.0-custom", None),
            ("./vendor/acme", None),
            (
                "acme @ git+https://github.com/acme/acme.git@main",
                Some(Float::Vcs),
            ),
            (
                "acme @ git+https://github.com/acme/acme.git@3f2c1a9b8d7e6f5a4b3c2d1e0f9a8b7c6d5e4f3a",
                None,
            ),
            (
                "git+https://github.com/acme/acme.git#egg=acme",
                Some(Float::Vcs),
            ),
            (
                "git+ssh://git@github.com/acme/acme.git@v1.2#egg=acme",
                Some(Float::Vcs),
            ),
            (
                "acme @ https://github.com/acme/acme/archive/refs/heads/main.zip",
                Some(Float::BranchArchive),
            ),
            (
                "acme @ https://files.pythonhosted.org/packages/acme-1.0-py3-none-any.whl",
                None,
            ),
        ] {
            assert_eq!(requirement_float(req), want, "{req}");
        }
    }

    #[test]
    fn comments_and_continuations() {
        let text = "# top\nmcp==1.9.4 \\\n    --hash=sha256:abc\nhttpx  # the client\ngit+https://x.example/r.git#egg=r\n";
        let lines = logical_lines(text);
        assert_eq!(lines.len(), 4);
        assert_eq!(lines[1].1.trim(), "mcp==1.9.4  --hash=sha256:abc");
        assert_eq!(strip_comment("httpx  # the client").trim(), "httpx");
        assert_eq!(
            strip_comment("git+https://x.example/r.git#egg=r"),
            "git+https://x.example/r.git#egg=r"
        );
    }
}
