use std::sync::LazyLock;

use regex::Regex;

use super::unpinned_package_in_command::{go_spec, is_local, npm_spec, python_spec};
use crate::command::{Command, Joiner, Launch, Script, Syntax, Word, is_posix_shell, is_python};
use crate::declare_rule;
use crate::diagnostic::Diagnostic;
use crate::model::{ConfigFile, ServerEntry};
use crate::registry::{RuleMeta, Severity};
use crate::span::Span;

declare_rule! {
    /// ## What it does
    /// Finds launch lines that fetch code from the network and run or install it every time the
    /// server starts:
    /// - a download piped into an interpreter: `curl ... | sh`, `wget -qO- ... | bash`,
    ///   `irm ... | iex`, `Invoke-WebRequest ... | Invoke-Expression`;
    /// - a download run through a substitution: `bash <(curl ...)`, `sh -c "$(curl ...)"`,
    ///   `iex (irm ...)`, `iex ((New-Object Net.WebClient).DownloadString(...))`;
    /// - a download saved to a file and then run or unpacked and run (`curl -o x.sh ... && sh
    ///   x.sh`, `curl ... | tar xz && ./bin/server`);
    /// - a package install inside the launch command: `npm install -g`, `pnpm add`, `yarn
    ///   global add`, `bun add`, `pip install`, `python -m pip install`, `uv pip install`,
    ///   `uv tool install`, `pipx install`, `go install`, `cargo install`, `gem install`,
    ///   `dotnet tool install`, `brew`/`apt-get`/`apk` installs;
    /// - a `git clone` or `git pull` followed by more commands, without a checkout of a full
    ///   commit sha.
    ///
    /// It looks inside shell strings (`bash -c`, `cmd /c`, `powershell -Command` and
    /// `-EncodedCommand`) and through launchers. Installs of local paths (`pip install -e .`,
    /// `cargo install --path .`), of a requirements file, and a bare `npm install`/`npm ci` of
    /// the project's own lockfile are not reported. An install pinned to exact versions is
    /// reported at medium severity instead of high.
    ///
    /// ## Why is this bad?
    /// Whatever the URL, registry or branch serves at that moment runs with your permissions,
    /// at every start, with no integrity check and nobody looking: a compromised host, a
    /// hijacked package or a force-pushed branch becomes code execution on every machine that
    /// uses the config. A piped script is also gone after it runs, so there is nothing to
    /// review afterwards. Installing on every start adds the package's install scripts
    /// (`postinstall`, `setup.py`) to what runs, often globally.
    ///
    /// ## Example
    /// ```json
    /// {
    ///   "mcpServers": {
    ///     "acme": {
    ///       "command": "bash",
    ///       "args": ["-c", "curl -fsSL https://get.acme.example/install.sh | sh && acme-mcp --stdio"]
    ///     }
    ///   }
    /// }
    /// ```
    ///
    /// ## Use instead
    /// ```json
    /// {
    ///   "mcpServers": {
    ///     "acme": {
    ///       "command": "/opt/acme/bin/acme-mcp",
    ///       "args": ["--stdio"]
    ///     }
    ///   }
    /// }
    /// ```
    /// Install the server once, from a release you have checked (an exact package version, or a
    /// download verified against its published checksum), and launch the installed program.
    ///
    /// ## References
    /// - [CWE-494: Download of Code Without Integrity Check](https://cwe.mitre.org/data/definitions/494.html)
    /// - [MCP Security Best Practices: local MCP server compromise](https://modelcontextprotocol.io/docs/tutorials/security/security_best_practices)
    pub static DOWNLOAD_AND_RUN_IN_COMMAND = {
        code: "PC204",
        name: "download-and-run-in-command",
        summary: "A server's launch command downloads code and runs or installs it at every start",
        severity: High,
        confidence: High,
        cwe: [494],
        target: Config,
    }
}

