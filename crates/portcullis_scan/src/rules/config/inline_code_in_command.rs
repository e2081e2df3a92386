use std::collections::HashSet;

use crate::command::{Command, Launch, ShellString, Word, is_python, preview};
use crate::declare_rule;
use crate::diagnostic::Diagnostic;
use crate::model::{ConfigFile, ServerEntry};
use crate::registry::{RuleMeta, Severity};
use crate::span::Span;

declare_rule! {
    /// ## What it does
    /// Finds servers whose launch line hands an interpreter code to run as an argument:
    /// `python -c`, `node -e`/`--eval`/`-p`, `deno eval`, `bun -e`, `perl -e`, `ruby -e`,
    /// `php -r`, `osascript -e`, `lua -e`, `Rscript -e`, `julia -e`, and PowerShell
    /// `-EncodedCommand`, whose base64 is decoded and shown. It looks through launchers and
    /// inside shell strings (`bash -c "python3 -c '...'"`). An option after the script
    /// (`python server.py -c config.yaml`) belongs to the script and is not code. Encoded
    /// PowerShell is reported at high severity: encoding a script serves only to hide it.
    ///
    /// ## Why is this bad?
    /// Code inside a config line is reviewed by nobody: it does not live in a repository with
    /// history, tests or code review, diff tools show it as one long string, and scanners of
    /// source code never see it. That makes it an easy place to plant a backdoor, a credential
    /// stealer or a downloader next to a legitimate server, and an easy way to run something
    /// other than what the server's name promises.
    ///
    /// ## Example
    /// ```json
    /// {
    ///   "mcpServers": {
    ///     "time": {
    ///       "command": "python3",
    ///       "args": ["-c", "import os, mcp_server_time as m; os.environ['TZ'] = 'UTC'; m.main()"]
    ///     }
    ///   }
    /// }
    /// ```
    ///
    /// ## Use instead
    /// ```json
    /// {
    ///   "mcpServers": {
    ///     "time": {
    ///       "command": "python3",
    ///       "args": ["-m", "mcp_server_time"],
    ///       "env": { "TZ": "UTC" }
    ///     }
    ///   }
    /// }
    /// ```
    /// Run a module, a package entry point or a script file that is kept and reviewed with the
    /// rest of the code.
    ///
    /// ## References
    /// - [CWE-94: Improper Control of Generation of Code ('Code Injection')](https://cwe.mitre.org/data/definitions/94.html)
    /// - [PowerShell: about_Pwsh, `-EncodedCommand`](https://learn.microsoft.com/powershell/module/microsoft.powershell.core/about/about_pwsh)
    pub static INLINE_CODE_IN_COMMAND = {
        code: "PC206",
        name: "inline-code-in-command",
        summary: "A server's launch command runs code given inline on the command line",
        severity: Medium,
        confidence: High,
        cwe: [94],
        target: Config,
    }
}

fn diagnostic(file: &ConfigFile, server: &ServerEntry, found: &Found) -> Diagnostic {
    let name = &server.name.value;
    let (message, help, severity) = if found.encoded {
        (
            format!(
                "server `{name}` runs base64-encoded PowerShell code: `{}`",
                preview(&found.code, 60)
            ),
            "Decode and review it: `-EncodedCommand` only hides a script's text. Keep the script in a reviewed `.ps1` file and launch it with `-File`.",
            Severity::High,
        )
    } else {
        (
            format!(
                "server `{name}` runs {} code given on the command line: `{}`",
                found.language,
                preview(&found.code, 60)
            ),
            "Put the code in a script file or a package entry point that is kept and reviewed with the rest of the code, and launch that instead.",
            INLINE_CODE_IN_COMMAND.severity,
        )
    };
    Diagnostic::new(&INLINE_CODE_IN_COMMAND, &file.source, found.span, message)
        .with_help(help)
        .with_severity(severity)
        .with_server(name)
}

/// Code handed to an interpreter.
struct Found {
    language: &'static str,
    code: String,
    span: Span,
    encoded: bool,
}

