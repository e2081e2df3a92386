use std::collections::HashSet;
use std::sync::LazyLock;

use regex::Regex;

use crate::command::{Command, Launch, UV_VALUE_OPTIONS, Word};
use crate::declare_rule;
use crate::diagnostic::Diagnostic;
use crate::model::{ConfigFile, ServerEntry};
use crate::registry::RuleMeta;
use crate::span::Span;

declare_rule! {
    /// ## What it does
    /// Finds servers launched by a package runner that downloads the package at start without an
    /// exact version: `npx`, `npm exec`/`npm x`, `pnpm dlx`/`pnpx`, `yarn dlx`, `bunx`/`bun x`,
    /// `deno run`/`deno x`/`dx` (`npm:`/`jsr:` specifiers and remote `https://` modules), `uvx`
    /// and `uv tool run`, `pipx run`, `dnx` (.NET), and `go run pkg@version`. It looks through
    /// launchers and shells too (`cmd /c npx ...`, `bash -c "npx -y pkg"`, `env X=1 uvx pkg`).
    ///
    /// A spec is pinned when it names one exact release: `pkg@1.2.3`, `@scope/pkg@1.2.3-rc.1`,
    /// `pkg==1.2.3` or `pkg@1.2.3` for uv, `--spec pkg==1.2` for pipx, `Pkg@1.2.3` for dnx,
    /// `mod@v1.2.3` for Go, and a git or archive source pinned to a full commit sha (or, for
    /// Python archives, a `#sha256=` hash). No version, ranges (`^1`, `~1.2`, `1`, `1.x`, `>=1`)
    /// and tags (`latest`, `next`) are not. Local paths, `node server.js`, `python -m x`,
    /// `pnpm exec`/`yarn exec` (which run binaries already installed in the project) and
    /// `uv run` (which runs a local project) are not packages fetched at start and are ignored.
    /// `go run pkg` without `@version` is ignored too: it builds the version the current
    /// module's `go.mod` pins. A version given as a variable (`pkg@${VERSION}`) is not judged.
    ///
    /// ## Why is this bad?
    /// Without an exact version the runner fetches whatever the registry says is newest, at the
    /// next start and without asking: npx installs without a prompt when it has no terminal, as
    /// under an MCP client, and `npx -y` says yes for you. One compromised maintainer account or
    /// hijacked package is then enough to run new code with your permissions and everything the
    /// server can reach, as happened with MCP server packages that turned malicious in a later
    /// release. A pinned version changes only when you change it, after you had a chance to
    /// review it.
    ///
    /// ## Example
    /// ```json
    /// {
    ///   "mcpServers": {
    ///     "filesystem": {
    ///       "command": "npx",
    ///       "args": ["-y", "@modelcontextprotocol/server-filesystem", "/Users/me/projects"]
    ///     }
    ///   }
    /// }
    /// ```
    ///
    /// ## Use instead
    /// ```json
    /// {
    ///   "mcpServers": {
    ///     "filesystem": {
    ///       "command": "npx",
    ///       "args": ["-y", "@modelcontextprotocol/server-filesystem@2025.8.21", "/Users/me/projects"]
    ///     }
    ///   }
    /// }
    /// ```
    /// Update the version deliberately, after reading what changed.
    ///
    /// ## References
    /// - [CWE-1357: Reliance on Insufficiently Trustworthy Component](https://cwe.mitre.org/data/definitions/1357.html)
    /// - [CWE-829: Inclusion of Functionality from Untrusted Control Sphere](https://cwe.mitre.org/data/definitions/829.html)
    /// - [npm: npx](https://docs.npmjs.com/cli/commands/npx)
    /// - [uv: running tools, requesting specific versions](https://docs.astral.sh/uv/guides/tools/)
    /// - [NuGet: MCP servers in NuGet packages (`dnx`)](https://learn.microsoft.com/nuget/concepts/nuget-mcp)
    pub static UNPINNED_PACKAGE_IN_COMMAND = {
        code: "PC202",
        name: "unpinned-package-in-command",
        summary: "A server is launched from a package runner without an exact package version",
        severity: Medium,
        confidence: High,
        cwe: [1357, 829],
        target: Config,
    }
}

