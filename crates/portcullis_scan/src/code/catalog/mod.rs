//! Catalogs: per-language data saying which calls are sinks, which clean a value, which bring
//! untrusted data in, and which merely pass data through. The engine interprets them; adding an
//! API is adding a line here, not a code path.

pub mod python;
pub mod typescript;

use serde::Serialize;

/// The hazards a tainted value can reach. Each is reported by one rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum SinkKind {
    /// A command line run by a shell.
    Shell,
    /// An element of an argument vector that may start with `-`, or a string split into one.
    ArgInjection,
    /// Code evaluated or compiled.
    CodeEval,
    /// Data deserialised into objects (pickle, unsafe YAML, marshal).
    Deserialize,
    /// A template rendered from a model-chosen string.
    Template,
    /// A filesystem path read, written, listed or deleted.
    Path,
    /// An archive extracted without checking its members.
    Archive,
    /// An outbound request to a model-chosen URL or host.
    Ssrf,
    /// SQL text built from a value.
    Sql,
}

impl SinkKind {
    pub const ALL: [SinkKind; 9] = [
        SinkKind::Shell,
        SinkKind::ArgInjection,
        SinkKind::CodeEval,
        SinkKind::Deserialize,
        SinkKind::Template,
        SinkKind::Path,
        SinkKind::Archive,
        SinkKind::Ssrf,
        SinkKind::Sql,
    ];

    pub fn bit(self) -> u16 {
        1 << (self as u16)
    }

    /// How the hazard is named in messages.
    pub fn describe(self) -> &'static str {
        match self {
            SinkKind::Shell => "a shell command",
            SinkKind::ArgInjection => "a command's arguments",
            SinkKind::CodeEval => "code evaluation",
            SinkKind::Deserialize => "deserialisation",
            SinkKind::Template => "a template",
            SinkKind::Path => "a filesystem path",
            SinkKind::Archive => "archive extraction",
            SinkKind::Ssrf => "an outbound request",
            SinkKind::Sql => "an SQL statement",
        }
    }
}

/// A set of sink kinds a value has been cleaned for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, PartialOrd, Ord)]
pub struct Cleaned(pub u16);

impl Cleaned {
    pub const NONE: Cleaned = Cleaned(0);
    pub const ALL: Cleaned = Cleaned(u16::MAX);

    pub fn of(kinds: &[SinkKind]) -> Cleaned {
        Cleaned(kinds.iter().fold(0, |acc, k| acc | k.bit()))
    }

    /// Cleaned for every hazard (a number, a boolean, a value from a fixed set).
    pub fn is_all(self) -> bool {
        SinkKind::ALL.iter().all(|k| self.has(*k))
    }

    pub fn has(self, kind: SinkKind) -> bool {
        self.0 & kind.bit() != 0
    }

    pub fn with(self, other: Cleaned) -> Cleaned {
        Cleaned(self.0 | other.0)
    }
}

