//! The Python catalog: the standard library and the packages MCP servers use, as data.

use super::{
    ArgSel, Callee, Catalog, PathFn, PathOp, Sanitizer, Sink, SinkKind, Source, SourceKind, When,
    WholeRead,
};

use ArgSel::{At, Receiver};
use Callee::{Method as M, Path as P};
use SinkKind::*;

const fn sink(callee: Callee, arg: ArgSel, kind: SinkKind, when: When) -> Sink {
    Sink {
        callee,
        arg,
        kind,
        when,
        fixed: None,
    }
}

/// Arguments of `subprocess` functions: the command is the first positional or `args=`.
const CMD: ArgSel = At(0, "args");
const SAFE_YAML: &[&str] = &[
    "SafeLoader",
    "CSafeLoader",
    "yaml.SafeLoader",
    "yaml.CSafeLoader",
    "BaseLoader",
    "yaml.BaseLoader",
];
const SAFE_TAR: &[&str] = &["data", "tar", "data_filter", "tar_filter"];

static SINKS: &[Sink] = &[
    // Shell.
    sink(P("subprocess.run"), CMD, Shell, When::KeywordTrue("shell")),
    sink(P("subprocess.call"), CMD, Shell, When::KeywordTrue("shell")),
    sink(
        P("subprocess.check_call"),
        CMD,
        Shell,
        When::KeywordTrue("shell"),
    ),
    sink(
        P("subprocess.check_output"),
        CMD,
        Shell,
        When::KeywordTrue("shell"),
    ),
    sink(
        P("subprocess.Popen"),
        CMD,
        Shell,
        When::KeywordTrue("shell"),
    ),
    sink(P("subprocess.getoutput"), At(0, "cmd"), Shell, When::Always),
    sink(
        P("subprocess.getstatusoutput"),
        At(0, "cmd"),
        Shell,
        When::Always,
    ),
    sink(P("os.system"), At(0, "command"), Shell, When::Always),
    sink(P("os.popen"), At(0, "cmd"), Shell, When::Always),
    sink(
        P("asyncio.create_subprocess_shell"),
        At(0, "cmd"),
        Shell,
        When::Always,
    ),
    sink(
        P("asyncio.subprocess.create_subprocess_shell"),
        At(0, "cmd"),
        Shell,
        When::Always,
    ),
    // Argument vectors.
    sink(P("subprocess.run"), CMD, ArgInjection, When::Always),
    sink(P("subprocess.call"), CMD, ArgInjection, When::Always),
    sink(P("subprocess.check_call"), CMD, ArgInjection, When::Always),
    sink(
        P("subprocess.check_output"),
        CMD,
        ArgInjection,
        When::Always,
    ),
    sink(P("subprocess.Popen"), CMD, ArgInjection, When::Always),
    sink(
        P("asyncio.create_subprocess_exec"),
        ArgSel::Any,
        ArgInjection,
        When::Always,
    ),
    sink(P("os.execv"), At(1, "args"), ArgInjection, When::Always),
    sink(P("os.execvp"), At(1, "args"), ArgInjection, When::Always),
    // Code.
    sink(P("eval"), At(0, "source"), CodeEval, When::Always),
    sink(P("exec"), At(0, "source"), CodeEval, When::Always),
    sink(P("compile"), At(0, "source"), CodeEval, When::Always),
    sink(P("builtins.eval"), At(0, "source"), CodeEval, When::Always),
    sink(P("builtins.exec"), At(0, "source"), CodeEval, When::Always),
    sink(
        P("importlib.import_module"),
        At(0, "name"),
        CodeEval,
        When::Always,
    ),
    sink(P("__import__"), At(0, "name"), CodeEval, When::Always),
    sink(P("pickle.loads"), At(0, "data"), Deserialize, When::Always),
    sink(P("pickle.load"), At(0, "file"), Deserialize, When::Always),
    sink(P("cPickle.loads"), At(0, "data"), Deserialize, When::Always),
    sink(P("dill.loads"), At(0, "str"), Deserialize, When::Always),
    sink(
        P("marshal.loads"),
        At(0, "bytes"),
        Deserialize,
        When::Always,
    ),
    sink(
        P("shelve.open"),
        At(0, "filename"),
        Deserialize,
        When::Always,
    ),
    sink(
        P("jsonpickle.decode"),
        At(0, "string"),
        Deserialize,
        When::Always,
    ),
    sink(
        P("pandas.read_pickle"),
        At(0, "filepath_or_buffer"),
        Deserialize,
        When::Always,
    ),
    sink(
        P("yaml.load"),
        At(0, "stream"),
        Deserialize,
        When::KeywordNotSafe("Loader", SAFE_YAML),
    ),
    sink(
        P("yaml.load_all"),
        At(0, "stream"),
        Deserialize,
        When::KeywordNotSafe("Loader", SAFE_YAML),
    ),
    sink(
        P("yaml.unsafe_load"),
        At(0, "stream"),
        Deserialize,
        When::Always,
    ),
    sink(
        P("yaml.full_load"),
        At(0, "stream"),
        Deserialize,
        When::Always,
    ),
    sink(
        P("jinja2.Template"),
        At(0, "source"),
        Template,
        When::Always,
    ),
    sink(M("from_string"), At(0, "source"), Template, When::Always),
    sink(
        P("flask.render_template_string"),
        At(0, "source"),
        Template,
        When::Always,
    ),
    sink(
        P("mako.template.Template"),
        At(0, "text"),
        Template,
        When::Always,
    ),
    // Files.
    sink(P("open"), At(0, "file"), Path, When::Always),
    sink(P("io.open"), At(0, "file"), Path, When::Always),
    sink(P("os.open"), At(0, "path"), Path, When::Always),
    sink(P("aiofiles.open"), At(0, "file"), Path, When::Always),
    sink(P("codecs.open"), At(0, "filename"), Path, When::Always),
    sink(P("os.remove"), At(0, "path"), Path, When::Always),
    sink(P("os.unlink"), At(0, "path"), Path, When::Always),
    sink(P("os.rmdir"), At(0, "path"), Path, When::Always),
    sink(P("os.removedirs"), At(0, "name"), Path, When::Always),
    sink(P("os.rename"), At(0, "src"), Path, When::Always),
    sink(P("os.rename"), At(1, "dst"), Path, When::Always),
    sink(P("os.replace"), At(0, "src"), Path, When::Always),
    sink(P("os.replace"), At(1, "dst"), Path, When::Always),
    sink(P("os.listdir"), At(0, "path"), Path, When::Always),
    sink(P("os.scandir"), At(0, "path"), Path, When::Always),
    sink(P("os.walk"), At(0, "top"), Path, When::Always),
    sink(P("os.makedirs"), At(0, "name"), Path, When::Always),
    sink(P("os.mkdir"), At(0, "path"), Path, When::Always),
    sink(P("os.chmod"), At(0, "path"), Path, When::Always),
    sink(P("os.symlink"), At(1, "dst"), Path, When::Always),
    sink(P("shutil.copy"), At(0, "src"), Path, When::Always),
    // The archive itself is a file read from wherever the model says.
    sink(
        P("shutil.unpack_archive"),
        At(0, "filename"),
        Path,
        When::Always,
    ),
    sink(
        P("shutil.unpack_archive"),
        At(1, "extract_dir"),
        Path,
        When::Always,
    ),
    sink(P("shutil.copy"), At(1, "dst"), Path, When::Always),
    sink(P("shutil.copy2"), At(0, "src"), Path, When::Always),
    sink(P("shutil.copy2"), At(1, "dst"), Path, When::Always),
    sink(P("shutil.copyfile"), At(0, "src"), Path, When::Always),
    sink(P("shutil.copyfile"), At(1, "dst"), Path, When::Always),
    sink(P("shutil.copytree"), At(0, "src"), Path, When::Always),
    sink(P("shutil.copytree"), At(1, "dst"), Path, When::Always),
    sink(P("shutil.move"), At(0, "src"), Path, When::Always),
    sink(P("shutil.move"), At(1, "dst"), Path, When::Always),
    sink(P("shutil.rmtree"), At(0, "path"), Path, When::Always),
    sink(P("glob.glob"), At(0, "pathname"), Path, When::Always),
    sink(
        P("flask.send_file"),
        At(0, "path_or_file"),
        Path,
        When::Always,
    ),
    sink(
        P("starlette.responses.FileResponse"),
        At(0, "path"),
        Path,
        When::Always,
    ),
    sink(
        P("fastapi.responses.FileResponse"),
        At(0, "path"),
        Path,
        When::Always,
    ),
    sink(P("tarfile.open"), At(0, "name"), Path, When::Always),
    sink(P("zipfile.ZipFile"), At(0, "file"), Path, When::Always),
    sink(M("read_text"), Receiver, Path, When::Always),
    sink(M("read_bytes"), Receiver, Path, When::Always),
    sink(M("write_text"), Receiver, Path, When::Always),
    sink(M("write_bytes"), Receiver, Path, When::Always),
    sink(M("unlink"), Receiver, Path, When::Always),
    sink(M("rmdir"), Receiver, Path, When::Always),
    sink(M("iterdir"), Receiver, Path, When::Always),
    sink(M("touch"), Receiver, Path, When::Always),
    sink(M("mkdir"), Receiver, Path, When::Always),
    // Archives: tarfile honours member paths unless a filter says otherwise.
    sink(
        M("extractall"),
        Receiver,
        Archive,
        When::KeywordNotSafe("filter", SAFE_TAR),
    ),
    sink(
        M("extract"),
        Receiver,
        Archive,
        When::KeywordNotSafe("filter", SAFE_TAR),
    ),
    sink(
        P("shutil.unpack_archive"),
        At(0, "filename"),
        Archive,
        When::KeywordNotSafe("filter", SAFE_TAR),
    ),
    // Outbound requests.
    sink(P("requests.get"), At(0, "url"), Ssrf, When::Always),
    sink(P("requests.post"), At(0, "url"), Ssrf, When::Always),
    sink(P("requests.put"), At(0, "url"), Ssrf, When::Always),
    sink(P("requests.patch"), At(0, "url"), Ssrf, When::Always),
    sink(P("requests.delete"), At(0, "url"), Ssrf, When::Always),
    sink(P("requests.head"), At(0, "url"), Ssrf, When::Always),
    sink(P("requests.request"), At(1, "url"), Ssrf, When::Always),
    sink(P("requests.Session.get"), At(0, "url"), Ssrf, When::Always),
    sink(P("requests.Session.post"), At(0, "url"), Ssrf, When::Always),
    sink(
        P("requests.Session.request"),
        At(1, "url"),
        Ssrf,
        When::Always,
    ),
    sink(P("httpx.get"), At(0, "url"), Ssrf, When::Always),
    sink(P("httpx.post"), At(0, "url"), Ssrf, When::Always),
    sink(P("httpx.put"), At(0, "url"), Ssrf, When::Always),
    sink(P("httpx.delete"), At(0, "url"), Ssrf, When::Always),
    sink(P("httpx.request"), At(1, "url"), Ssrf, When::Always),
    sink(P("httpx.stream"), At(1, "url"), Ssrf, When::Always),
    sink(P("httpx.Client.get"), At(0, "url"), Ssrf, When::Always),
    sink(P("httpx.Client.post"), At(0, "url"), Ssrf, When::Always),
    sink(P("httpx.Client.request"), At(1, "url"), Ssrf, When::Always),
    sink(P("httpx.Client.stream"), At(1, "url"), Ssrf, When::Always),
    sink(P("httpx.AsyncClient.get"), At(0, "url"), Ssrf, When::Always),
    sink(
        P("httpx.AsyncClient.post"),
        At(0, "url"),
        Ssrf,
        When::Always,
    ),
    sink(
        P("httpx.AsyncClient.request"),
        At(1, "url"),
        Ssrf,
        When::Always,
    ),
    sink(
        P("httpx.AsyncClient.stream"),
        At(1, "url"),
        Ssrf,
        When::Always,
    ),
    sink(
        P("aiohttp.ClientSession.get"),
        At(0, "url"),
        Ssrf,
        When::Always,
    ),
    sink(
        P("aiohttp.ClientSession.post"),
        At(0, "url"),
        Ssrf,
        When::Always,
    ),
    sink(
        P("aiohttp.ClientSession.request"),
        At(1, "url"),
        Ssrf,
        When::Always,
    ),
    sink(P("aiohttp.request"), At(1, "url"), Ssrf, When::Always),
    sink(
        P("urllib.request.urlopen"),
        At(0, "url"),
        Ssrf,
        When::Always,
    ),
    sink(
        P("urllib.request.Request"),
        At(0, "url"),
        Ssrf,
        When::Always,
    ),
    sink(
        P("urllib.request.urlretrieve"),
        At(0, "url"),
        Ssrf,
        When::Always,
    ),
    sink(
        P("http.client.HTTPConnection"),
        At(0, "host"),
        Ssrf,
        When::Always,
    ),
    sink(
        P("http.client.HTTPSConnection"),
        At(0, "host"),
        Ssrf,
        When::Always,
    ),
    sink(
        P("socket.create_connection"),
        At(0, "address"),
        Ssrf,
        When::Always,
    ),
    // SQL, when text is built around a value.
    sink(M("execute"), At(0, "sql"), Sql, When::Built),
    sink(M("executemany"), At(0, "sql"), Sql, When::Built),
    sink(M("executescript"), At(0, "sql_script"), Sql, When::Built),
    sink(M("raw"), At(0, "raw_query"), Sql, When::Built),
    sink(P("sqlalchemy.text"), At(0, "text"), Sql, When::Built),
    sink(P("pandas.read_sql"), At(0, "sql"), Sql, When::Built),
    sink(P("pandas.read_sql_query"), At(0, "sql"), Sql, When::Built),
    sink(P("httpx.Client.put"), At(0, "url"), Ssrf, When::Always),
    sink(P("httpx.Client.patch"), At(0, "url"), Ssrf, When::Always),
    sink(P("httpx.Client.delete"), At(0, "url"), Ssrf, When::Always),
    sink(P("httpx.Client.head"), At(0, "url"), Ssrf, When::Always),
    sink(P("httpx.AsyncClient.put"), At(0, "url"), Ssrf, When::Always),
    sink(
        P("httpx.AsyncClient.patch"),
        At(0, "url"),
        Ssrf,
        When::Always,
    ),
    sink(
        P("httpx.AsyncClient.delete"),
        At(0, "url"),
        Ssrf,
        When::Always,
    ),
    sink(
        P("httpx.AsyncClient.head"),
        At(0, "url"),
        Ssrf,
        When::Always,
    ),
    sink(P("httpx.head"), At(0, "url"), Ssrf, When::Always),
    sink(P("httpx.patch"), At(0, "url"), Ssrf, When::Always),
    sink(P("requests.Session.put"), At(0, "url"), Ssrf, When::Always),
    sink(
        P("requests.Session.delete"),
        At(0, "url"),
        Ssrf,
        When::Always,
    ),
    sink(P("requests.Session.head"), At(0, "url"), Ssrf, When::Always),
    sink(
        P("aiohttp.ClientSession.put"),
        At(0, "url"),
        Ssrf,
        When::Always,
    ),
    sink(
        P("aiohttp.ClientSession.delete"),
        At(0, "url"),
        Ssrf,
        When::Always,
    ),
    sink(
        P("aiohttp.ClientSession.head"),
        At(0, "url"),
        Ssrf,
        When::Always,
    ),
    sink(
        P("joblib.load"),
        At(0, "filename"),
        Deserialize,
        When::Always,
    ),
    sink(
        P("pickle.Unpickler"),
        At(0, "file"),
        Deserialize,
        When::Always,
    ),
    sink(
        P("numpy.load"),
        At(0, "file"),
        Deserialize,
        When::KeywordTrue("allow_pickle"),
    ),
    sink(P("sympy.sympify"), At(0, "a"), CodeEval, When::Always),
    sink(P("sympy.parse_expr"), At(0, "s"), CodeEval, When::Always),
    sink(M("fetch"), At(0, "query"), Sql, When::Built),
    sink(M("fetchrow"), At(0, "query"), Sql, When::Built),
    sink(M("fetchval"), At(0, "query"), Sql, When::Built),
    // boto3: the local file uploaded or written.
    sink(M("upload_file"), At(0, "Filename"), Path, When::Always),
    sink(M("download_file"), At(2, "Filename"), Path, When::Always),
];