fn diagnostic(server: &ServerEntry, file: &ConfigFile, found: &Found) -> Diagnostic {
    let spec = &found.spec;
    let runner = &found.runner;
    let message = match &found.why {
        Why::RemoteModule => format!(
            "server `{}` runs remote code `{spec}` through `{runner}` without an exact version",
            server.name.value
        ),
        why => format!(
            "server `{}` runs `{spec}` through `{runner}` without an exact version{}",
            server.name.value,
            match why {
                Why::Range(r) => format!(" (`{r}` is a range)"),
                Why::Tag(t) => format!(" (`{t}` is a tag that moves)"),
                Why::GitRef => " (a git source not pinned to a commit)".to_string(),
                Why::Url => " (a download URL with no version or hash)".to_string(),
                Why::NoVersion | Why::RemoteModule => String::new(),
            }
        ),
    };
    let name = &found.name;
    let pin = match (found.ecosystem, &found.why) {
        (_, Why::GitRef) => "Pin a full commit sha (40 hex digits) instead of a branch or tag, or use a released version.".to_string(),
        (Ecosystem::Python, Why::Url) => "Add the archive's hash (`#sha256=...`) or install a released version with `==`.".to_string(),
        (_, Why::Url) => "Install a released version with an exact version instead of a download URL.".to_string(),
        (Ecosystem::Deno, Why::RemoteModule) => "Import a URL that names an exact version (`...@1.2.3/...`) and run with a lockfile (`--lock --frozen`), so the code cannot change under you.".to_string(),
        (Ecosystem::Npm, _) => format!("Pin an exact version, e.g. `{name}@1.2.3`, and update it deliberately."),
        (Ecosystem::Deno, _) => format!("Pin an exact version, e.g. `{name}@1.2.3`, and update it deliberately."),
        (Ecosystem::Python, _) if runner == "pipx run" => format!("Pin an exact version, e.g. `--spec {name}==1.2.3`, and update it deliberately."),
        (Ecosystem::Python, _) => format!("Pin an exact version, e.g. `{name}==1.2.3` (uv also accepts `{name}@1.2.3`), and update it deliberately."),
        (Ecosystem::Go, _) => format!("Pin an exact version, e.g. `{name}@v1.2.3`, and update it deliberately."),
        (Ecosystem::NuGet, _) => format!("Pin an exact version, e.g. `{name}@1.2.3`, and update it deliberately."),
    };
    let prompt = match runner.as_str() {
        "npx" | "npm exec" => {
            " Note that `npx -y` (and npx without a terminal, as under an MCP client) also skips the install prompt, so a new release runs without anyone seeing it."
        }
        "dnx" | "dotnet tool exec" | "dotnet dnx" if found.yes => {
            " `--yes` also skips the download prompt, so a new release runs without anyone seeing it."
        }
        _ => "",
    };
    Diagnostic::new(
        &UNPINNED_PACKAGE_IN_COMMAND,
        &file.source,
        found.span,
        message,
    )
    .with_help(format!("{pin}{prompt}"))
    .with_server(&server.name.value)
}

/// The package ecosystems whose version syntax differs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ecosystem {
    Npm,
    Deno,
    Python,
    Go,
    NuGet,
}

/// Why a spec is not pinned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Why {
    NoVersion,
    Range(String),
    Tag(String),
    GitRef,
    Url,
    RemoteModule,
}

/// A package spec that a runner fetches unpinned.
#[derive(Debug)]
struct Found {
    spec: String,
    span: Span,
    runner: String,
    ecosystem: Ecosystem,
    /// The package name without its version, for the help.
    name: String,
    why: Why,
    /// `--yes`/`-y` was given.
    yes: bool,
}

/// A spec a runner was asked to fetch.
struct Candidate<'a> {
    word: &'a Word,
    /// The spec within the word (after `--package=`).
    spec: &'a str,
    runner: String,
    ecosystem: Ecosystem,
    yes: bool,
    /// dnx's separate `--version` option.
    version: Option<&'a str>,
}

fn candidate<'a>(
    word: &'a Word,
    spec: &'a str,
    runner: &str,
    ecosystem: Ecosystem,
    yes: bool,
) -> Candidate<'a> {
    Candidate {
        word,
        spec,
        runner: runner.to_string(),
        ecosystem,
        yes,
        version: None,
    }
}

/// The first positional argument of a sub-command, skipping options before it.
fn subcommand(args: &[Word]) -> Option<(usize, &str)> {
    args.iter()
        .enumerate()
        .find(|(_, w)| !w.value.starts_with('-'))
        .map(|(i, w)| (i, w.value.as_str()))
}