/// How a call is recognised.
#[derive(Debug, Clone, Copy)]
pub enum Callee {
    /// The canonical dotted path after resolving imports: `subprocess.run`, `eval`.
    Path(&'static str),
    /// A method of that name on any receiver: `.execute(...)`.
    Method(&'static str),
}

/// Which argument carries the value that matters.
#[derive(Debug, Clone, Copy)]
pub enum ArgSel {
    /// Positional index, or the keyword of that name.
    At(usize, &'static str),
    /// The receiver of a method call (`Path(p).read_text()`).
    Receiver,
    /// Every argument.
    Any,
    /// An argument vector passed as a program and a list apart (`spawn("git", ["log", x])`):
    /// the positional indexes of the program and of the list.
    Argv(usize, usize),
}

/// When a sink applies.
#[derive(Debug, Clone, Copy)]
pub enum When {
    Always,
    /// The keyword is present and literally true (`shell=True`).
    KeywordTrue(&'static str),
    /// The keyword is absent or not a safe literal (`yaml.load` without `Loader=SafeLoader`).
    KeywordNotSafe(&'static str, &'static [&'static str]),
    /// The value is built from strings (interpolation, concatenation), not passed whole: SQL
    /// passed whole is a query the caller chose; SQL built around a value is injection.
    Built,
    /// The keyword is absent or not literally true (`tar.x` without `preservePaths: true`).
    KeywordNotTrue(&'static str),
}

#[derive(Debug, Clone, Copy)]
pub struct Sink {
    pub callee: Callee,
    pub arg: ArgSel,
    pub kind: SinkKind,
    pub when: When,
    /// For a sink that is one only in some releases of the library providing it: which
    /// releases are safe. The rule judges the release the project installs.
    pub fixed: Option<&'static Fixed>,
}

impl Sink {
    /// The same sink, safe from the releases `fixed` names on.
    pub const fn fixed_in(self, fixed: &'static Fixed) -> Sink {
        Sink {
            fixed: Some(fixed),
            ..self
        }
    }
}

/// The releases of a library in which a hazard is fixed (an extractor that checks every
/// member), as data beside the sink it qualifies.
#[derive(Debug)]
pub struct Fixed {
    /// The npm package name; the release installed is read from the project's lockfile or
    /// `package.json`.
    pub package: &'static str,
    /// The first fixed release of each major line, lowest line first (`["4.4.19", "6.1.9"]`): a
    /// release is fixed when it is at or above the entry of its own major line, or on a major
    /// line above every entry. Empty when no release is fixed.
    pub releases: &'static [&'static str],
    /// Why the releases before are not safe, for the help (`CVE-2018-1002204`).
    pub advisories: &'static str,
}

impl Fixed {
    /// Whether `version` is a fixed release.
    pub fn covers(&self, version: &semver::Version) -> bool {
        let fixed: Vec<semver::Version> = self
            .releases
            .iter()
            .filter_map(|r| semver::Version::parse(r).ok())
            .collect();
        let Some(top) = fixed.iter().map(|f| f.major).max() else {
            return false;
        };
        version.major > top
            || fixed
                .iter()
                .any(|f| f.major == version.major && version >= f)
    }

    /// The release to upgrade to from `version` (`None`: from an unknown release): the fix on
    /// its own major line, else the newest line's.
    pub fn upgrade_from(&self, version: Option<&semver::Version>) -> Option<&'static str> {
        let same_line = version.and_then(|v| {
            self.releases
                .iter()
                .copied()
                .find(|r| semver::Version::parse(r).is_ok_and(|f| f.major == v.major && *v < f))
        });
        same_line.or_else(|| self.releases.last().copied())
    }
}

/// A call whose result is cleaned for some kinds (`shlex.quote` for shell, `int` for all).
#[derive(Debug, Clone, Copy)]
pub struct Sanitizer {
    pub callee: Callee,
    pub cleans: &'static [SinkKind],
}

/// What a path function does to a value's relation with the filesystem.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PathOp {
    /// Resolves `..` and symbolic links (`realpath`, `Path.resolve`).
    Resolve,
    /// Resolves `..` but not links (`abspath`, `normpath`).
    Normalize,
    /// Joins onto a base: the result is only as contained as the joined part.
    Join,
}

#[derive(Debug, Clone, Copy)]
pub struct PathFn {
    pub callee: Callee,
    pub op: PathOp,
}

/// A call that reads a whole file into memory (PC113): by a path argument
/// (`fs.readFileSync(p)`), or on the receiver (`p.read_text()`, `Bun.file(p).text()`).
#[derive(Debug, Clone, Copy)]
pub struct WholeRead {
    pub callee: Callee,
    /// What names the file: an argument, or the receiver.
    pub arg: ArgSel,
    /// The receiver must have been opened as a file (by one of [`Catalog::file_openers`]):
    /// `read()` is also a method of pipes, sockets and strings' readers.
    pub file_only: bool,
    /// The positional argument that bounds the read when given (`f.read(4096)`); `-1` is no
    /// bound.
    pub size_arg: Option<usize>,
}

/// Where untrusted or sensitive data enters, other than tool parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum SourceKind {
    /// A tool, resource or prompt parameter chosen by the model.
    ToolArgument,
    /// Content from outside: a fetched page, a file's contents, a database row, an e-mail.
    UntrustedContent,
    /// The process environment.
    Environment,
    /// An exception's text or traceback.
    ErrorDetail,
}

#[derive(Debug, Clone, Copy)]
pub struct Source {
    pub callee: Callee,
    pub kind: SourceKind,
}

/// A catalog that knows no library: flows are followed, nothing is a sink.
pub static EMPTY: Catalog = Catalog {
    sinks: &[],
    sanitizers: &[],
    path_fns: &[],
    opaque: &[],
    sources: &[],
    source_names: &[],
    whole_reads: &[],
    file_openers: &[],
    prefix_checks: &[],
    containment_checks: &[],
    separators: &[],
    option_programs: &[],
    option_values: &[],
    connectors: &[],
    row_methods: &[],
    error_detail_attrs: &[],
    error_renderers: &[],
    foreign_quoting: &[],
    command_objects: &[],
    classes: &[],
    schemas: Schemas::NONE,
};

/// Everything the engine needs to know about one language's libraries.
#[derive(Debug)]
pub struct Catalog {
    pub sinks: &'static [Sink],
    pub sanitizers: &'static [Sanitizer],
    pub path_fns: &'static [PathFn],
    /// Calls whose result carries none of their arguments' taint (`len`, `isinstance`,
    /// `str.startswith`).
    pub opaque: &'static [Callee],
    /// Calls and attribute reads that bring data in.
    pub sources: &'static [Source],
    /// Dotted names that are sources when read (`os.environ`).
    pub source_names: &'static [(&'static str, SourceKind)],
    /// Calls that read a whole file into memory with no size bound.
    pub whole_reads: &'static [WholeRead],
    /// Calls that open a file: what they return is read as a file (`open(p)`, `Bun.file(p)`).
    pub file_openers: &'static [Callee],
    /// Method names that test a prefix (`startswith`) and containment (`is_relative_to`).
    pub prefix_checks: &'static [&'static str],
    pub containment_checks: &'static [Callee],
    /// The names of a path separator constant (`os.sep`).
    pub separators: &'static [&'static str],
    /// Programs whose options change what they do, for argument injection.
    pub option_programs: &'static [&'static str],
    /// Options of those programs that take the next argument as their value (`git commit -m
    /// MSG`): a value there is data, whatever it starts with.
    pub option_values: &'static [(&'static str, &'static [&'static str])],
    /// Calls that take credentials to build a client or a connection (`create_pool`,
    /// `*Client`): what they return is not the credential. `*` matches any start.
    pub connectors: &'static [&'static str],
    /// Methods that run a query or read the rows of one (`execute`, `fetch`, `fetchall`): when
    /// the query reads rows, they are untrusted content, judged by the columns selected.
    pub row_methods: &'static [&'static str],
    /// Attributes of a caught exception that hold its stack trace (`err.stack`), and calls
    /// that render one whole (`util.inspect(err)`).
    pub error_detail_attrs: &'static [&'static str],
    pub error_renderers: &'static [&'static str],
    /// Calls that quote a value for a language other than the shell (`JSON.stringify`,
    /// `json.dumps`): used as shell escaping they leave `$(...)` and backquotes live.
    pub foreign_quoting: &'static [&'static str],
    /// Objects whose methods run a program's subcommands: (class, attribute, program), the
    /// attribute empty when the instance itself is the command object (`repo.git.show(x)` runs
    /// `git show x`).
    pub command_objects: &'static [(&'static str, &'static str, &'static str)],
    /// Classes whose instances' methods are catalogued as `Class.method`.
    pub classes: &'static [&'static str],
    pub schemas: Schemas,
}