static SANITIZERS: &[Sanitizer] = &[
    Sanitizer {
        callee: P("shlex.quote"),
        cleans: &[Shell],
    },
    Sanitizer {
        callee: P("pipes.quote"),
        cleans: &[Shell],
    },
    Sanitizer {
        callee: P("int"),
        cleans: &SinkKind::ALL,
    },
    Sanitizer {
        callee: P("float"),
        cleans: &SinkKind::ALL,
    },
    Sanitizer {
        callee: P("bool"),
        cleans: &SinkKind::ALL,
    },
    Sanitizer {
        callee: P("uuid.UUID"),
        cleans: &SinkKind::ALL,
    },
    Sanitizer {
        callee: P("os.path.basename"),
        cleans: &[Path, Archive],
    },
    Sanitizer {
        callee: P("werkzeug.utils.secure_filename"),
        cleans: &[Path, Shell, Archive],
    },
    Sanitizer {
        callee: P("urllib.parse.quote"),
        cleans: &[Shell, Path, Sql],
    },
    Sanitizer {
        callee: P("urllib.parse.quote_plus"),
        cleans: &[Shell, Path, Sql],
    },
    Sanitizer {
        callee: P("hashlib.sha256"),
        cleans: &SinkKind::ALL,
    },
    Sanitizer {
        callee: P("hashlib.md5"),
        cleans: &SinkKind::ALL,
    },
    Sanitizer {
        callee: P("shlex.join"),
        cleans: &[Shell],
    },
];