/// The specs a command would fetch.
fn candidates(command: &Command) -> Vec<Candidate<'_>> {
    let args = command.args();
    let rest = |i: usize| args.get(i + 1..).unwrap_or(&[]);
    match command.program.as_str() {
        "npx" => npm_runner(args, "npx"),
        "pnpx" => npm_runner(args, "pnpx"),
        "bunx" => npm_runner(args, "bunx"),
        "npm" => match subcommand(args) {
            Some((i, "exec" | "x")) => npm_runner(rest(i), "npm exec"),
            _ => Vec::new(),
        },
        "pnpm" => match subcommand(args) {
            Some((i, "dlx")) => npm_runner(rest(i), "pnpm dlx"),
            _ => Vec::new(),
        },
        "yarn" => match subcommand(args) {
            Some((i, "dlx")) => npm_runner(rest(i), "yarn dlx"),
            _ => Vec::new(),
        },
        "bun" => match subcommand(args) {
            Some((i, "x")) => npm_runner(rest(i), "bun x"),
            _ => Vec::new(),
        },
        "deno" => match subcommand(args) {
            Some((i, "run")) => deno_runner(rest(i), "deno run", false),
            Some((i, "x")) => deno_runner(rest(i), "deno x", true),
            _ => Vec::new(),
        },
        "dx" => deno_runner(args, "dx", true),
        "uvx" => uv_runner(args, "uvx"),
        "uv" => match args {
            [tool, run, rest @ ..] if tool.value == "tool" && run.value == "run" => {
                uv_runner(rest, "uv tool run")
            }
            _ => Vec::new(),
        },
        "pipx" => match subcommand(args) {
            Some((i, "run")) => pipx_runner(rest(i)),
            _ => Vec::new(),
        },
        "dnx" => nuget_runner(args, "dnx"),
        "dotnet" => match args {
            [dnx, rest @ ..] if dnx.value == "dnx" => nuget_runner(rest, "dotnet dnx"),
            [tool, exec, rest @ ..] if tool.value == "tool" && exec.value == "exec" => {
                nuget_runner(rest, "dotnet tool exec")
            }
            _ => Vec::new(),
        },
        "go" => match subcommand(args) {
            Some((i, "run")) => go_runner(rest(i)),
            _ => Vec::new(),
        },
        _ => Vec::new(),
    }
}

/// npx, npm exec, pnpm dlx, yarn dlx, bunx: options, `--package`/`-p` specs, then the package
/// (or, with `--package`, the command to run from it).
fn npm_runner<'a>(args: &'a [Word], runner: &str) -> Vec<Candidate<'a>> {
    const VALUE_OPTIONS: &[&str] = &[
        "--registry",
        "--cache",
        "--userconfig",
        "--loglevel",
        "-w",
        "--workspace",
        "--prefix",
        "--node-options",
        "--shell",
        "--script-shell",
        "--reporter",
        "--dir",
        "-C",
    ];
    let yes = args
        .iter()
        .any(|w| matches!(w.value.as_str(), "-y" | "--yes"));
    let mut out = Vec::new();
    let mut i = 0;
    while let Some(word) = args.get(i) {
        let a = word.value.as_str();
        if a == "--" {
            i += 1;
            break;
        }
        if matches!(a, "-p" | "--package") {
            if let Some(spec) = args.get(i + 1) {
                out.push(candidate(spec, &spec.value, runner, Ecosystem::Npm, yes));
            }
            i += 2;
            continue;
        }
        if let Some(spec) = a.strip_prefix("--package=") {
            out.push(candidate(word, spec, runner, Ecosystem::Npm, yes));
            i += 1;
            continue;
        }
        if matches!(a, "-c" | "--call") {
            // The command string runs binaries of the `--package` specs; nothing else to pin.
            return out;
        }
        if a.starts_with('-') {
            i += if VALUE_OPTIONS.contains(&a) { 2 } else { 1 };
            continue;
        }
        break;
    }
    if out.is_empty()
        && let Some(word) = args.get(i)
    {
        out.push(candidate(word, &word.value, runner, Ecosystem::Npm, yes));
    }
    out
}

/// deno run / deno x / dx: permission and config flags, then the module or package.
fn deno_runner<'a>(args: &'a [Word], runner: &str, package_runner: bool) -> Vec<Candidate<'a>> {
    const VALUE_OPTIONS: &[&str] = &[
        "-c",
        "--config",
        "--import-map",
        "--cert",
        "--location",
        "--seed",
        "--ext",
        "--preload",
    ];
    let mut i = 0;
    while let Some(word) = args.get(i) {
        let a = word.value.as_str();
        if a == "--" {
            i += 1;
            break;
        }
        if !a.starts_with('-') {
            break;
        }
        i += if VALUE_OPTIONS.contains(&a) { 2 } else { 1 };
    }
    let Some(word) = args.get(i) else {
        return Vec::new();
    };
    // `deno run` reads a bare name as a local file; `deno x` as an npm package.
    let local = !package_runner
        && !word.value.starts_with("npm:")
        && !word.value.starts_with("jsr:")
        && !is_url(&word.value);
    if local {
        return Vec::new();
    }
    vec![candidate(word, &word.value, runner, Ecosystem::Deno, false)]
}

