use std::collections::HashMap;

use crate::declare_rule;
use crate::diagnostic::Diagnostic;
use crate::registry::{Confidence, RuleMeta};
use crate::span::Span;
use crate::supply::{SupplyFile, SupplyKind};

declare_rule! {
    /// ## What it does
    /// Finds Dockerfiles whose final stage runs as root: it never sets `USER` (and neither does
    /// an earlier stage it is built `FROM`), or its last `USER` is `root`, `0`, `0:0` or
    /// `root:root`. Only the final stage matters, since it is the image that runs. A `USER $VAR`
    /// is resolved through the stage's `ARG` and `ENV` defaults; one that cannot be resolved
    /// counts as non-root. Images built on a base that is non-root by default (`*:nonroot`
    /// distroless, Chainguard, Bitnami) and images that install or call `gosu`, `su-exec`,
    /// `setpriv` or `runuser` (an entrypoint that starts as root to drop to another user, like
    /// the official database images) are not reported.
    ///
    /// ## Why is this bad?
    /// An MCP server acts on text written by others (web pages, issues, documents), so a prompt
    /// injection or a compromised dependency can make it run what an attacker wants. As root in
    /// the container, that code can rewrite the image's own programs, read every mounted secret,
    /// and turn any container escape (a kernel bug, a mounted Docker socket, a `--privileged`
    /// run) into root on the host (CWE-250, execution with unnecessary privileges). Medium
    /// severity: it makes other flaws worse rather than being one on its own.
    ///
    /// ## Example
    /// ```dockerfile
    /// FROM python:3.12-slim
    /// WORKDIR /app
    /// COPY requirements.txt .
    /// RUN pip install --no-cache-dir -r requirements.txt
    /// COPY . .
    /// CMD ["python", "server.py"]
    /// ```
    ///
    /// ## Use instead
    /// ```dockerfile
    /// FROM python:3.12-slim
    /// WORKDIR /app
    /// COPY requirements.txt .
    /// RUN pip install --no-cache-dir -r requirements.txt \
    ///  && useradd --system --uid 10001 --no-create-home mcp
    /// COPY . .
    /// USER 10001:10001
    /// CMD ["python", "server.py"]
    /// ```
    /// Create an unprivileged user after installing what needs root, and switch to it with a
    /// numeric `USER` (so Kubernetes' `runAsNonRoot` can verify it) before `CMD`.
    ///
    /// ## References
    /// - [CWE-250: Execution with Unnecessary Privileges](https://cwe.mitre.org/data/definitions/250.html)
    /// - [Dockerfile reference: USER](https://docs.docker.com/reference/dockerfile/#user)
    /// - [Docker: build best practices, USER](https://docs.docker.com/build/building/best-practices/#user)
    /// - [OWASP Docker Security Cheat Sheet, rule 2](https://cheatsheetseries.owasp.org/cheatsheets/Docker_Security_Cheat_Sheet.html#rule-2-set-a-user)
    pub static CONTAINER_RUNS_AS_ROOT = {
        code: "PC401",
        name: "container-runs-as-root",
        summary: "A container image for an MCP server runs as root",
        severity: Medium,
        confidence: High,
        cwe: [250],
        target: Supply,
    }
}

/// Why the final stage runs as root.
enum Why<'a> {
    /// No `USER` in the stage or the stages it builds on.
    NoUser {
        image: &'a str,
        /// The real image under a chain of stages, when different.
        base: Option<&'a str>,
        known_base: bool,
    },
    /// The last `USER` is root (possibly through a variable, whose value is given).
    RootUser { written: &'a str, value: String },
}