static PATH_FNS: &[PathFn] = &[
    PathFn {
        callee: P("os.path.realpath"),
        op: PathOp::Resolve,
    },
    PathFn {
        callee: P("os.path.abspath"),
        op: PathOp::Normalize,
    },
    PathFn {
        callee: P("os.path.normpath"),
        op: PathOp::Normalize,
    },
    PathFn {
        callee: M("resolve"),
        op: PathOp::Resolve,
    },
    PathFn {
        callee: M("absolute"),
        op: PathOp::Normalize,
    },
    PathFn {
        callee: P("os.path.join"),
        op: PathOp::Join,
    },
    PathFn {
        callee: M("joinpath"),
        op: PathOp::Join,
    },
];

static OPAQUE: &[Callee] = &[
    P("len"),
    P("isinstance"),
    P("issubclass"),
    P("hasattr"),
    P("callable"),
    P("id"),
    P("hash"),
    P("type"),
    P("os.path.exists"),
    P("os.path.isfile"),
    P("os.path.isdir"),
    P("os.path.isabs"),
    P("os.path.getsize"),
    M("startswith"),
    M("endswith"),
    M("exists"),
    M("is_file"),
    M("is_dir"),
    M("isdigit"),
    M("isalnum"),
    M("isidentifier"),
    M("count"),
    M("find"),
    M("index"),
    M("keys"),
];