fn diagnostic(file: &ConfigFile, server: &ServerEntry, hit: &Hit<'_>) -> Diagnostic {
    let name = &server.name.value;
    let from = |source: &Source<'_>| match source.url() {
        Some(url) => format!("`{url}` with `{}`", source.tool()),
        None => format!("code with `{}`", source.tool()),
    };
    let (message, help) = match &hit.kind {
        Kind::Piped { source, runner } => (
            format!(
                "server `{name}` downloads {} and pipes it into `{}` at every start",
                from(source),
                runner.program
            ),
            DOWNLOAD_HELP,
        ),
        Kind::Substituted { source, runner } => (
            format!(
                "server `{name}` downloads {} and runs it with `{}` at every start",
                from(source),
                display_program(runner)
            ),
            DOWNLOAD_HELP,
        ),
        Kind::Saved {
            source,
            file: saved,
            runner,
        } => (
            format!(
                "server `{name}` downloads {} to `{saved}` and runs it{} at every start",
                from(source),
                if runner
                    .argv
                    .first()
                    .is_some_and(|w| basename(&w.value) == basename(saved))
                {
                    String::new()
                } else {
                    format!(" with `{}`", runner.program)
                }
            ),
            DOWNLOAD_HELP,
        ),
        Kind::Unpacked { source, runner } => (
            format!(
                "server `{name}` downloads {}, unpacks it and runs `{}` from it at every start",
                from(source),
                runner.argv.first().map_or("", |w| w.value.as_str())
            ),
            DOWNLOAD_HELP,
        ),
        Kind::Installed {
            tool,
            packages,
            pinned,
        } => (
            format!(
                "server `{name}` installs `{}` with `{tool}` at every start{}",
                packages.join("`, `"),
                if *pinned {
                    ""
                } else {
                    ", without an exact version"
                }
            ),
            "Install the package once, outside the launch command, with an exact version, and make `command` run the installed program.",
        ),
        Kind::Git { pull, url } => (
            match (pull, url) {
                (false, Some(url)) => format!(
                    "server `{name}` clones `{url}` with `git clone` and runs code from it at every start, without checking out a pinned commit"
                ),
                (false, None) => format!(
                    "server `{name}` clones a repository with `git clone` and runs code from it at every start, without checking out a pinned commit"
                ),
                (true, Some(url)) => format!(
                    "server `{name}` pulls `{url}` with `git pull` and runs the updated checkout at every start"
                ),
                (true, None) => format!(
                    "server `{name}` updates its checkout with `git pull` and runs it at every start"
                ),
            },
            "Clone once, check out a reviewed commit (`git checkout <40-hex sha>`), and launch the checked-out code without fetching at start.",
        ),
    };
    Diagnostic::new(
        &DOWNLOAD_AND_RUN_IN_COMMAND,
        &file.source,
        hit.span,
        message,
    )
    .with_help(help)
    .with_severity(hit.severity)
    .with_server(name)
}

const DOWNLOAD_HELP: &str = "Install the server once, from a release you have checked (an exact package version, or a download verified against its published checksum), and launch the installed program directly; never run a download at start.";

/// `eval`, `source` and friends, or the word the output was substituted into.
fn display_program(runner: &Command) -> &str {
    if runner.program.starts_with(['$', '`', '(', '<']) {
        "the shell"
    } else {
        &runner.program
    }
}

/// What downloaded the code.
enum Source<'a> {
    Command(&'a Command),
    /// PowerShell text such as `(New-Object Net.WebClient).DownloadString(...)`.
    Text(&'a str),
}

impl Source<'_> {
    fn tool(&self) -> &str {
        match self {
            Source::Command(c) if !c.program.contains(['(', ')', '\'', '"']) => &c.program,
            _ => "Net.WebClient",
        }
    }

    fn url(&self) -> Option<String> {
        let text = match self {
            Source::Command(c) => {
                if let Some(url) = c.args().iter().find(|w| w.value.contains("://")) {
                    return Some(url.value.clone());
                }
                c.text.as_str()
            }
            Source::Text(t) => t,
        };
        URL.find(text).map(|m| m.as_str().to_string())
    }
}

static URL: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r#"https?://[^\s'"`)]+"#).expect("static regex"));

enum Kind<'a> {
    Piped {
        source: Source<'a>,
        runner: &'a Command,
    },
    Substituted {
        source: Source<'a>,
        runner: &'a Command,
    },
    Saved {
        source: Source<'a>,
        file: String,
        runner: &'a Command,
    },
    Unpacked {
        source: Source<'a>,
        runner: &'a Command,
    },
    Installed {
        tool: String,
        packages: Vec<String>,
        pinned: bool,
    },
    Git {
        pull: bool,
        url: Option<String>,
    },
}

struct Hit<'a> {
    span: Span,
    severity: Severity,
    kind: Kind<'a>,
}

/// Programs that run code they are given, on standard input or as an argument.
fn runs_code(program: &str) -> bool {
    is_posix_shell(program)
        || is_python(program)
        || matches!(
            program,
            "node"
                | "nodejs"
                | "deno"
                | "bun"
                | "perl"
                | "ruby"
                | "php"
                | "lua"
                | "rscript"
                | "osascript"
                | "pwsh"
                | "powershell"
                | "cmd"
                | "iex"
                | "invoke-expression"
                | "eval"
                | "source"
                | "."
        )
}