/// uvx / uv tool run: `--from` and `--with` specs, then the command (the package itself when
/// there is no `--from`).
fn uv_runner<'a>(args: &'a [Word], runner: &str) -> Vec<Candidate<'a>> {
    let mut out = Vec::new();
    let mut from = false;
    let mut i = 0;
    while let Some(word) = args.get(i) {
        let a = word.value.as_str();
        if a == "--" {
            i += 1;
            break;
        }
        let option = |name: &str| a.strip_prefix(name).and_then(|rest| rest.strip_prefix('='));
        if matches!(a, "--from" | "--with" | "-w") {
            from |= a == "--from";
            if let Some(spec) = args.get(i + 1) {
                out.push(candidate(
                    spec,
                    &spec.value,
                    runner,
                    Ecosystem::Python,
                    false,
                ));
            }
            i += 2;
            continue;
        }
        if let Some(spec) = option("--from").or_else(|| option("--with")) {
            from |= a.starts_with("--from");
            out.push(candidate(word, spec, runner, Ecosystem::Python, false));
            i += 1;
            continue;
        }
        if a.starts_with('-') {
            i += if UV_VALUE_OPTIONS.contains(&a) { 2 } else { 1 };
            continue;
        }
        break;
    }
    if !from
        && let Some(word) = args.get(i)
        && !is_python_request(&word.value)
    {
        out.push(candidate(
            word,
            &word.value,
            runner,
            Ecosystem::Python,
            false,
        ));
    }
    out
}

/// `uvx python@3.12` runs an interpreter, not a package.
fn is_python_request(spec: &str) -> bool {
    let name = spec.split(['@', '=', '<', '>', '~']).next().unwrap_or(spec);
    crate::command::is_python(&name.to_ascii_lowercase()) || name.eq_ignore_ascii_case("graalpy")
}

/// pipx run: `--spec` names the package; otherwise the app argument is the spec.
fn pipx_runner(args: &[Word]) -> Vec<Candidate<'_>> {
    const VALUE_OPTIONS: &[&str] = &["--python", "--pip-args", "--index-url", "-i", "--backend"];
    let mut i = 0;
    while let Some(word) = args.get(i) {
        let a = word.value.as_str();
        if a == "--spec" {
            return args
                .get(i + 1)
                .map(|spec| candidate(spec, &spec.value, "pipx run", Ecosystem::Python, false))
                .into_iter()
                .collect();
        }
        if let Some(spec) = a.strip_prefix("--spec=") {
            return vec![candidate(word, spec, "pipx run", Ecosystem::Python, false)];
        }
        if a == "--" {
            i += 1;
            break;
        }
        if !a.starts_with('-') {
            break;
        }
        i += if VALUE_OPTIONS.contains(&a) { 2 } else { 1 };
    }
    args.get(i)
        .map(|w| candidate(w, &w.value, "pipx run", Ecosystem::Python, false))
        .into_iter()
        .collect()
}

/// dnx / dotnet tool exec: the package, with `@version` or `--version`; options may follow it.
fn nuget_runner<'a>(args: &'a [Word], runner: &str) -> Vec<Candidate<'a>> {
    const VALUE_OPTIONS: &[&str] = &[
        "--version",
        "--source",
        "--add-source",
        "--configfile",
        "--verbosity",
        "-v",
        "--framework",
        "-f",
    ];
    let mut package = None;
    let mut version = None;
    let mut yes = false;
    let mut i = 0;
    while let Some(word) = args.get(i) {
        let a = word.value.as_str();
        if a == "--" {
            break;
        }
        if matches!(a, "-y" | "--yes") {
            yes = true;
        }
        if a == "--version" {
            version = args.get(i + 1).map(|w| w.value.as_str());
        }
        if a.starts_with('-') {
            i += if VALUE_OPTIONS.contains(&a) { 2 } else { 1 };
            continue;
        }
        if package.is_none() {
            package = Some(word);
        }
        i += 1;
    }
    package
        .map(|word| Candidate {
            version,
            ..candidate(word, &word.value, runner, Ecosystem::NuGet, yes)
        })
        .into_iter()
        .collect()
}

/// go run: build flags, then the package (`pkg@version`).
fn go_runner(args: &[Word]) -> Vec<Candidate<'_>> {
    const VALUE_OPTIONS: &[&str] = &[
        "-C",
        "-tags",
        "-ldflags",
        "-gcflags",
        "-asmflags",
        "-exec",
        "-mod",
        "-modfile",
        "-overlay",
        "-pkgdir",
        "-p",
        "-toolexec",
    ];
    let mut i = 0;
    while let Some(word) = args.get(i) {
        let a = word.value.as_str();
        if !a.starts_with('-') {
            return vec![candidate(word, &word.value, "go run", Ecosystem::Go, false)];
        }
        i += if VALUE_OPTIONS.contains(&a) { 2 } else { 1 };
    }
    Vec::new()
}