/// Scans an interpreter's options up to its first positional argument for the option that
/// takes code. `code_option` says whether an option introduces code in the next argument
/// (`Next`) or holds it after `=` (`Inline`); options in `with_value` take the next argument.
fn code_argument<'a>(
    args: &'a [Word],
    with_value: &[&str],
    code_option: impl Fn(&str) -> Option<CodeAt>,
) -> Option<&'a Word> {
    let mut i = 0;
    while let Some(w) = args.get(i) {
        let a = w.value.as_str();
        if a == "--" || !a.starts_with('-') || a == "-" {
            return None;
        }
        match code_option(a) {
            Some(CodeAt::Next) => return args.get(i + 1),
            Some(CodeAt::Here) => return Some(w),
            None => {}
        }
        i += if with_value.contains(&a) { 2 } else { 1 };
    }
    None
}

enum CodeAt {
    /// The next argument is the code (`-c CODE`).
    Next,
    /// This argument holds the code (`--eval=CODE`, `-cCODE`).
    Here,
}

/// `-c`, or a cluster of flags ending in `c` (`-uc`, `-Ic`); `-cCODE` glued.
fn python_code(a: &str) -> Option<CodeAt> {
    let letters = a.strip_prefix('-')?;
    if letters.starts_with('-') {
        return None;
    }
    if letters == "c" {
        return Some(CodeAt::Next);
    }
    if let Some(flags) = letters.strip_suffix('c')
        && !flags.is_empty()
        && flags.chars().all(|c| "bBdEhiIOPqsSuvVR".contains(c))
    {
        return Some(CodeAt::Next);
    }
    (letters.starts_with('c') && letters.len() > 1).then_some(CodeAt::Here)
}

/// A cluster of single-letter switches ending in `e` or `E` (`-e`, `-le`, `-ne`, `-lne`).
fn e_cluster(a: &str) -> Option<CodeAt> {
    let letters = a.strip_prefix('-')?;
    (!letters.is_empty()
        && letters.chars().all(|c| c.is_ascii_alphabetic())
        && letters.ends_with(['e', 'E'])
        && letters.len() <= 4)
        .then_some(CodeAt::Next)
}

fn inline_code(command: &Command) -> Option<(&'static str, &Word)> {
    let args = command.args();
    let exactly =
        |names: &'static [&'static str]| move |a: &str| names.contains(&a).then_some(CodeAt::Next);
    let program = command.program.as_str();
    let found = match program {
        p if is_python(p) => (
            "Python",
            code_argument(args, &["-X", "-W", "--check-hash-based-pycs"], python_code)?,
        ),
        "node" | "nodejs" => (
            "JavaScript",
            code_argument(
                args,
                &[
                    "-r",
                    "--require",
                    "--import",
                    "--loader",
                    "--experimental-loader",
                    "-C",
                    "--conditions",
                    "--title",
                ],
                |a| match a {
                    "-e" | "--eval" | "-p" | "--print" | "-pe" => Some(CodeAt::Next),
                    _ if a.starts_with("--eval=") || a.starts_with("--print=") => {
                        Some(CodeAt::Here)
                    }
                    _ => None,
                },
            )?,
        ),
        "bun" => (
            "JavaScript",
            code_argument(
                args,
                &["-r", "--preload", "--cwd"],
                exactly(&["-e", "--eval", "-p", "--print"]),
            )?,
        ),
        "deno" => {
            let eval = args.iter().position(|w| !w.value.starts_with('-'))?;
            if args[eval].value != "eval" {
                return None;
            }
            let rest = &args[eval + 1..];
            let code = rest.iter().find(|w| !w.value.starts_with('-'))?;
            ("TypeScript", code)
        }
        "perl" => ("Perl", code_argument(args, &["-I", "-M", "-m"], e_cluster)?),
        "ruby" => ("Ruby", code_argument(args, &["-r", "-I", "-C"], e_cluster)?),
        "php" => (
            "PHP",
            code_argument(args, &["-d", "-c", "-z"], exactly(&["-r"]))?,
        ),
        "osascript" => {
            let javascript = args
                .windows(2)
                .any(|w| w[0].value == "-l" && w[1].value.eq_ignore_ascii_case("javascript"));
            let language = if javascript {
                "JavaScript for Automation"
            } else {
                "AppleScript"
            };
            (language, code_argument(args, &["-l"], exactly(&["-e"]))?)
        }
        "lua" | "luajit" => ("Lua", code_argument(args, &["-l"], exactly(&["-e"]))?),
        "rscript" => ("R", code_argument(args, &[], exactly(&["-e"]))?),
        "julia" => (
            "Julia",
            code_argument(
                args,
                &["-L", "--load", "-J", "--sysimage", "--project"],
                exactly(&["-e", "-E", "--eval", "--print"]),
            )?,
        ),
        _ => return None,
    };
    Some(found)
}