const DOWNLOADERS: &[&str] = &[
    "curl",
    "wget",
    "wget2",
    "aria2c",
    "fetch",
    "iwr",
    "irm",
    "invoke-webrequest",
    "invoke-restmethod",
    "start-bitstransfer",
];

/// PowerShell and .NET ways to fetch code, found in the text of a command.
const DOWNLOAD_MARKERS: &[&str] = &[
    "downloadstring",
    "downloadfile",
    "downloaddata",
    "net.webclient",
    "invoke-webrequest",
    "invoke-restmethod",
];

fn is_downloader(command: &Command, syntax: Syntax) -> bool {
    if DOWNLOADERS.contains(&command.program.as_str()) {
        return true;
    }
    if command.program == "certutil" {
        return command
            .args()
            .iter()
            .any(|w| w.value.eq_ignore_ascii_case("-urlcache"));
    }
    syntax == Syntax::PowerShell && {
        let text = command.text.to_ascii_lowercase();
        DOWNLOAD_MARKERS.iter().any(|m| text.contains(m))
    }
}

/// The command of a script (a substitution, or one nested in it) that fetches code.
fn downloads<'a>(launch: &'a Launch, script: &'a Script) -> Option<&'a Command> {
    script.commands.iter().find_map(|c| {
        if is_downloader(c, script.syntax) {
            return Some(c);
        }
        c.substitutions
            .iter()
            .filter_map(|&s| launch.scripts.get(s))
            .find_map(|nested| downloads(launch, nested))
    })
}

fn basename(path: &str) -> &str {
    path.rsplit(['/', '\\']).next().unwrap_or(path)
}

/// The last path segment of a URL, as `curl -O` and `wget` name the file.
fn url_file(url: &str) -> Option<String> {
    let path = url.split(['?', '#']).next().unwrap_or(url);
    let (_, path) = path.split_once("://")?;
    let (_, path) = path.split_once('/')?;
    let name = basename(path);
    (!name.is_empty()).then(|| name.to_string())
}

/// Where a download command saves what it fetched, if to a file.
fn saved_to(command: &Command) -> Option<String> {
    let args = command.args();
    let url = args
        .iter()
        .find(|w| w.value.contains("://"))
        .map(|w| w.value.as_str());
    if let Some(target) = command
        .redirects
        .iter()
        .find(|r| r.op == ">" || r.op == ">>")
        .and_then(|r| r.target.as_ref())
    {
        return Some(target.value.clone());
    }
    let value_after = |i: usize| args.get(i + 1).map(|w| w.value.clone());
    match command.program.as_str() {
        "curl" => {
            for (i, w) in args.iter().enumerate() {
                let a = w.value.as_str();
                if let Some(file) = a.strip_prefix("--output=") {
                    return Some(file.to_string());
                }
                if a == "--output" {
                    return value_after(i);
                }
                if a == "--remote-name" || a == "--remote-name-all" {
                    return url.and_then(url_file);
                }
                if a.starts_with('-') && !a.starts_with("--") {
                    if a.ends_with('o') {
                        return value_after(i);
                    }
                    if a.contains('O') {
                        return url.and_then(url_file);
                    }
                }
            }
            None
        }
        "wget" | "wget2" => {
            for (i, w) in args.iter().enumerate() {
                let a = w.value.as_str();
                if let Some(file) = a.strip_prefix("--output-document=") {
                    return (file != "-").then(|| file.to_string());
                }
                if a == "-O" || a == "--output-document" {
                    return value_after(i).filter(|f| f != "-");
                }
                if let Some(file) = a.strip_prefix("-O")
                    && !file.is_empty()
                {
                    return (file != "-").then(|| file.to_string());
                }
            }
            url.and_then(url_file)
        }
        "iwr" | "invoke-webrequest" | "irm" | "invoke-restmethod" => args
            .iter()
            .position(|w| {
                let a = w.value.to_ascii_lowercase();
                a.len() >= 2 && a.starts_with('-') && "-outfile".starts_with(&a)
            })
            .and_then(value_after),
        "certutil" => args.last().map(|w| w.value.clone()),
        _ => None,
    }
}

fn is_archive_tool(program: &str) -> bool {
    matches!(
        program,
        "tar" | "bsdtar" | "unzip" | "7z" | "7za" | "expand-archive" | "gunzip" | "xz"
    )
}