// ---------------------------------------------------------------------------------------------
// Judging specs.

static EXACT_SEMVER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^[=v]?\d+\.\d+\.\d+(?:-[0-9A-Za-z.\-]+)?(?:\+[0-9A-Za-z.\-]+)?$")
        .expect("static regex")
});
static EXACT_GO: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^v\d+\.\d+\.\d+(?:-[0-9A-Za-z.\-]+)?(?:\+incompatible)?$").expect("static regex")
});
static EXACT_NUGET: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^\[?\d+(?:\.\d+){1,3}(?:-[0-9A-Za-z.\-]+)?\]?$").expect("static regex")
});
static EXACT_PEP440: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^v?\d+(?:\.\d+)*(?:(?:a|b|rc|\.post|\.dev)\d*)*(?:\+[0-9A-Za-z.]+)?$")
        .expect("static regex")
});
/// A version in a URL path (`/pkg@1.2.3/`, `/v1.2.3/`).
static URL_VERSION: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"[@/]v?\d+\.\d+\.\d+(?:-[0-9A-Za-z.\-]+)?(?:/|$)").expect("static regex")
});

fn is_sha(text: &str) -> bool {
    text.len() == 40 && text.bytes().all(|b| b.is_ascii_hexdigit())
}

fn is_url(text: &str) -> bool {
    text.starts_with("https://") || text.starts_with("http://")
}

/// A path on this machine rather than a package name.
pub(super) fn is_local(spec: &str) -> bool {
    let b = spec.as_bytes();
    spec.starts_with(['.', '/', '~', '\\'])
        || spec.starts_with("file:")
        || (b.len() >= 3
            && b[0].is_ascii_alphabetic()
            && b[1] == b':'
            && matches!(b[2], b'\\' | b'/'))
}

/// A value the client or shell fills in; its version cannot be judged.
fn is_templated(spec: &str) -> bool {
    spec.contains('$') || spec.contains("{env:") || spec.contains('%')
}

fn version_kind(version: &str) -> Why {
    let tag = version.starts_with(|c: char| c.is_ascii_alphabetic())
        && !(version.starts_with('v') && version[1..].starts_with(|c: char| c.is_ascii_digit()));
    if version.is_empty() {
        Why::NoVersion
    } else if tag {
        Why::Tag(version.to_string())
    } else {
        Why::Range(version.to_string())
    }
}

/// The name and version of `name@version` (scoped names keep their leading `@`).
fn split_at_version(spec: &str) -> (&str, Option<&str>) {
    let search_from = usize::from(spec.starts_with('@'));
    match spec[search_from..].find('@') {
        Some(at) => (
            &spec[..search_from + at],
            Some(&spec[search_from + at + 1..]),
        ),
        None => (spec, None),
    }
}

/// A git source: pinned only by a full commit sha after `#` (npm) or `@` (pip/uv).
fn git_spec(spec: &str) -> Option<Why> {
    let reference = spec.rsplit_once('#').map(|(_, r)| r).or_else(|| {
        let path = spec.split_once("://").map_or(spec, |(_, p)| p);
        let path = path.split_once('/').map_or("", |(_, p)| p);
        path.rsplit_once('@').map(|(_, r)| r)
    });
    let reference = reference.map(|r| r.split(['#', '&']).next().unwrap_or(r));
    let reference = reference.map(|r| r.trim_start_matches("commit="));
    (!reference.is_some_and(is_sha)).then_some(Why::GitRef)
}

fn is_git(spec: &str) -> bool {
    [
        "git+",
        "git://",
        "git@",
        "github:",
        "gitlab:",
        "bitbucket:",
        "gist:",
    ]
    .iter()
    .any(|p| spec.starts_with(p))
}

/// Judges an npm spec: `None` when pinned or not a registry package.
pub(super) fn npm_spec(spec: &str) -> Option<(String, Why)> {
    let spec = spec.strip_prefix("npm:").unwrap_or(spec);
    if spec.is_empty() || is_local(spec) || is_templated(spec) {
        return None;
    }
    if is_git(spec) {
        return git_spec(spec).map(|why| (spec.to_string(), why));
    }
    if is_url(spec) {
        return (!spec.split('/').any(is_sha)).then(|| (spec.to_string(), Why::Url));
    }
    // `user/repo` is GitHub shorthand to npm.
    if !spec.starts_with('@') && spec.contains('/') {
        return git_spec(spec).map(|why| (spec.to_string(), why));
    }
    let (name, version) = split_at_version(spec);
    match version {
        Some(v) if EXACT_SEMVER.is_match(v) => None,
        Some(v) => Some((name.to_string(), version_kind(v))),
        None => Some((name.to_string(), Why::NoVersion)),
    }
}