/// A schema library whose declared types the SDK enforces before a handler runs (zod): a
/// field declared `z.number()` cannot carry a payload, one declared with `.regex(...)` only
/// what the pattern allows.
#[derive(Debug, Clone, Copy)]
pub struct Schemas {
    /// Import paths the builders come from (`zod`).
    pub roots: &'static [&'static str],
    /// Builders and refinements whose values are closed (`number`, `enum`, `uuid`).
    pub closed: &'static [&'static str],
    /// Refinements that restrict a string to a pattern (`regex`).
    pub patterns: &'static [&'static str],
}

impl Schemas {
    pub const NONE: Schemas = Schemas {
        roots: &[],
        closed: &[],
        patterns: &[],
    };
}

/// Programs whose options change what they do, for argument injection.
pub const OPTION_PROGRAMS: &[&str] = &[
    "git",
    "kubectl",
    "curl",
    "wget",
    "docker",
    "npm",
    "npx",
    "pip",
    "tar",
    "rsync",
    "ssh",
    "scp",
    "find",
    "grep",
    "rg",
    "sed",
    "awk",
    "helm",
    "gh",
    "aws",
    "gcloud",
    "az",
    "psql",
    "mysql",
    "sqlite3",
    "ffmpeg",
    "zip",
    "unzip",
    "openssl",
    "ls",
    "cat",
    "cp",
    "mv",
    "rm",
    "chmod",
    "chown",
    "terraform",
    "go",
    "cargo",
    "python",
    "node",
    "pandoc",
    "soffice",
    "libreoffice",
    "magick",
    "convert",
    "gs",
    "7z",
    "yt-dlp",
    "youtube-dl",
    "hg",
    "svn",
    "nmap",
    "wkhtmltopdf",
    "xargs",
    "sudo",
    "tcpdump",
    "jupyter",
];