/// A program given as a path relative to where the launch runs (`./bin/server`, `bin\x.exe`).
fn is_relative_program(word: &Word) -> bool {
    let v = word.value.as_str();
    v.contains(['/', '\\']) && !v.starts_with(['/', '\\', '~', '$', '%']) && !v.contains(':')
}

/// Whether `command` runs the downloaded `file`.
fn runs_file(command: &Command, file: &str) -> bool {
    let base = basename(file);
    if base.is_empty() {
        return false;
    }
    let program = command.argv.first().map_or("", |w| w.value.as_str());
    if basename(program) == base {
        return true;
    }
    // The interpreter's script, not any argument: `node s.js --config config.json` runs s.js.
    runs_code(&command.program)
        && command
            .args()
            .iter()
            .find(|w| !w.value.starts_with('-'))
            .is_some_and(|w| basename(&w.value) == base)
}

/// Download-then-run patterns starting at the download command `commands[i]`.
fn after_download(commands: &[Command], i: usize) -> Option<Hit<'_>> {
    let download = &commands[i];
    let source = || Source::Command(download);
    let hit = |kind, runner: &Command| Hit {
        span: download.span.cover(runner.span),
        severity: Severity::High,
        kind,
    };
    let mut unpacked = false;
    // The pipeline the download feeds.
    let mut j = i + 1;
    while let Some(next) = commands.get(j) {
        if next.joiner != Some(Joiner::Pipe) {
            break;
        }
        if runs_code(&next.program) {
            return Some(hit(
                Kind::Piped {
                    source: source(),
                    runner: next,
                },
                next,
            ));
        }
        unpacked |= is_archive_tool(&next.program);
        j += 1;
    }
    let saved = saved_to(download);
    for later in commands.get(j..).unwrap_or(&[]) {
        if let Some(file) = &saved {
            if is_archive_tool(&later.program)
                && later
                    .args()
                    .iter()
                    .any(|w| basename(&w.value) == basename(file))
            {
                unpacked = true;
                continue;
            }
            if runs_file(later, file) {
                return Some(hit(
                    Kind::Saved {
                        source: source(),
                        file: file.clone(),
                        runner: later,
                    },
                    later,
                ));
            }
        }
        if unpacked && later.argv.first().is_some_and(is_relative_program) {
            return Some(hit(
                Kind::Unpacked {
                    source: source(),
                    runner: later,
                },
                later,
            ));
        }
    }
    None
}

/// A command that runs the output of a download given to it as a substitution.
fn substituted<'a>(launch: &'a Launch, command: &'a Command, syntax: Syntax) -> Option<Hit<'a>> {
    // POSIX runs a substituted program word (`$(curl ...)`); in PowerShell a parenthesised
    // word is an expression, and only a script block made from text runs it.
    let computed_program = if syntax == Syntax::PowerShell {
        command
            .text
            .to_ascii_lowercase()
            .contains("[scriptblock]::create")
    } else {
        command
            .argv
            .first()
            .is_some_and(|w| w.value.starts_with(['$', '`', '<']))
    };
    if !runs_code(&command.program) && !computed_program {
        return None;
    }
    let source = command
        .substitutions
        .iter()
        .filter_map(|&s| launch.scripts.get(s))
        .find_map(|script| downloads(launch, script))
        .map(Source::Command)
        .or_else(|| {
            // `iex ((New-Object Net.WebClient).DownloadString('...'))`
            let text = command.text.to_ascii_lowercase();
            (syntax == Syntax::PowerShell
                && matches!(command.program.as_str(), "iex" | "invoke-expression")
                && DOWNLOAD_MARKERS.iter().any(|m| text.contains(m)))
            .then_some(Source::Text(&command.text))
        })?;
    Some(Hit {
        span: command.span,
        severity: Severity::High,
        kind: Kind::Substituted {
            source,
            runner: command,
        },
    })
}

/// The positional arguments after a sub-command, skipping options (and the values of those in
/// `with_value`).
fn positionals<'a>(args: &'a [Word], with_value: &[&str]) -> Vec<&'a Word> {
    let mut out = Vec::new();
    let mut i = 0;
    while let Some(w) = args.get(i) {
        let a = w.value.as_str();
        if a.starts_with('-') {
            i += if with_value.contains(&a) { 2 } else { 1 };
            continue;
        }
        out.push(w);
        i += 1;
    }
    out
}