fn diagnostic(file: &SupplyFile, span: Span, why: Why<'_>) -> Diagnostic {
    let (message, confidence) = match why {
        Why::NoUser {
            image,
            base,
            known_base,
        } => {
            let from = match base {
                Some(b) => format!("`FROM {image}`, built on `{b}`"),
                None => format!("`FROM {image}`"),
            };
            (
                if known_base {
                    format!("the final stage ({from}) never sets `USER`: the server runs as root")
                } else {
                    format!(
                        "the final stage ({from}) never sets `USER`: the server runs as root unless that base image sets a user of its own"
                    )
                },
                if known_base {
                    Confidence::High
                } else {
                    Confidence::Medium
                },
            )
        }
        Why::RootUser { written, value } => (
            if written == value {
                format!(
                    "the final stage switches to `USER {written}` last: the server runs as root"
                )
            } else {
                format!(
                    "the final stage switches to `USER {written}` (`{value}`) last: the server runs as root"
                )
            },
            Confidence::High,
        ),
    };
    Diagnostic::new(&CONTAINER_RUNS_AS_ROOT, &file.source, span, message)
        .with_help("Create an unprivileged user (`RUN useradd --system --uid 10001 mcp`) and end the final stage with `USER 10001:10001` before `CMD`/`ENTRYPOINT`.")
        .with_confidence(confidence)
}

/// One instruction: its keyword, its arguments with continuations joined, and the span of its
/// first line.
#[derive(Debug)]
struct Instruction {
    keyword: String,
    args: String,
    span: Span,
}

/// Splits a Dockerfile into instructions: comments dropped, line continuations joined (with the
/// `# escape=` directive's character), heredoc bodies skipped.
fn instructions(text: &str) -> Vec<Instruction> {
    let mut escape = '\\';
    let mut out = Vec::new();
    let mut offset = 0;
    let lines = text.split_inclusive('\n').map(|l| {
        let start = offset;
        offset += l.len();
        (start, l.trim_end_matches(['\n', '\r']))
    });
    let mut directives = true;
    let mut current: Option<Instruction> = None;
    let mut heredoc: Option<(String, bool)> = None;
    for (start, line) in lines {
        let trimmed = line.trim();
        if let Some((word, strip)) = &heredoc {
            let end = if *strip { trimmed } else { line };
            if end == word {
                heredoc = None;
            }
            continue;
        }
        if current.is_none() {
            if let Some(d) = trimmed.strip_prefix('#') {
                // Parser directives only count before any other line.
                match d.trim().strip_prefix("escape=") {
                    Some(v) if directives => escape = v.trim().chars().next().unwrap_or('\\'),
                    _ => directives = false,
                }
                continue;
            }
            directives = false;
            if trimmed.is_empty() {
                continue;
            }
        } else if trimmed.starts_with('#') || trimmed.is_empty() {
            // Comments and blank lines inside a continued instruction are dropped.
            continue;
        }
        let (body, continues) = match trimmed.strip_suffix(escape) {
            Some(b) => (b, true),
            None => (trimmed, false),
        };
        match current.as_mut() {
            None => {
                let (keyword, rest) = body.split_once(char::is_whitespace).unwrap_or((body, ""));
                let lead = line.len() - line.trim_start().len();
                current = Some(Instruction {
                    keyword: keyword.to_ascii_uppercase(),
                    args: rest.trim().to_string(),
                    span: Span::new(start + lead, start + line.trim_end().len()),
                });
            }
            Some(i) => {
                i.args.push(' ');
                i.args.push_str(body.trim());
            }
        }
        if !continues && let Some(i) = current.take() {
            heredoc = heredoc_word(&i.args);
            out.push(i);
        }
    }
    out.extend(current);
    out
}

/// `RUN <<EOF` / `<<-"EOF"`: the word that ends the heredoc, and whether tabs are stripped.
fn heredoc_word(args: &str) -> Option<(String, bool)> {
    let at = args.find("<<")?;
    let rest = &args[at + 2..];
    let (strip, rest) = match rest.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, rest),
    };
    let word: String = rest
        .trim_start_matches(['"', '\''])
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect();
    (!word.is_empty()).then_some((word, strip))
}

/// One build stage.
#[derive(Debug, Default)]
struct Stage<'a> {
    image: String,
    name: Option<String>,
    from: Option<&'a Instruction>,
    /// The last `USER` and its instruction.
    user: Option<&'a Instruction>,
    /// `ARG`/`ENV` defaults, for `USER $VAR`.
    vars: HashMap<String, String>,
    drops_privileges: bool,
}