/// Judges a Deno specifier: `npm:`/`jsr:` packages, remote modules, bare npm names (`deno x`).
fn deno_spec(spec: &str) -> Option<(String, Why)> {
    if is_templated(spec) || is_local(spec) {
        return None;
    }
    if is_url(spec) {
        return (!URL_VERSION.is_match(spec)).then(|| (spec.to_string(), Why::RemoteModule));
    }
    let (prefix, rest) = match spec.split_once(':') {
        Some((p @ ("npm" | "jsr"), rest)) => (p, rest),
        _ => ("npm", spec),
    };
    // Drop a sub-path: `@scope/pkg@1.2.3/bin/cli`.
    let (name, version) = split_at_version(rest);
    let version = version.map(|v| v.split('/').next().unwrap_or(v));
    let name = format!("{prefix}:{name}");
    match version {
        Some(v) if EXACT_SEMVER.is_match(v) => None,
        Some(v) => Some((name, version_kind(v))),
        None => Some((name, Why::NoVersion)),
    }
}

/// Judges a Python requirement as uv and pipx read it.
pub(super) fn python_spec(spec: &str) -> Option<(String, Why)> {
    let spec = spec.trim();
    if spec.is_empty() || is_local(spec) || is_templated(spec) {
        return None;
    }
    // `name @ https://...` direct references are judged by their URL.
    let source = spec.split_once(" @ ").map_or(spec, |(_, url)| url.trim());
    if source.starts_with("git+") {
        return git_spec(source).map(|why| (spec.to_string(), why));
    }
    if is_url(source) {
        return (!source.contains("#sha256=")).then(|| (spec.to_string(), Why::Url));
    }
    let name_end = spec
        .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')))
        .unwrap_or(spec.len());
    let name = &spec[..name_end];
    if name.is_empty() {
        return None;
    }
    let mut rest = &spec[name_end..];
    if rest.starts_with('[') {
        rest = rest.find(']').map_or("", |end| &rest[end + 1..]);
    }
    let rest = rest.trim();
    let why = if rest.is_empty() {
        Why::NoVersion
    } else if let Some(v) = rest.strip_prefix('@') {
        // uv's `name@version` takes exact versions only, and `latest`.
        if EXACT_PEP440.is_match(v) {
            return None;
        }
        version_kind(v)
    } else if rest.starts_with("===") {
        return None;
    } else if let Some(v) = rest.strip_prefix("==") {
        let v = v.trim();
        if !v.contains(['*', ',', ';']) && EXACT_PEP440.is_match(v) {
            return None;
        }
        Why::Range(rest.to_string())
    } else {
        Why::Range(rest.to_string())
    };
    Some((name.to_string(), why))
}

/// Judges `go run pkg@version`; without `@version` the main module's go.mod decides.
pub(super) fn go_spec(spec: &str) -> Option<(String, Why)> {
    if is_local(spec) || is_templated(spec) || spec.ends_with(".go") {
        return None;
    }
    let (name, version) = spec.rsplit_once('@')?;
    if EXACT_GO.is_match(version) || is_sha(version) {
        return None;
    }
    let why = if version.starts_with('v') && version[1..].starts_with(|c: char| c.is_ascii_digit())
    {
        Why::Range(version.to_string())
    } else {
        version_kind(version)
    };
    Some((name.to_string(), why))
}

/// Judges a NuGet package for dnx: `Pkg@1.2.3` or `Pkg --version 1.2.3`.
fn nuget_spec(spec: &str, version_option: Option<&str>) -> Option<(String, Why)> {
    if is_local(spec) || is_templated(spec) || spec.ends_with(".nupkg") {
        return None;
    }
    let (name, version) = match spec.split_once('@') {
        Some((name, v)) => (name, Some(v)),
        None => (spec, version_option),
    };
    match version {
        Some(v) if is_templated(v) || EXACT_NUGET.is_match(v) => None,
        Some(v) => Some((name.to_string(), version_kind(v))),
        None => Some((name.to_string(), Why::NoVersion)),
    }
}