const PIP_VALUE_OPTIONS: &[&str] = &[
    "-r",
    "--requirement",
    "-c",
    "--constraint",
    "-e",
    "--editable",
    "-i",
    "--index-url",
    "--extra-index-url",
    "-f",
    "--find-links",
    "-t",
    "--target",
    "--prefix",
    "--root",
    "--src",
    "--python-version",
    "--platform",
    "--implementation",
    "--abi",
    "--only-binary",
    "--no-binary",
    "--progress-bar",
    "--log",
    "--proxy",
    "--retries",
    "--timeout",
    "--exists-action",
    "--trusted-host",
    "--cert",
    "--client-cert",
    "--cache-dir",
    "-C",
    "--config-settings",
    "--global-option",
    "--report",
    "--upgrade-strategy",
    "--root-user-action",
    "--python",
    "-p",
];
const NPM_VALUE_OPTIONS: &[&str] = &[
    "--prefix",
    "--registry",
    "-w",
    "--workspace",
    "--cache",
    "--userconfig",
    "--tag",
    "--dir",
    "-C",
];

#[derive(Clone, Copy, PartialEq)]
enum Registry {
    Npm,
    Python,
    Go,
    Other,
}

/// An install of packages from a registry or remote source.
fn install(command: &Command) -> Option<(String, Registry, Vec<&Word>)> {
    let args = command.args();
    let values: Vec<&str> = args.iter().map(|w| w.value.as_str()).collect();
    let global = values.iter().any(|v| matches!(*v, "-g" | "--global"));
    let sub = |names: &[&str]| -> Option<usize> {
        values
            .iter()
            .position(|v| !v.starts_with('-'))
            .filter(|&i| names.contains(&values[i]))
    };
    let after = |i: usize| args.get(i + 1..).unwrap_or(&[]);
    let program = command.program.as_str();
    let (tool, registry, packages) = match program {
        "npm" => {
            let i = sub(&[
                "install", "i", "in", "ins", "inst", "insta", "instal", "isnt", "isnta", "isntal",
                "isntall", "add",
            ])?;
            let tool = if global {
                "npm install -g"
            } else {
                "npm install"
            };
            (
                tool.to_string(),
                Registry::Npm,
                positionals(after(i), NPM_VALUE_OPTIONS),
            )
        }
        "pnpm" | "bun" => {
            let i = sub(&["add", "a", "install", "i"])?;
            let g = if global { " -g" } else { "" };
            (
                format!("{program} add{g}"),
                Registry::Npm,
                positionals(after(i), NPM_VALUE_OPTIONS),
            )
        }
        "yarn" => {
            let i = sub(&["add", "global"])?;
            let (tool, rest) = if values[i] == "global" {
                (
                    "yarn global add",
                    args.get(i + 2..)
                        .filter(|_| values.get(i + 1) == Some(&"add"))?,
                )
            } else {
                ("yarn add", after(i))
            };
            (
                tool.to_string(),
                Registry::Npm,
                positionals(rest, NPM_VALUE_OPTIONS),
            )
        }
        p if p.starts_with("pip") && p[3..].chars().all(|c| c.is_ascii_digit() || c == '.') => {
            let i = sub(&["install"])?;
            (
                "pip install".to_string(),
                Registry::Python,
                positionals(after(i), PIP_VALUE_OPTIONS),
            )
        }
        p if is_python(p) => {
            let m = values.iter().position(|v| *v == "-m")?;
            if values.get(m + 1) != Some(&"pip") || values.get(m + 2) != Some(&"install") {
                return None;
            }
            (
                format!("{p} -m pip install"),
                Registry::Python,
                positionals(args.get(m + 3..).unwrap_or(&[]), PIP_VALUE_OPTIONS),
            )
        }
        "uv" => match values.as_slice() {
            ["pip", "install", ..] => (
                "uv pip install".to_string(),
                Registry::Python,
                positionals(&args[2..], PIP_VALUE_OPTIONS),
            ),
            ["tool", "install", ..] => (
                "uv tool install".to_string(),
                Registry::Python,
                positionals(&args[2..], crate::command::UV_VALUE_OPTIONS),
            ),
            _ => return None,
        },
        "pipx" => {
            let i = sub(&["install"])?;
            (
                "pipx install".to_string(),
                Registry::Python,
                positionals(
                    after(i),
                    &["--python", "--pip-args", "--index-url", "--suffix"],
                ),
            )
        }
        "go" => {
            let i = sub(&["install"])?;
            (
                "go install".to_string(),
                Registry::Go,
                positionals(
                    after(i),
                    &["-C", "-tags", "-ldflags", "-gcflags", "-mod", "-modfile"],
                ),
            )
        }
        "cargo" => {
            let i = sub(&["install"])?;
            if values.contains(&"--path") {
                return None;
            }
            let git = values
                .iter()
                .position(|v| *v == "--git")
                .and_then(|g| args.get(g + 1));
            let packages = match git {
                Some(url) => vec![url],
                None => positionals(
                    after(i),
                    &[
                        "--version",
                        "--vers",
                        "--registry",
                        "--index",
                        "--branch",
                        "--tag",
                        "--rev",
                        "--root",
                        "--target",
                        "--features",
                        "-F",
                        "--bin",
                        "--example",
                        "-j",
                        "--jobs",
                        "--profile",
                    ],
                ),
            };
            ("cargo install".to_string(), Registry::Other, packages)
        }
        "gem" => {
            let i = sub(&["install"])?;
            (
                "gem install".to_string(),
                Registry::Other,
                positionals(
                    after(i),
                    &["-v", "--version", "-s", "--source", "-i", "--install-dir"],
                ),
            )
        }
        "dotnet" => match values.as_slice() {
            ["tool", "install", ..] => (
                "dotnet tool install".to_string(),
                Registry::Other,
                positionals(
                    &args[2..],
                    &[
                        "--version",
                        "--add-source",
                        "--configfile",
                        "--tool-path",
                        "--framework",
                        "-a",
                        "--arch",
                        "-v",
                        "--verbosity",
                    ],
                ),
            ),
            _ => return None,
        },
        "brew" | "apt" | "apt-get" | "dnf" | "yum" | "choco" | "winget" | "scoop" => {
            let i = sub(&["install"])?;
            (
                format!("{program} install"),
                Registry::Other,
                positionals(
                    after(i),
                    &["-o", "--source", "--id", "-t", "--target-release"],
                ),
            )
        }
        "apk" => {
            let i = sub(&["add"])?;
            (
                "apk add".to_string(),
                Registry::Other,
                positionals(after(i), &["-X", "--repository"]),
            )
        }
        _ => return None,
    };
    let packages: Vec<&Word> = packages
        .into_iter()
        .filter(|w| !is_local(&w.value) && !w.value.is_empty())
        .collect();
    (!packages.is_empty()).then_some((tool, registry, packages))
}