fn stages(list: &[Instruction]) -> Vec<Stage<'_>> {
    let mut global: HashMap<String, String> = HashMap::new();
    let mut out: Vec<Stage<'_>> = Vec::new();
    for i in list {
        match i.keyword.as_str() {
            "FROM" => {
                let words: Vec<&str> = i
                    .args
                    .split_whitespace()
                    .filter(|w| !w.starts_with("--"))
                    .collect();
                let image = words.first().copied().unwrap_or("").to_string();
                let name = match words.as_slice() {
                    [_, kw, name, ..] if kw.eq_ignore_ascii_case("as") => {
                        Some(name.to_ascii_lowercase())
                    }
                    _ => None,
                };
                out.push(Stage {
                    image: substitute(&image, &global),
                    name,
                    from: Some(i),
                    ..Stage::default()
                });
            }
            "ARG" | "ENV" => {
                for (k, v) in assignments(&i.args) {
                    match out.last_mut() {
                        Some(stage) => {
                            let v = v.or_else(|| global.get(&k).cloned());
                            if let Some(v) = v {
                                stage.vars.insert(k, v);
                            }
                        }
                        None => {
                            if let Some(v) = v {
                                global.insert(k, v);
                            }
                        }
                    }
                }
            }
            "USER" => {
                if let Some(stage) = out.last_mut() {
                    stage.user = Some(i);
                }
            }
            "RUN" | "ENTRYPOINT" | "CMD" | "COPY" => {
                const DROPPERS: &[&str] = &[
                    "gosu",
                    "su-exec",
                    "setpriv",
                    "runuser",
                    "s6-setuidgid",
                    "chpst -u",
                ];
                // Installing or calling one of these means the entrypoint starts as root to
                // drop to another user, the pattern of the official database images.
                if let Some(stage) = out.last_mut()
                    && DROPPERS.iter().any(|d| i.args.contains(d))
                {
                    stage.drops_privileges = true;
                }
            }
            _ => {}
        }
    }
    out
}

/// `ARG A=1 B`, `ENV A=1 B=2`, and the old `ENV A 1`.
fn assignments(args: &str) -> Vec<(String, Option<String>)> {
    let args = args.trim();
    if !args.contains('=')
        && let Some((k, v)) = args.split_once(char::is_whitespace)
    {
        return vec![(k.to_string(), Some(unquote(v.trim()).to_string()))];
    }
    args.split_whitespace()
        .map(|w| match w.split_once('=') {
            Some((k, v)) => (k.to_string(), Some(unquote(v).to_string())),
            None => (w.to_string(), None),
        })
        .collect()
}

fn unquote(s: &str) -> &str {
    s.trim_matches(['"', '\''])
}

/// Replaces `$VAR`, `${VAR}` and `${VAR:-default}` with known values; unknown ones stay.
fn substitute(text: &str, vars: &HashMap<String, String>) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(at) = rest.find('$') {
        out.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        let (name, default, len) = if let Some(inner) = after.strip_prefix('{') {
            let Some(close) = inner.find('}') else {
                out.push_str(&rest[at..]);
                return out;
            };
            let body = &inner[..close];
            let (n, d) = match body.split_once(":-").or_else(|| body.split_once('-')) {
                Some((n, d)) => (n, Some(d)),
                None => (body, None),
            };
            (n, d, close + 2)
        } else {
            let n: &str = &after[..after
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(after.len())];
            (n, None, n.len())
        };
        match vars.get(name).map(String::as_str).or(default) {
            Some(v) => out.push_str(v),
            None => out.push_str(&rest[at..at + 1 + len]),
        }
        rest = &after[len..];
    }
    out.push_str(rest);
    out
}

/// `root`, `0`, with or without a group; Windows' `ContainerAdministrator`.
fn is_root(user: &str) -> bool {
    let name = user.split(':').next().unwrap_or(user).trim();
    name == "root" || name == "0" || name.eq_ignore_ascii_case("ContainerAdministrator")
}

/// Base images whose default user is not root.
fn non_root_base(image: &str) -> bool {
    let lower = image.to_ascii_lowercase();
    lower.contains("nonroot")
        || lower.contains("rootless")
        || lower.starts_with("cgr.dev/chainguard/")
        || lower.starts_with("bitnami/")
        || lower.starts_with("docker.io/bitnami/")
}