static SOURCES: &[Source] = &[
    Source {
        callee: P("os.getenv"),
        kind: SourceKind::Environment,
    },
    Source {
        callee: P("os.environ.copy"),
        kind: SourceKind::Environment,
    },
    Source {
        callee: P("traceback.format_exc"),
        kind: SourceKind::ErrorDetail,
    },
    Source {
        callee: P("traceback.format_exception"),
        kind: SourceKind::ErrorDetail,
    },
    Source {
        callee: P("requests.get"),
        kind: SourceKind::UntrustedContent,
    },
    Source {
        callee: P("requests.post"),
        kind: SourceKind::UntrustedContent,
    },
    Source {
        callee: P("httpx.get"),
        kind: SourceKind::UntrustedContent,
    },
    Source {
        callee: P("httpx.AsyncClient.get"),
        kind: SourceKind::UntrustedContent,
    },
    Source {
        callee: P("httpx.Client.get"),
        kind: SourceKind::UntrustedContent,
    },
    Source {
        callee: P("aiohttp.ClientSession.get"),
        kind: SourceKind::UntrustedContent,
    },
    Source {
        callee: P("urllib.request.urlopen"),
        kind: SourceKind::UntrustedContent,
    },
    Source {
        callee: M("fetchall"),
        kind: SourceKind::UntrustedContent,
    },
    Source {
        callee: M("fetchone"),
        kind: SourceKind::UntrustedContent,
    },
    Source {
        callee: M("fetchmany"),
        kind: SourceKind::UntrustedContent,
    },
    Source {
        callee: P("httpx.post"),
        kind: SourceKind::UntrustedContent,
    },
    Source {
        callee: P("httpx.Client.post"),
        kind: SourceKind::UntrustedContent,
    },
    Source {
        callee: P("httpx.AsyncClient.post"),
        kind: SourceKind::UntrustedContent,
    },
    Source {
        callee: P("requests.Session.get"),
        kind: SourceKind::UntrustedContent,
    },
    Source {
        callee: P("requests.Session.post"),
        kind: SourceKind::UntrustedContent,
    },
    Source {
        callee: P("aiohttp.ClientSession.post"),
        kind: SourceKind::UntrustedContent,
    },
    Source {
        callee: P("traceback.format_tb"),
        kind: SourceKind::ErrorDetail,
    },
    Source {
        callee: P("traceback.format_stack"),
        kind: SourceKind::ErrorDetail,
    },
    Source {
        callee: P("email.message_from_bytes"),
        kind: SourceKind::UntrustedContent,
    },
    Source {
        callee: P("email.message_from_string"),
        kind: SourceKind::UntrustedContent,
    },
];