/// Whether every package of an install names an exact version.
fn all_pinned(registry: Registry, command: &Command, packages: &[&Word]) -> bool {
    packages.iter().all(|w| match registry {
        Registry::Npm => npm_spec(&w.value).is_none(),
        Registry::Python => python_spec(&w.value).is_none(),
        Registry::Go => w.value.contains('@') && go_spec(&w.value).is_none(),
        Registry::Other => command
            .args()
            .iter()
            .any(|a| matches!(a.value.as_str(), "--version" | "--vers" | "-v" | "--rev")),
    })
}

/// `git clone URL` or `git pull` followed by more commands, with no checkout of a commit.
fn git_fetch<'a>(commands: &'a [Command], i: usize) -> Option<Hit<'a>> {
    let command = &commands[i];
    if command.program != "git" {
        return None;
    }
    let args = command.args();
    let global = positionals(args, &["-C", "-c", "--git-dir", "--work-tree"]);
    let sub = global.first()?;
    let pull = match sub.value.as_str() {
        "clone" => false,
        "pull" => true,
        _ => return None,
    };
    let later = commands.get(i + 1..).unwrap_or(&[]);
    if later.is_empty() {
        return None;
    }
    let pinned = later.iter().any(|c| {
        c.program == "git"
            && c.args()
                .iter()
                .any(|w| matches!(w.value.as_str(), "checkout" | "switch" | "reset"))
            && c.args().iter().any(|w| {
                let v = w.value.as_str();
                v.len() == 40 && v.bytes().all(|b| b.is_ascii_hexdigit())
            })
    });
    if pinned {
        return None;
    }
    let url = args
        .iter()
        .find(|w| w.value.contains("://") || w.value.starts_with("git@"))
        .map(|w| w.value.clone());
    Some(Hit {
        span: command.span,
        severity: Severity::High,
        kind: Kind::Git { pull, url },
    })
}