/// Options that take the next argument as their value, keyed by program (options of the
/// program itself) or by program and subcommand. Only options whose value is mandatory (an
/// optional value is never taken from the next argument), and only where the same letter means
/// the same thing in every subcommand the key covers: `git grep -n` is a switch, `git log -n`
/// takes a count.
pub const OPTION_VALUES: &[(&str, &[&str])] = &[
    ("git", &["-C", "-c", "--git-dir", "--work-tree"]),
    (
        "git commit",
        &["-m", "--message", "-F", "--file", "--author"],
    ),
    ("git tag", &["-m", "--message"]),
    ("git merge", &["-m"]),
    (
        "git log",
        &[
            "-n",
            "--max-count",
            "--since",
            "--until",
            "--grep",
            "--author",
            "-L",
        ],
    ),
    ("git blame", &["-L"]),
    ("git grep", &["-e", "-m", "--max-count"]),
    ("git checkout", &["-b", "-B"]),
    ("git switch", &["-c", "-C"]),
    ("git clone", &["--depth", "-b", "--branch"]),
    (
        "kubectl",
        &[
            "-n",
            "--namespace",
            "-c",
            "--container",
            "-l",
            "--selector",
            "-o",
            "--output",
            "--context",
            "--tail",
            "--since",
            "--replicas",
        ],
    ),
    (
        "docker",
        &[
            "--tail",
            "--since",
            "--name",
            "--filter",
            "--format",
            "-w",
            "--workdir",
            "-u",
            "--user",
        ],
    ),
    (
        "helm",
        &["-n", "--namespace", "--version", "-f", "--values"],
    ),
    (
        "gh",
        &[
            "-R", "--repo", "-t", "--title", "-b", "--body", "-L", "--limit",
        ],
    ),
    ("grep", &["-e", "--regexp", "-m", "--max-count"]),
    (
        "rg",
        &[
            "-e",
            "--regexp",
            "-g",
            "--glob",
            "-t",
            "--type",
            "-m",
            "--max-count",
        ],
    ),
    ("pandoc", &["-f", "--from", "-t", "--to", "-o", "--output"]),
    ("ffmpeg", &["-i", "-ss", "-t", "-to", "-f", "-vf", "-af"]),
    (
        "psql",
        &[
            "-c",
            "--command",
            "-d",
            "--dbname",
            "-U",
            "--username",
            "-h",
            "--host",
        ],
    ),
    (
        "mysql",
        &[
            "-e",
            "--execute",
            "-D",
            "--database",
            "-u",
            "--user",
            "-h",
            "--host",
        ],
    ),
];

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &str) -> semver::Version {
        semver::Version::parse(s).unwrap()
    }

    #[test]
    fn fixed_releases_by_major_line() {
        let lines = Fixed {
            package: "tar",
            releases: &["4.4.18", "6.1.9"],
            advisories: "",
        };
        assert!(!lines.covers(&v("4.4.17")));
        assert!(lines.covers(&v("4.4.18")));
        // No fix on the 5.x line: every 5.x release is affected.
        assert!(!lines.covers(&v("5.0.10")));
        assert!(!lines.covers(&v("6.1.8")));
        assert!(lines.covers(&v("6.2.1")));
        assert!(lines.covers(&v("7.0.0")));
        assert!(!lines.covers(&v("6.1.9-rc.1")));
        assert_eq!(lines.upgrade_from(Some(&v("4.4.1"))), Some("4.4.18"));
        assert_eq!(lines.upgrade_from(Some(&v("5.0.1"))), Some("6.1.9"));
        assert_eq!(lines.upgrade_from(None), Some("6.1.9"));
        let none = Fixed {
            package: "extract-zip",
            releases: &[],
            advisories: "",
        };
        assert!(!none.covers(&v("2.0.1")));
        assert_eq!(none.upgrade_from(None), None);
    }
}