static SOURCE_NAMES: &[(&str, SourceKind)] = &[("os.environ", SourceKind::Environment)];

/// Classes whose instances' methods are catalogued (`httpx.AsyncClient().get`).
static CLASSES: &[&str] = &[
    "zipfile.ZipFile",
    "git.Repo",
    "git.cmd.Git",
    "requests.Session",
    "httpx.Client",
    "httpx.AsyncClient",
    "aiohttp.ClientSession",
];

/// `read_text`/`read_bytes` exist only on paths and have no size parameter; `read` and
/// `readlines` count only on what was opened as a file, and only without a size.
static WHOLE_READS: &[WholeRead] = &[
    whole(M("read_text"), Receiver, false, None),
    whole(M("read_bytes"), Receiver, false, None),
    whole(M("read"), Receiver, true, Some(0)),
    whole(M("readlines"), Receiver, true, Some(0)),
];

const fn whole(callee: Callee, arg: ArgSel, file_only: bool, size_arg: Option<usize>) -> WholeRead {
    WholeRead {
        callee,
        arg,
        file_only,
        size_arg,
    }
}

pub static PYTHON: Catalog = Catalog {
    sinks: SINKS,
    sanitizers: SANITIZERS,
    path_fns: PATH_FNS,
    opaque: OPAQUE,
    sources: SOURCES,
    source_names: SOURCE_NAMES,
    whole_reads: WHOLE_READS,
    file_openers: &[
        P("open"),
        P("io.open"),
        P("codecs.open"),
        P("aiofiles.open"),
        P("pathlib.Path"),
        P("pathlib.PurePath"),
        P("os.fdopen"),
    ],
    prefix_checks: &["startswith"],
    containment_checks: &[M("is_relative_to"), P("os.path.commonpath")],
    separators: &["os.sep", "os.path.sep"],
    option_programs: super::OPTION_PROGRAMS,
    option_values: super::OPTION_VALUES,
    command_objects: &[("git.Repo", "git", "git"), ("git.cmd.Git", "", "git")],
    row_methods: &[
        "execute",
        "fetch",
        "fetchrow",
        "fetchval",
        "fetchall",
        "fetchone",
        "fetchmany",
        "all",
        "first",
        "one",
        "one_or_none",
        "scalar",
        "scalars",
        "mappings",
    ],
    error_detail_attrs: &[],
    error_renderers: &[],
    foreign_quoting: &["json.dumps"],
    connectors: &[
        "connect",
        "create_pool",
        "create_engine",
        "create_async_engine",
        "create_client",
        "from_url",
        "from_uri",
        "login",
        "Github",
        "Redis",
        "Minio",
        "client",
        "resource",
        "*Client",
        "*Connection",
        "*Engine",
        "*Pool",
        "*Session",
    ],
    classes: CLASSES,
    schemas: super::Schemas::NONE,
};