/// The code of an argument that holds it after an option (`--eval=CODE`, `-cCODE`).
fn code_text(word: &Word) -> &str {
    let v = word.value.as_str();
    if let Some((option, code)) = v.split_once('=')
        && option.starts_with("--")
    {
        return code;
    }
    v
}

fn encoded(shell: &ShellString) -> Option<Found> {
    shell.encoded.then(|| Found {
        language: "PowerShell",
        code: shell.text.clone(),
        span: shell.span,
        encoded: true,
    })
}

pub struct Rule;

impl super::ConfigRule for Rule {
    fn meta(&self) -> &'static RuleMeta {
        &INLINE_CODE_IN_COMMAND
    }

    fn check_file(&self, file: &ConfigFile, out: &mut Vec<Diagnostic>) {
        for server in file.servers.iter().filter(|s| s.enabled) {
            let Some(launch) = Launch::of(server, &file.source.text) else {
                continue;
            };
            let found = launch
                .commands()
                .filter_map(inline_code)
                .map(|(language, word)| Found {
                    language,
                    code: code_text(word).to_string(),
                    span: word.span,
                    encoded: false,
                })
                .chain(launch.shells.iter().filter_map(encoded));
            let mut seen = HashSet::new();
            for f in found {
                if seen.insert(f.span) {
                    out.push(diagnostic(file, server, &f));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn command(program: &str, args: &[&str]) -> Command {
        let argv: Vec<Word> = std::iter::once(program)
            .chain(args.iter().copied())
            .enumerate()
            .map(|(i, v)| Word {
                value: v.to_string(),
                span: Span::new(i, i + 1),
            })
            .collect();
        Command {
            program: crate::command::program_of(program),
            argv,
            launchers: Vec::new(),
            assignments: Vec::new(),
            redirects: Vec::new(),
            joiner: None,
            substitutions: Vec::new(),
            shell: None,
            text: String::new(),
            span: Span::default(),
        }
    }

    fn code(program: &str, args: &[&str]) -> Option<String> {
        let c = command(program, args);
        inline_code(&c).map(|(_, w)| code_text(w).to_string())
    }

    #[test]
    fn finds_the_code_argument() {
        assert_eq!(code("python3", &["-c", "print(1)"]).unwrap(), "print(1)");
        assert_eq!(
            code("python3.12", &["-u", "-X", "utf8", "-c", "x"]).unwrap(),
            "x"
        );
        assert_eq!(code("py", &["-Ic", "x"]).unwrap(), "x");
        assert_eq!(code("node", &["--no-warnings", "-e", "x"]).unwrap(), "x");
        assert_eq!(code("node", &["--eval=x"]).unwrap(), "x");
        assert_eq!(
            code("node", &["-r", "dotenv/config", "-p", "x"]).unwrap(),
            "x"
        );
        assert_eq!(code("bun", &["--eval", "x"]).unwrap(), "x");
        assert_eq!(code("deno", &["eval", "--quiet", "x"]).unwrap(), "x");
        assert_eq!(code("perl", &["-MJSON", "-lne", "x"]).unwrap(), "x");
        assert_eq!(code("ruby", &["-rjson", "-e", "x"]).unwrap(), "x");
        assert_eq!(code("php", &["-d", "x=1", "-r", "x"]).unwrap(), "x");
        assert_eq!(
            code("osascript", &["-l", "JavaScript", "-e", "x"]).unwrap(),
            "x"
        );
    }

    #[test]
    fn options_of_the_script_are_not_code() {
        for (program, args) in [
            ("python", &["server.py", "-c", "config.yaml"][..]),
            ("python", &["-m", "server", "-c", "x"]),
            ("node", &["server.js", "-e", "production"]),
            ("node", &["-r", "./tracing.js", "server.js"]),
            ("perl", &["server.pl", "-e", "x"]),
            ("deno", &["run", "-A", "main.ts"]),
            ("php", &["-f", "server.php"]),
            ("python", &["-"]),
            ("ruby", &["--", "-e"]),
        ] {
            assert!(code(program, args).is_none(), "{program} {args:?}");
        }
    }
}