/// Every hit of a launch line, one per place: a hit inside another (`iex (irm ...)` read both as
/// a substitution and as PowerShell text, nested script blocks) is the same hazard.
fn hits(launch: &Launch) -> Vec<Hit<'_>> {
    let mut all = all_hits(launch);
    all.sort_by_key(|h| std::cmp::Reverse(h.span.len()));
    let mut kept: Vec<Hit<'_>> = Vec::new();
    for hit in all {
        if !kept.iter().any(|k| k.span.contains(hit.span)) {
            kept.push(hit);
        }
    }
    kept.sort_by_key(|h| h.span);
    kept
}

fn all_hits(launch: &Launch) -> Vec<Hit<'_>> {
    let mut out = Vec::new();
    for script in &launch.scripts {
        let commands = &script.commands;
        for (i, command) in commands.iter().enumerate() {
            if is_downloader(command, script.syntax)
                && let Some(hit) = after_download(commands, i)
            {
                out.push(hit);
            }
            if let Some(hit) = substituted(launch, command, script.syntax) {
                out.push(hit);
            }
            if let Some((tool, registry, packages)) = install(command) {
                let pinned = all_pinned(registry, command, &packages);
                out.push(Hit {
                    span: command.span,
                    severity: if pinned {
                        Severity::Medium
                    } else {
                        Severity::High
                    },
                    kind: Kind::Installed {
                        tool,
                        packages: packages.iter().map(|w| w.value.clone()).collect(),
                        pinned,
                    },
                });
            }
            if let Some(hit) = git_fetch(commands, i) {
                out.push(hit);
            }
        }
    }
    out
}

pub struct Rule;