/// Official library images (`python`, `node:22-slim`, `docker.io/library/debian`) and `scratch`:
/// known to run as root unless told otherwise.
fn known_root_base(image: &str) -> bool {
    let repo = image.split(['@']).next().unwrap_or(image);
    let repo = repo
        .rsplit_once(':')
        .map_or(repo, |(r, tag)| if tag.contains('/') { repo } else { r });
    let repo = repo
        .strip_prefix("docker.io/library/")
        .or_else(|| repo.strip_prefix("library/"))
        .unwrap_or(repo);
    !repo.contains('/')
}

pub struct Rule;

impl super::SupplyRule for Rule {
    fn meta(&self) -> &'static RuleMeta {
        &CONTAINER_RUNS_AS_ROOT
    }

    fn check(&self, file: &SupplyFile, out: &mut Vec<Diagnostic>) {
        if file.kind != SupplyKind::Dockerfile {
            return;
        }
        let list = instructions(&file.source.text);
        let stages = stages(&list);
        let Some(last) = stages.last() else {
            return;
        };
        if last.drops_privileges {
            return;
        }
        // Follow `FROM earlier-stage` until a stage sets a user or a real image is reached.
        let mut stage = last;
        let mut hops = 0;
        let user = loop {
            if let Some(u) = stage.user {
                break Some((stage, u));
            }
            let Some(parent) = stages[..]
                .iter()
                .rev()
                .find(|s| s.name.as_deref() == Some(stage.image.to_ascii_lowercase().as_str()))
            else {
                break None;
            };
            hops += 1;
            if hops > stages.len() || std::ptr::eq(parent, stage) {
                break None;
            }
            stage = parent;
        };
        match user {
            Some((owner, u)) => {
                let value = substitute(u.args.trim(), &owner.vars);
                if value.contains('$') || !is_root(&value) {
                    return;
                }
                // A root `USER` inherited from an earlier stage is reported on the final `FROM`.
                let span = if std::ptr::eq(owner, last) {
                    u.span
                } else {
                    last.from.map_or(u.span, |f| f.span)
                };
                out.push(diagnostic(
                    file,
                    span,
                    Why::RootUser {
                        written: u.args.trim(),
                        value: value.clone(),
                    },
                ));
            }
            None => {
                if non_root_base(&stage.image) {
                    return;
                }
                let Some(from) = last.from else {
                    return;
                };
                out.push(diagnostic(
                    file,
                    from.span,
                    Why::NoUser {
                        image: &last.image,
                        base: (!std::ptr::eq(stage, last)).then_some(stage.image.as_str()),
                        known_base: known_root_base(&stage.image),
                    },
                ));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn continuations_comments_and_heredocs() {
        let text = "# escape=`\nFROM python:3.12 AS base\nRUN apt-get update `\n  # a comment\n  && apt-get install -y curl\nRUN <<EOF\nUSER root\nEOF\nUSER app\n";
        let list = instructions(text);
        let keywords: Vec<&str> = list.iter().map(|i| i.keyword.as_str()).collect();
        assert_eq!(keywords, ["FROM", "RUN", "RUN", "USER"]);
        assert_eq!(list[1].args, "apt-get update && apt-get install -y curl");
        assert_eq!(&text[list[3].span.range()], "USER app");
    }

    #[test]
    fn users_and_variables() {
        let vars = HashMap::from([("APP_USER".to_string(), "root".to_string())]);
        assert_eq!(substitute("${APP_USER}", &vars), "root");
        assert_eq!(substitute("$APP_USER:0", &vars), "root:0");
        assert_eq!(substitute("${OTHER:-1000}", &vars), "1000");
        assert_eq!(substitute("$OTHER", &vars), "$OTHER");
        for u in ["root", "0", "0:0", "root:root", "ContainerAdministrator"] {
            assert!(is_root(u), "{u}");
        }
        for u in ["1000", "app", "nobody", "10001:10001", "app:0"] {
            assert!(!is_root(u), "{u}");
        }
    }

    #[test]
    fn base_images() {
        assert!(known_root_base("python:3.12-slim"));
        assert!(known_root_base("docker.io/library/node:22"));
        assert!(known_root_base("scratch"));
        assert!(!known_root_base("ghcr.io/acme/base:1.2"));
        assert!(non_root_base("gcr.io/distroless/python3-debian12:nonroot"));
        assert!(non_root_base("cgr.dev/chainguard/python:latest"));
        assert!(!non_root_base("python:3.12"));
    }
}