fn judge(c: &Candidate<'_>) -> Option<Found> {
    let (name, why) = match c.ecosystem {
        Ecosystem::Npm => npm_spec(c.spec),
        Ecosystem::Deno => deno_spec(c.spec),
        Ecosystem::Python => python_spec(c.spec),
        Ecosystem::Go => go_spec(c.spec),
        Ecosystem::NuGet => nuget_spec(c.spec, c.version),
    }?;
    Some(Found {
        spec: c.spec.to_string(),
        span: c.word.span,
        runner: c.runner.clone(),
        ecosystem: c.ecosystem,
        name,
        why,
        yes: c.yes,
    })
}

pub struct Rule;

impl super::ConfigRule for Rule {
    fn meta(&self) -> &'static RuleMeta {
        &UNPINNED_PACKAGE_IN_COMMAND
    }

    fn check_file(&self, file: &ConfigFile, out: &mut Vec<Diagnostic>) {
        for server in file.servers.iter().filter(|s| s.enabled) {
            let Some(launch) = Launch::of(server, &file.source.text) else {
                continue;
            };
            let mut seen = HashSet::new();
            for command in launch.commands() {
                for found in candidates(command).iter().filter_map(judge) {
                    if seen.insert(found.span) {
                        out.push(diagnostic(server, file, &found));
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn why(f: fn(&str) -> Option<(String, Why)>, spec: &str) -> Option<Why> {
        f(spec).map(|(_, why)| why)
    }

    #[test]
    fn npm_specs() {
        for pinned in [
            "pkg@1.2.3",
            "@scope/pkg@1.2.3",
            "@scope/pkg@1.2.3-rc.1",
            "pkg@v1.2.3",
            "github:user/repo#0123456789abcdef0123456789abcdef01234567",
            "git+https://github.com/u/r.git#0123456789abcdef0123456789abcdef01234567",
            "./server.js",
            "/opt/x",
            "C:\\tools\\x",
            "pkg@${VERSION}",
        ] {
            assert_eq!(why(npm_spec, pinned), None, "{pinned}");
        }
        assert_eq!(why(npm_spec, "pkg"), Some(Why::NoVersion));
        assert_eq!(why(npm_spec, "@scope/pkg"), Some(Why::NoVersion));
        assert_eq!(why(npm_spec, "pkg@"), Some(Why::NoVersion));
        for range in [
            "pkg@^1",
            "pkg@~1.2",
            "pkg@1",
            "pkg@1.x",
            "pkg@*",
            "pkg@>=1.0.0",
        ] {
            assert!(
                matches!(why(npm_spec, range), Some(Why::Range(_))),
                "{range}"
            );
        }
        for tag in ["pkg@latest", "@s/p@next", "pkg@beta"] {
            assert!(matches!(why(npm_spec, tag), Some(Why::Tag(_))), "{tag}");
        }
        for git in [
            "github:user/repo",
            "user/repo",
            "git+https://x/y.git#v1.2.3",
            "github:u/r#main",
        ] {
            assert_eq!(why(npm_spec, git), Some(Why::GitRef), "{git}");
        }
        assert_eq!(why(npm_spec, "https://x.example/pkg.tgz"), Some(Why::Url));
        assert_eq!(npm_spec("@scope/pkg@^2").unwrap().0, "@scope/pkg");
    }

    #[test]
    fn python_specs() {
        for pinned in [
            "pkg==1.2.3",
            "pkg==1.2",
            "pkg[extra]==1.2.3",
            "pkg@1.2.3",
            "pkg===1.0",
            "pkg==1.0rc1",
            "git+https://github.com/u/r@0123456789abcdef0123456789abcdef01234567",
            "https://x.example/pkg-1.0.tar.gz#sha256=abc",
            ".",
            "./tools/server",
        ] {
            assert_eq!(why(python_spec, pinned), None, "{pinned}");
        }
        assert_eq!(why(python_spec, "mcp-server-fetch"), Some(Why::NoVersion));
        assert_eq!(why(python_spec, "pkg[cli]"), Some(Why::NoVersion));
        assert!(matches!(why(python_spec, "pkg>=1"), Some(Why::Range(_))));
        assert!(matches!(why(python_spec, "pkg==1.*"), Some(Why::Range(_))));
        assert!(matches!(why(python_spec, "pkg~=1.2"), Some(Why::Range(_))));
        assert!(matches!(why(python_spec, "pkg@latest"), Some(Why::Tag(_))));
        assert_eq!(
            why(python_spec, "git+https://github.com/u/r"),
            Some(Why::GitRef)
        );
        assert_eq!(
            why(python_spec, "git+https://github.com/u/r@main"),
            Some(Why::GitRef)
        );
        assert_eq!(
            why(python_spec, "git+ssh://git@github.com/u/r"),
            Some(Why::GitRef)
        );
        assert_eq!(
            why(python_spec, "https://x.example/script.py"),
            Some(Why::Url)
        );
    }

    #[test]
    fn go_nuget_and_deno_specs() {
        assert_eq!(why(go_spec, "golang.org/x/tools/gopls@v0.16.1"), None);
        assert_eq!(
            why(
                go_spec,
                "example.com/cmd@v0.0.0-20240101000000-abcdef123456"
            ),
            None
        );
        assert_eq!(why(go_spec, "example.com/cmd"), None);
        assert_eq!(why(go_spec, "./cmd/server"), None);
        assert!(matches!(
            why(go_spec, "example.com/cmd@latest"),
            Some(Why::Tag(_))
        ));
        assert!(matches!(
            why(go_spec, "example.com/cmd@v1"),
            Some(Why::Range(_))
        ));

        assert_eq!(nuget_spec("NuGet.Mcp.Server@1.1.1", None), None);
        assert_eq!(nuget_spec("Pkg", Some("2.0.0")), None);
        assert_eq!(nuget_spec("Pkg", None).unwrap().1, Why::NoVersion);
        assert!(matches!(
            nuget_spec("Pkg@*", None).unwrap().1,
            Why::Range(_)
        ));

        assert_eq!(why(deno_spec, "npm:@scope/pkg@1.2.3/bin/cli"), None);
        assert_eq!(why(deno_spec, "jsr:@std/http@1.0.0"), None);
        assert_eq!(
            why(deno_spec, "https://deno.land/x/mod@v1.2.3/mod.ts"),
            None
        );
        assert_eq!(why(deno_spec, "jsr:@std/http").unwrap(), Why::NoVersion);
        assert_eq!(deno_spec("jsr:@std/http").unwrap().0, "jsr:@std/http");
        assert_eq!(deno_spec("cowsay").unwrap().0, "npm:cowsay");
        assert_eq!(
            why(deno_spec, "https://example.com/server.ts"),
            Some(Why::RemoteModule)
        );
    }

    fn words(values: &[&str]) -> Vec<Word> {
        values
            .iter()
            .enumerate()
            .map(|(i, v)| Word {
                value: v.to_string(),
                span: Span::new(i, i + 1),
            })
            .collect()
    }

    fn specs(f: fn(&[Word]) -> Vec<Candidate<'_>>, values: &[&str]) -> Vec<String> {
        let w = words(values);
        f(&w).iter().map(|c| c.spec.to_string()).collect()
    }

    #[test]
    fn runner_arguments() {
        fn npx(a: &[Word]) -> Vec<Candidate<'_>> {
            npm_runner(a, "npx")
        }
        assert_eq!(specs(npx, &["-y", "--quiet", "pkg", "--flag"]), ["pkg"]);
        assert_eq!(specs(npx, &["--registry", "https://r", "pkg"]), ["pkg"]);
        assert_eq!(
            specs(npx, &["-p", "a@1", "--package=b", "cmd"]),
            ["a@1", "b"]
        );
        assert_eq!(specs(npx, &["--prefer-offline", "--", "pkg"]), ["pkg"]);
        assert!(specs(npx, &["-y"]).is_empty());
        fn uvx(a: &[Word]) -> Vec<Candidate<'_>> {
            uv_runner(a, "uvx")
        }
        assert_eq!(specs(uvx, &["--python", "3.12", "pkg"]), ["pkg"]);
        assert_eq!(specs(uvx, &["--from", "a==1", "cmd"]), ["a==1"]);
        assert_eq!(specs(uvx, &["--with", "x", "pkg"]), ["x", "pkg"]);
        assert!(specs(uvx, &["python@3.12"]).is_empty());
        assert_eq!(specs(pipx_runner, &["--spec", "a==1.2", "cmd"]), ["a==1.2"]);
        assert_eq!(
            specs(pipx_runner, &["--python", "3.12", "black"]),
            ["black"]
        );
        assert_eq!(
            specs(go_runner, &["-tags", "x", "mod@latest", "arg"]),
            ["mod@latest"]
        );
        fn dnx(a: &[Word]) -> Vec<Candidate<'_>> {
            nuget_runner(a, "dnx")
        }
        assert_eq!(specs(dnx, &["Pkg@1.0.0", "--yes"]), ["Pkg@1.0.0"]);
        fn deno(a: &[Word]) -> Vec<Candidate<'_>> {
            deno_runner(a, "deno run", false)
        }
        assert_eq!(
            specs(deno, &["-A", "--config", "x.json", "jsr:@a/b"]),
            ["jsr:@a/b"]
        );
        assert!(specs(deno, &["-A", "main.ts"]).is_empty());
    }
}