impl super::ConfigRule for Rule {
    fn meta(&self) -> &'static RuleMeta {
        &DOWNLOAD_AND_RUN_IN_COMMAND
    }

    fn check_file(&self, file: &ConfigFile, out: &mut Vec<Diagnostic>) {
        for server in file.servers.iter().filter(|s| s.enabled) {
            let Some(launch) = Launch::of(server, &file.source.text) else {
                continue;
            };
            for hit in hits(&launch) {
                out.push(diagnostic(file, server, &hit));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::document::{self, Format};

    fn kinds(command: &str, args: &[&str]) -> Vec<String> {
        let args: Vec<String> = args
            .iter()
            .map(|a| serde_json::to_string(a).unwrap())
            .collect();
        let src = format!(
            "{{\"mcpServers\": {{\"s\": {{\"command\": {}, \"args\": [{}]}}}}}}",
            serde_json::to_string(command).unwrap(),
            args.join(", ")
        );
        let doc = document::parse(&src, Format::Json).unwrap();
        let servers = crate::clients::normalise(
            &doc,
            crate::clients::Schema::McpServers,
            crate::clients::Client::ClaudeCode,
        )
        .servers;
        let launch = Launch::of(&servers[0], &src).unwrap();
        hits(&launch)
            .iter()
            .map(|h| match &h.kind {
                Kind::Piped { .. } => "piped".to_string(),
                Kind::Substituted { .. } => "substituted".to_string(),
                Kind::Saved { file, .. } => format!("saved {file}"),
                Kind::Unpacked { .. } => "unpacked".to_string(),
                Kind::Installed { pinned, .. } => format!("installed pinned={pinned}"),
                Kind::Git { pull, .. } => format!("git pull={pull}"),
            })
            .collect()
    }

    #[test]
    fn downloads_that_run() {
        assert_eq!(
            kinds("bash", &["-c", "curl -fsSL https://x/i.sh | sh"]),
            ["piped"]
        );
        assert_eq!(
            kinds("sh", &["-c", "wget -qO- https://x/i.sh | sudo bash -s --"]),
            ["piped"]
        );
        assert_eq!(
            kinds(
                "bash",
                &["-c", "curl -s https://x | tee /tmp/l | python3 -"]
            ),
            ["piped"]
        );
        assert_eq!(
            kinds("bash", &["-c", "bash <(curl -s https://x/i.sh)"]),
            ["substituted"]
        );
        assert_eq!(
            kinds("sh", &["-c", "$(curl -s https://x/cmd)"]),
            ["substituted"]
        );
        assert_eq!(
            kinds("sh", &["-c", "eval \"$(wget -qO- https://x)\""]),
            ["substituted"]
        );
        assert_eq!(
            kinds(
                "bash",
                &[
                    "-c",
                    "curl -fsSLo /tmp/i.sh https://x/i.sh && bash /tmp/i.sh"
                ]
            ),
            ["saved /tmp/i.sh"]
        );
        assert_eq!(
            kinds(
                "bash",
                &["-c", "curl -LO https://x/srv; chmod +x srv; ./srv --stdio"]
            ),
            ["saved srv"]
        );
        assert_eq!(
            kinds("sh", &["-c", "wget https://x/r/srv.sh && sh srv.sh"]),
            ["saved srv.sh"]
        );
        assert_eq!(
            kinds(
                "bash",
                &[
                    "-c",
                    "curl -sL https://x/s.tgz | tar xz -C /tmp && /tmp/bin/s"
                ]
            ),
            Vec::<String>::new(),
            "absolute programs are not assumed to come from the archive"
        );
        assert_eq!(
            kinds(
                "bash",
                &["-c", "curl -sL https://x/s.tgz | tar xz && ./s/bin/server"]
            ),
            ["unpacked"]
        );
        assert_eq!(
            kinds("powershell", &["-Command", "irm https://x/i.ps1 | iex"]),
            ["piped"]
        );
        assert_eq!(
            kinds(
                "powershell",
                &[
                    "-c",
                    "iex ((New-Object Net.WebClient).DownloadString('https://x'))"
                ]
            ),
            ["substituted"]
        );
        assert_eq!(
            kinds("pwsh", &["-c", "iex (irm https://x)"]),
            ["substituted"]
        );
        assert_eq!(
            kinds(
                "pwsh",
                &["-c", "& ([scriptblock]::Create((irm https://x)))"]
            ),
            ["substituted"]
        );
        assert!(kinds("pwsh", &["-c", "(irm https://x/v.json).version"]).is_empty());
    }

    #[test]
    fn downloads_that_do_not_run() {
        for (command, args) in [
            (
                "bash",
                &[
                    "-c",
                    "curl -sf http://localhost:8080/health && node server.js",
                ][..],
            ),
            (
                "bash",
                &[
                    "-c",
                    "curl -s https://x/config.json -o config.json && node s.js",
                ],
            ),
            (
                "bash",
                &["-c", "curl -s https://x/data | jq . > /tmp/data.json"],
            ),
            (
                "bash",
                &[
                    "-c",
                    "curl -so c.json https://x/c.json && node s.js --config c.json",
                ],
            ),
            ("curl", &["-fsSL", "https://x/i.sh"]),
        ] {
            assert!(kinds(command, args).is_empty(), "{args:?}");
        }
    }

    #[test]
    fn installs() {
        assert_eq!(
            kinds("bash", &["-c", "npm install -g @acme/mcp && acme-mcp"]),
            ["installed pinned=false"]
        );
        assert_eq!(
            kinds("bash", &["-c", "npm i -g @acme/mcp@1.2.3 && acme-mcp"]),
            ["installed pinned=true"]
        );
        assert_eq!(
            kinds("python3", &["-m", "pip", "install", "mcp-x"]),
            ["installed pinned=false"]
        );
        assert_eq!(
            kinds("uv", &["pip", "install", "mcp-x==1.0.0"]),
            ["installed pinned=true"]
        );
        assert_eq!(
            kinds("cmd", &["/c", "pip install mcp-x && mcp-x"]),
            ["installed pinned=false"]
        );
        assert_eq!(
            kinds("go", &["install", "example.com/x@latest"]),
            ["installed pinned=false"]
        );
        assert_eq!(
            kinds("cargo", &["install", "--git", "https://github.com/a/b"]),
            ["installed pinned=false"]
        );
        for (command, args) in [
            (
                "bash",
                &["-c", "cd /srv/x && npm install && node index.js"][..],
            ),
            ("bash", &["-c", "npm ci && node index.js"]),
            ("pip", &["install", "-r", "requirements.txt"]),
            ("pip", &["install", "-e", "."]),
            ("cargo", &["install", "--path", "."]),
            ("npx", &["-y", "pkg"]),
        ] {
            assert!(kinds(command, args).is_empty(), "{command} {args:?}");
        }
    }

    #[test]
    fn git_fetches() {
        assert_eq!(
            kinds(
                "bash",
                &[
                    "-c",
                    "git clone https://github.com/a/b /tmp/b && cd /tmp/b && npm start"
                ]
            ),
            ["git pull=false"]
        );
        assert_eq!(
            kinds("bash", &["-c", "cd ~/src/mcp && git pull && make run"]),
            ["git pull=true"]
        );
        assert!(kinds(
            "bash",
            &["-c", "git clone https://github.com/a/b b && git -C b checkout 0123456789abcdef0123456789abcdef01234567 && node b/s.js"]
        )
        .is_empty());
        assert!(kinds("git", &["clone", "https://github.com/a/b"]).is_empty());
    }
}
