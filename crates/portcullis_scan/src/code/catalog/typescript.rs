//! The TypeScript/JavaScript catalog, one for both: Node's standard library and the npm
//! packages MCP servers use, as data. Paths are what the frontend canonicalises imports to:
//! `node:child_process` and `child_process` are `child_process`, `fs/promises` is
//! `fs.promises`, a default import is the package itself (`import spawn from "cross-spawn"` ->
//! `cross-spawn`).

use super::{
    ArgSel, Callee, Catalog, Fixed, PathFn, PathOp, Sanitizer, Schemas, Sink, SinkKind, Source,
    SourceKind, When,
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

// The releases of each extractor that check every member, from the advisories and the fixing
// commits (each checked in the library's own history):
// - adm-zip: `..` members refused from 0.4.11 (CVE-2018-1002204, GHSA-3v6h-hqm4-2rg6), but by a
//   string-prefix test that a sibling folder (`../out-evil/x` for `out`) passes until 0.5.2
//   strips leading `..` from every name (GHSL-2020-198, SNYK-JS-ADMZIP-1065796). adm-zip writes
//   no links from an archive; 0.5.9 to 0.6.0 follow a link already in the destination
//   (CVE-2026-76845), which no member check can see.
// - extract-zip: refuses `..` since 1.6.1, but every release through 2.0.1 (the last) writes
//   link members unchecked (CVE-2026-56876, GHSA-7pqw-9j4j-h8q3): none is safe.
// - decompress: the `..`-through-a-link fix of 4.2.1 (CVE-2020-12265) leaves link members and
//   two members of one name unchecked in 4.2.1, the last release (CVE-2026-39246,
//   CVE-2026-10732): none is safe.
// - tar (node-tar): each major line fixed the 2021 link escapes (CVE-2021-32803 to 37713; the
//   last, CVE-2021-37712, in 4.4.18, 5.0.10 and 6.1.9), then 7.5 alone fixed unicode ligature
//   races (7.5.4), hardlinks through a symlink chain (CVE-2026-26960, 7.5.8), drive-relative
//   link paths (CVE-2026-29786, 7.5.10 and 7.5.11), raced symlink writes (7.5.13) and hardlinks
//   written ahead of their target (7.5.14); 4.4.19, for one, is affected by CVE-2026-29786.
static ADM_ZIP: Fixed = Fixed {
    package: "adm-zip",
    releases: &["0.5.2"],
    advisories: "CVE-2018-1002204, GHSL-2020-198",
};
static EXTRACT_ZIP: Fixed = Fixed {
    package: "extract-zip",
    releases: &[],
    advisories: "CVE-2026-56876",
};
static DECOMPRESS: Fixed = Fixed {
    package: "decompress",
    releases: &[],
    advisories: "CVE-2026-39246, CVE-2026-10732",
};
static NODE_TAR: Fixed = Fixed {
    package: "tar",
    releases: &["7.5.14"],
    advisories: "CVE-2021-37712, CVE-2026-26960, CVE-2026-29786",
};

static SINKS: &[Sink] = &[
    // Shell: a command line run by `/bin/sh -c`.
    sink(P("child_process.exec"), At(0, ""), Shell, When::Always),
    sink(P("child_process.execSync"), At(0, ""), Shell, When::Always),
    sink(
        P("child_process.spawn"),
        At(0, ""),
        Shell,
        When::KeywordTrue("shell"),
    ),
    sink(
        P("child_process.spawn"),
        At(1, ""),
        Shell,
        When::KeywordTrue("shell"),
    ),
    sink(
        P("child_process.spawnSync"),
        At(0, ""),
        Shell,
        When::KeywordTrue("shell"),
    ),
    sink(
        P("child_process.spawnSync"),
        At(1, ""),
        Shell,
        When::KeywordTrue("shell"),
    ),
    sink(
        P("child_process.execFile"),
        At(0, ""),
        Shell,
        When::KeywordTrue("shell"),
    ),
    sink(
        P("child_process.execFile"),
        At(1, ""),
        Shell,
        When::KeywordTrue("shell"),
    ),
    sink(
        P("child_process.execFileSync"),
        At(0, ""),
        Shell,
        When::KeywordTrue("shell"),
    ),
    sink(
        P("child_process.execFileSync"),
        At(1, ""),
        Shell,
        When::KeywordTrue("shell"),
    ),
    sink(P("execa"), At(0, ""), Shell, When::KeywordTrue("shell")),
    sink(
        P("execa.execa"),
        At(0, ""),
        Shell,
        When::KeywordTrue("shell"),
    ),
    sink(
        P("execa.execaSync"),
        At(0, ""),
        Shell,
        When::KeywordTrue("shell"),
    ),
    sink(
        P("cross-spawn"),
        At(0, ""),
        Shell,
        When::KeywordTrue("shell"),
    ),
    sink(
        P("cross-spawn.sync"),
        At(0, ""),
        Shell,
        When::KeywordTrue("shell"),
    ),
    sink(
        P("cross-spawn.spawn"),
        At(0, ""),
        Shell,
        When::KeywordTrue("shell"),
    ),
    // A whole command line the caller chose, split on spaces: the program too.
    sink(P("execa.execaCommand"), At(0, ""), Shell, When::Always),
    sink(P("execa.execaCommandSync"), At(0, ""), Shell, When::Always),
    sink(P("shelljs.exec"), At(0, ""), Shell, When::Always),
    sink(P("shelljs.default.exec"), At(0, ""), Shell, When::Always),
    // Argument vectors: a program and its arguments apart.
    sink(
        P("child_process.spawn"),
        ArgSel::Argv(0, 1),
        ArgInjection,
        When::Always,
    ),
    sink(
        P("child_process.spawnSync"),
        ArgSel::Argv(0, 1),
        ArgInjection,
        When::Always,
    ),
    sink(
        P("child_process.execFile"),
        ArgSel::Argv(0, 1),
        ArgInjection,
        When::Always,
    ),
    sink(
        P("child_process.execFileSync"),
        ArgSel::Argv(0, 1),
        ArgInjection,
        When::Always,
    ),
    sink(P("execa"), ArgSel::Argv(0, 1), ArgInjection, When::Always),
    sink(
        P("execa.execa"),
        ArgSel::Argv(0, 1),
        ArgInjection,
        When::Always,
    ),
    sink(
        P("execa.execaSync"),
        ArgSel::Argv(0, 1),
        ArgInjection,
        When::Always,
    ),
    sink(
        P("cross-spawn"),
        ArgSel::Argv(0, 1),
        ArgInjection,
        When::Always,
    ),
    sink(
        P("cross-spawn.sync"),
        ArgSel::Argv(0, 1),
        ArgInjection,
        When::Always,
    ),
    sink(
        P("cross-spawn.spawn"),
        ArgSel::Argv(0, 1),
        ArgInjection,
        When::Always,
    ),
    // Code.
    sink(P("eval"), At(0, ""), CodeEval, When::Always),
    sink(P("Function"), ArgSel::Any, CodeEval, When::Always),
    sink(P("vm.runInNewContext"), At(0, ""), CodeEval, When::Always),
    sink(P("vm.runInThisContext"), At(0, ""), CodeEval, When::Always),
    sink(P("vm.runInContext"), At(0, ""), CodeEval, When::Always),
    sink(P("vm.Script"), At(0, ""), CodeEval, When::Always),
    sink(P("vm.compileFunction"), At(0, ""), CodeEval, When::Always),
    sink(P("import"), At(0, ""), CodeEval, When::Always),
    sink(P("require"), At(0, ""), CodeEval, When::Always),
    // Files: `fs`, `fs/promises`, `fs-extra`.
    sink(P("fs.readFile"), At(0, ""), Path, When::Always),
    sink(P("fs.readFileSync"), At(0, ""), Path, When::Always),
    sink(P("fs.writeFile"), At(0, ""), Path, When::Always),
    sink(P("fs.writeFileSync"), At(0, ""), Path, When::Always),
    sink(P("fs.appendFile"), At(0, ""), Path, When::Always),
    sink(P("fs.appendFileSync"), At(0, ""), Path, When::Always),
    sink(P("fs.readdir"), At(0, ""), Path, When::Always),
    sink(P("fs.readdirSync"), At(0, ""), Path, When::Always),
    sink(P("fs.rm"), At(0, ""), Path, When::Always),
    sink(P("fs.rmSync"), At(0, ""), Path, When::Always),
    sink(P("fs.rmdir"), At(0, ""), Path, When::Always),
    sink(P("fs.rmdirSync"), At(0, ""), Path, When::Always),
    sink(P("fs.unlink"), At(0, ""), Path, When::Always),
    sink(P("fs.unlinkSync"), At(0, ""), Path, When::Always),
    sink(P("fs.mkdir"), At(0, ""), Path, When::Always),
    sink(P("fs.mkdirSync"), At(0, ""), Path, When::Always),
    sink(P("fs.createReadStream"), At(0, ""), Path, When::Always),
    sink(P("fs.createWriteStream"), At(0, ""), Path, When::Always),
    sink(P("fs.open"), At(0, ""), Path, When::Always),
    sink(P("fs.openSync"), At(0, ""), Path, When::Always),
    sink(P("fs.opendir"), At(0, ""), Path, When::Always),
    sink(P("fs.opendirSync"), At(0, ""), Path, When::Always),
    sink(P("fs.chmod"), At(0, ""), Path, When::Always),
    sink(P("fs.chmodSync"), At(0, ""), Path, When::Always),
    sink(P("fs.truncate"), At(0, ""), Path, When::Always),
    sink(P("fs.truncateSync"), At(0, ""), Path, When::Always),
    sink(P("fs.copyFile"), At(0, ""), Path, When::Always),
    sink(P("fs.copyFile"), At(1, ""), Path, When::Always),
    sink(P("fs.copyFileSync"), At(0, ""), Path, When::Always),
    sink(P("fs.copyFileSync"), At(1, ""), Path, When::Always),
    sink(P("fs.rename"), At(0, ""), Path, When::Always),
    sink(P("fs.rename"), At(1, ""), Path, When::Always),
    sink(P("fs.renameSync"), At(0, ""), Path, When::Always),
    sink(P("fs.renameSync"), At(1, ""), Path, When::Always),
    sink(P("fs.cp"), At(0, ""), Path, When::Always),
    sink(P("fs.cp"), At(1, ""), Path, When::Always),
    sink(P("fs.cpSync"), At(0, ""), Path, When::Always),
    sink(P("fs.cpSync"), At(1, ""), Path, When::Always),
    sink(P("fs.symlink"), At(1, ""), Path, When::Always),
    sink(P("fs.promises.readFile"), At(0, ""), Path, When::Always),
    sink(P("fs.promises.writeFile"), At(0, ""), Path, When::Always),
    sink(P("fs.promises.appendFile"), At(0, ""), Path, When::Always),
    sink(P("fs.promises.readdir"), At(0, ""), Path, When::Always),
    sink(P("fs.promises.rm"), At(0, ""), Path, When::Always),
    sink(P("fs.promises.rmdir"), At(0, ""), Path, When::Always),
    sink(P("fs.promises.unlink"), At(0, ""), Path, When::Always),
    sink(P("fs.promises.mkdir"), At(0, ""), Path, When::Always),
    sink(P("fs.promises.open"), At(0, ""), Path, When::Always),
    sink(P("fs.promises.opendir"), At(0, ""), Path, When::Always),
    sink(P("fs.promises.chmod"), At(0, ""), Path, When::Always),
    sink(P("fs.promises.truncate"), At(0, ""), Path, When::Always),
    sink(P("fs.promises.copyFile"), At(0, ""), Path, When::Always),
    sink(P("fs.promises.copyFile"), At(1, ""), Path, When::Always),
    sink(P("fs.promises.rename"), At(0, ""), Path, When::Always),
    sink(P("fs.promises.rename"), At(1, ""), Path, When::Always),
    sink(P("fs.promises.cp"), At(0, ""), Path, When::Always),
    sink(P("fs.promises.cp"), At(1, ""), Path, When::Always),
    sink(P("fs.promises.symlink"), At(1, ""), Path, When::Always),
    sink(P("fs-extra.readFile"), At(0, ""), Path, When::Always),
    sink(P("fs-extra.readFileSync"), At(0, ""), Path, When::Always),
    sink(P("fs-extra.writeFile"), At(0, ""), Path, When::Always),
    sink(P("fs-extra.writeFileSync"), At(0, ""), Path, When::Always),
    sink(P("fs-extra.appendFile"), At(0, ""), Path, When::Always),
    sink(P("fs-extra.appendFileSync"), At(0, ""), Path, When::Always),
    sink(P("fs-extra.readdir"), At(0, ""), Path, When::Always),
    sink(P("fs-extra.readdirSync"), At(0, ""), Path, When::Always),
    sink(P("fs-extra.rm"), At(0, ""), Path, When::Always),
    sink(P("fs-extra.rmSync"), At(0, ""), Path, When::Always),
    sink(P("fs-extra.rmdir"), At(0, ""), Path, When::Always),
    sink(P("fs-extra.rmdirSync"), At(0, ""), Path, When::Always),
    sink(P("fs-extra.unlink"), At(0, ""), Path, When::Always),
    sink(P("fs-extra.unlinkSync"), At(0, ""), Path, When::Always),
    sink(P("fs-extra.mkdir"), At(0, ""), Path, When::Always),
    sink(P("fs-extra.mkdirSync"), At(0, ""), Path, When::Always),
    sink(
        P("fs-extra.createReadStream"),
        At(0, ""),
        Path,
        When::Always,
    ),
    sink(
        P("fs-extra.createWriteStream"),
        At(0, ""),
        Path,
        When::Always,
    ),
    sink(P("fs-extra.open"), At(0, ""), Path, When::Always),
    sink(P("fs-extra.openSync"), At(0, ""), Path, When::Always),
    sink(P("fs-extra.opendir"), At(0, ""), Path, When::Always),
    sink(P("fs-extra.opendirSync"), At(0, ""), Path, When::Always),
    sink(P("fs-extra.chmod"), At(0, ""), Path, When::Always),
    sink(P("fs-extra.chmodSync"), At(0, ""), Path, When::Always),
    sink(P("fs-extra.truncate"), At(0, ""), Path, When::Always),
    sink(P("fs-extra.truncateSync"), At(0, ""), Path, When::Always),
    sink(P("fs-extra.remove"), At(0, ""), Path, When::Always),
    sink(P("fs-extra.removeSync"), At(0, ""), Path, When::Always),
    sink(P("fs-extra.outputFile"), At(0, ""), Path, When::Always),
    sink(P("fs-extra.outputFileSync"), At(0, ""), Path, When::Always),
    sink(P("fs-extra.readJson"), At(0, ""), Path, When::Always),
    sink(P("fs-extra.readJsonSync"), At(0, ""), Path, When::Always),
    sink(P("fs-extra.writeJson"), At(0, ""), Path, When::Always),
    sink(P("fs-extra.writeJsonSync"), At(0, ""), Path, When::Always),
    sink(P("fs-extra.outputJson"), At(0, ""), Path, When::Always),
    sink(P("fs-extra.ensureDir"), At(0, ""), Path, When::Always),
    sink(P("fs-extra.ensureDirSync"), At(0, ""), Path, When::Always),
    sink(P("fs-extra.emptyDir"), At(0, ""), Path, When::Always),
    sink(P("fs-extra.ensureFile"), At(0, ""), Path, When::Always),
    sink(P("fs-extra.mkdirp"), At(0, ""), Path, When::Always),
    sink(P("fs-extra.mkdirs"), At(0, ""), Path, When::Always),
    sink(P("fs-extra.copyFile"), At(0, ""), Path, When::Always),
    sink(P("fs-extra.copyFile"), At(1, ""), Path, When::Always),
    sink(P("fs-extra.copyFileSync"), At(0, ""), Path, When::Always),
    sink(P("fs-extra.copyFileSync"), At(1, ""), Path, When::Always),
    sink(P("fs-extra.rename"), At(0, ""), Path, When::Always),
    sink(P("fs-extra.rename"), At(1, ""), Path, When::Always),
    sink(P("fs-extra.renameSync"), At(0, ""), Path, When::Always),
    sink(P("fs-extra.renameSync"), At(1, ""), Path, When::Always),
    sink(P("fs-extra.cp"), At(0, ""), Path, When::Always),
    sink(P("fs-extra.cp"), At(1, ""), Path, When::Always),
    sink(P("fs-extra.cpSync"), At(0, ""), Path, When::Always),
    sink(P("fs-extra.cpSync"), At(1, ""), Path, When::Always),
    sink(P("fs-extra.copy"), At(0, ""), Path, When::Always),
    sink(P("fs-extra.copy"), At(1, ""), Path, When::Always),
    sink(P("fs-extra.copySync"), At(0, ""), Path, When::Always),
    sink(P("fs-extra.copySync"), At(1, ""), Path, When::Always),
    sink(P("fs-extra.move"), At(0, ""), Path, When::Always),
    sink(P("fs-extra.move"), At(1, ""), Path, When::Always),
    sink(P("fs-extra.moveSync"), At(0, ""), Path, When::Always),
    sink(P("fs-extra.moveSync"), At(1, ""), Path, When::Always),
    sink(P("fs-extra.symlink"), At(1, ""), Path, When::Always),
    // Templates compiled from a string: Handlebars helpers, EJS and Pug run JavaScript.
    sink(P("handlebars.compile"), At(0, ""), Template, When::Always),
    sink(
        P("handlebars.precompile"),
        At(0, ""),
        Template,
        When::Always,
    ),
    sink(P("ejs.render"), At(0, ""), Template, When::Always),
    sink(P("ejs.compile"), At(0, ""), Template, When::Always),
    sink(P("pug.render"), At(0, ""), Template, When::Always),
    sink(P("pug.compile"), At(0, ""), Template, When::Always),
    sink(
        P("nunjucks.renderString"),
        At(0, ""),
        Template,
        When::Always,
    ),
    sink(P("lodash.template"), At(0, ""), Template, When::Always),
    sink(
        P("lodash.template.default"),
        At(0, ""),
        Template,
        When::Always,
    ),
    // Deserialisers that rebuild functions (`_$$ND_FUNC$$_` runs code on load).
    sink(
        P("node-serialize.unserialize"),
        At(0, ""),
        Deserialize,
        When::Always,
    ),
    sink(
        P("serialize-to-js.deserialize"),
        At(0, ""),
        Deserialize,
        When::Always,
    ),
    sink(
        P("funcster.deepDeserialize"),
        At(0, ""),
        Deserialize,
        When::Always,
    ),
    // Opening an archive reads the file it names.
    sink(P("adm-zip"), At(0, ""), Path, When::Always),
    sink(P("unzipper.Open.file"), At(0, ""), Path, When::Always),
    sink(P("unzipper.Extract"), At(0, ""), Path, When::Always),
    // extract-zip(source, { dir }) and decompress(input, output) open the archive they name.
    sink(P("extract-zip"), At(0, ""), Path, When::Always),
    sink(P("decompress"), At(0, ""), Path, When::Always),
    // Archives: members are written where their names say, unless the release installed
    // checks them (see the `Fixed` entries below).
    sink(M("extractAllTo"), Receiver, Archive, When::Always).fixed_in(&ADM_ZIP),
    sink(M("extractAllToAsync"), Receiver, Archive, When::Always).fixed_in(&ADM_ZIP),
    sink(M("extractEntryTo"), Receiver, Archive, When::Always).fixed_in(&ADM_ZIP),
    sink(P("extract-zip"), At(0, ""), Archive, When::Always).fixed_in(&EXTRACT_ZIP),
    sink(P("decompress"), At(0, ""), Archive, When::Always).fixed_in(&DECOMPRESS),
    // node-tar strips `..` and absolute member paths unless told to keep them; with
    // `preservePaths` no release is safe, without it the links tricks of older ones remain.
    sink(
        P("tar.x"),
        At(0, ""),
        Archive,
        When::KeywordTrue("preservePaths"),
    ),
    sink(
        P("tar.extract"),
        At(0, ""),
        Archive,
        When::KeywordTrue("preservePaths"),
    ),
    sink(
        P("tar.x"),
        At(0, ""),
        Archive,
        When::KeywordNotTrue("preservePaths"),
    )
    .fixed_in(&NODE_TAR),
    sink(
        P("tar.extract"),
        At(0, ""),
        Archive,
        When::KeywordNotTrue("preservePaths"),
    )
    .fixed_in(&NODE_TAR),
    // Outbound requests.
    sink(P("fetch"), At(0, ""), Ssrf, When::Always),
    sink(P("globalThis.fetch"), At(0, ""), Ssrf, When::Always),
    sink(P("node-fetch"), At(0, ""), Ssrf, When::Always),
    sink(P("undici.fetch"), At(0, ""), Ssrf, When::Always),
    sink(P("undici.request"), At(0, ""), Ssrf, When::Always),
    sink(P("axios"), At(0, ""), Ssrf, When::Always),
    sink(P("got"), At(0, ""), Ssrf, When::Always),
    sink(P("ky"), At(0, ""), Ssrf, When::Always),
    sink(P("superagent.get"), At(0, ""), Ssrf, When::Always),
    sink(P("superagent.post"), At(0, ""), Ssrf, When::Always),
    sink(P("needle.get"), At(0, ""), Ssrf, When::Always),
    sink(P("axios.get"), At(0, ""), Ssrf, When::Always),
    sink(P("axios.post"), At(0, ""), Ssrf, When::Always),
    sink(P("axios.put"), At(0, ""), Ssrf, When::Always),
    sink(P("axios.patch"), At(0, ""), Ssrf, When::Always),
    sink(P("axios.delete"), At(0, ""), Ssrf, When::Always),
    sink(P("axios.head"), At(0, ""), Ssrf, When::Always),
    sink(P("axios.request"), At(0, ""), Ssrf, When::Always),
    sink(P("got.get"), At(0, ""), Ssrf, When::Always),
    sink(P("got.post"), At(0, ""), Ssrf, When::Always),
    sink(P("got.put"), At(0, ""), Ssrf, When::Always),
    sink(P("got.patch"), At(0, ""), Ssrf, When::Always),
    sink(P("got.delete"), At(0, ""), Ssrf, When::Always),
    sink(P("got.head"), At(0, ""), Ssrf, When::Always),
    sink(P("got.request"), At(0, ""), Ssrf, When::Always),
    sink(P("ky.get"), At(0, ""), Ssrf, When::Always),
    sink(P("ky.post"), At(0, ""), Ssrf, When::Always),
    sink(P("ky.put"), At(0, ""), Ssrf, When::Always),
    sink(P("ky.patch"), At(0, ""), Ssrf, When::Always),
    sink(P("ky.delete"), At(0, ""), Ssrf, When::Always),
    sink(P("ky.head"), At(0, ""), Ssrf, When::Always),
    sink(P("ky.request"), At(0, ""), Ssrf, When::Always),
    sink(P("http.get"), At(0, ""), Ssrf, When::Always),
    sink(P("http.request"), At(0, ""), Ssrf, When::Always),
    sink(P("https.get"), At(0, ""), Ssrf, When::Always),
    sink(P("https.request"), At(0, ""), Ssrf, When::Always),
    sink(P("net.connect"), ArgSel::Any, Ssrf, When::Always),
    sink(P("net.createConnection"), ArgSel::Any, Ssrf, When::Always),
    // SQL, when text is built around a value.
    sink(M("query"), At(0, ""), Sql, When::Built),
    sink(M("execute"), At(0, ""), Sql, When::Built),
    sink(M("raw"), At(0, ""), Sql, When::Built),
    sink(M("prepare"), At(0, ""), Sql, When::Built),
    sink(M("$queryRawUnsafe"), At(0, ""), Sql, When::Built),
    sink(M("$executeRawUnsafe"), At(0, ""), Sql, When::Built),
    sink(M("unsafe"), At(0, ""), Sql, When::Built),
    sink(M("whereRaw"), At(0, ""), Sql, When::Built),
    sink(M("orderByRaw"), At(0, ""), Sql, When::Built),
    sink(M("havingRaw"), At(0, ""), Sql, When::Built),
];

const fn clean(callee: Callee, cleans: &'static [SinkKind]) -> Sanitizer {
    Sanitizer { callee, cleans }
}

static SANITIZERS: &[Sanitizer] = &[
    clean(P("shell-quote.quote"), &[Shell]),
    clean(P("shell-escape"), &[Shell]),
    clean(P("Number"), &SinkKind::ALL),
    clean(P("parseInt"), &SinkKind::ALL),
    clean(P("parseFloat"), &SinkKind::ALL),
    clean(P("Number.parseInt"), &SinkKind::ALL),
    clean(P("Number.parseFloat"), &SinkKind::ALL),
    clean(P("Boolean"), &SinkKind::ALL),
    clean(P("Math.floor"), &SinkKind::ALL),
    clean(P("Math.round"), &SinkKind::ALL),
    clean(P("Math.min"), &SinkKind::ALL),
    clean(P("Math.max"), &SinkKind::ALL),
    clean(M("toFixed"), &SinkKind::ALL),
    clean(P("path.basename"), &[Path, Archive]),
    clean(P("encodeURIComponent"), &[Path]),
    clean(M("digest"), &SinkKind::ALL),
    clean(P("crypto.randomUUID"), &SinkKind::ALL),
];

const fn path_fn(callee: Callee, op: PathOp) -> PathFn {
    PathFn { callee, op }
}

static PATH_FNS: &[PathFn] = &[
    path_fn(P("fs.realpathSync"), PathOp::Resolve),
    path_fn(P("fs.realpathSync.native"), PathOp::Resolve),
    path_fn(P("fs.realpath"), PathOp::Resolve),
    path_fn(P("fs.promises.realpath"), PathOp::Resolve),
    path_fn(P("fs-extra.realpath"), PathOp::Resolve),
    path_fn(P("fs-extra.realpathSync"), PathOp::Resolve),
    path_fn(P("path.resolve"), PathOp::Normalize),
    path_fn(P("path.normalize"), PathOp::Normalize),
    path_fn(P("path.posix.resolve"), PathOp::Normalize),
    path_fn(P("path.posix.normalize"), PathOp::Normalize),
    path_fn(P("path.join"), PathOp::Join),
    path_fn(P("path.posix.join"), PathOp::Join),
];

static OPAQUE: &[Callee] = &[
    P("fs.existsSync"),
    P("fs-extra.pathExists"),
    P("fs-extra.pathExistsSync"),
    P("path.isAbsolute"),
    P("path.extname"),
    P("Array.isArray"),
    P("Number.isInteger"),
    P("Number.isFinite"),
    P("isNaN"),
    M("startsWith"),
    M("endsWith"),
    M("test"),
    M("indexOf"),
    M("lastIndexOf"),
    M("localeCompare"),
    M("isFile"),
    M("isDirectory"),
    M("isSymbolicLink"),
    M("keys"),
];

const fn source(callee: Callee, kind: SourceKind) -> Source {
    Source { callee, kind }
}

static SOURCES: &[Source] = &[
    source(P("fetch"), SourceKind::UntrustedContent),
    source(P("node-fetch"), SourceKind::UntrustedContent),
    source(P("undici.fetch"), SourceKind::UntrustedContent),
    source(P("undici.request"), SourceKind::UntrustedContent),
    source(P("axios"), SourceKind::UntrustedContent),
    source(P("axios.get"), SourceKind::UntrustedContent),
    source(P("axios.post"), SourceKind::UntrustedContent),
    source(P("axios.request"), SourceKind::UntrustedContent),
    source(P("got"), SourceKind::UntrustedContent),
    source(P("got.get"), SourceKind::UntrustedContent),
    source(P("ky.get"), SourceKind::UntrustedContent),
];

static SOURCE_NAMES: &[(&str, SourceKind)] = &[("process.env", SourceKind::Environment)];

/// Whole-file reads (PC113): `fs` and `fs-extra` read by path; a `FileHandle`
/// (`fs.promises.open`) and a `Bun.file` read whole by method. Streams, `fs.read` into a buffer
/// and `FileHandle.read()` read a bounded chunk and are not listed.
static WHOLE_READS: &[super::WholeRead] = &[
    whole_by_path(P("fs.readFile")),
    whole_by_path(P("fs.readFileSync")),
    whole_by_path(P("fs.promises.readFile")),
    whole_by_path(P("fs-extra.readFile")),
    whole_by_path(P("fs-extra.readFileSync")),
    whole_by_path(P("fs-extra.readJson")),
    whole_by_path(P("fs-extra.readJsonSync")),
    whole_by_path(P("fs-extra.readJSON")),
    whole_by_path(P("fs-extra.readJSONSync")),
    whole_by_path(P("Deno.readFile")),
    whole_by_path(P("Deno.readTextFile")),
    whole_of_file(M("readFile")),
    whole_of_file(M("text")),
    whole_of_file(M("json")),
    whole_of_file(M("arrayBuffer")),
    whole_of_file(M("bytes")),
];

const fn whole_by_path(callee: Callee) -> super::WholeRead {
    super::WholeRead {
        callee,
        arg: At(0, ""),
        file_only: false,
        size_arg: None,
    }
}

const fn whole_of_file(callee: Callee) -> super::WholeRead {
    super::WholeRead {
        callee,
        arg: Receiver,
        file_only: true,
        size_arg: None,
    }
}

/// What opens a file for the methods above: `Bun.file(p)`, `await fs.promises.open(p)`.
static FILE_OPENERS: &[Callee] = &[P("Bun.file"), P("fs.promises.open")];

pub static TYPESCRIPT: Catalog = Catalog {
    sinks: SINKS,
    sanitizers: SANITIZERS,
    path_fns: PATH_FNS,
    opaque: OPAQUE,
    sources: SOURCES,
    source_names: SOURCE_NAMES,
    whole_reads: WHOLE_READS,
    file_openers: FILE_OPENERS,
    prefix_checks: &["startsWith"],
    containment_checks: &[],
    separators: &["path.sep", "path.posix.sep"],
    option_programs: super::OPTION_PROGRAMS,
    option_values: super::OPTION_VALUES,
    connectors: &[
        "createPool",
        "createConnection",
        "createClient",
        "connect",
        "*Client",
        "*Pool",
        "*Connection",
    ],
    row_methods: &["query", "execute", "prepare", "all", "get", "raw"],
    error_detail_attrs: &["stack"],
    error_renderers: &["util.inspect"],
    foreign_quoting: &["JSON.stringify"],
    command_objects: &[],
    classes: &[],
    schemas: Schemas {
        roots: &["zod"],
        closed: &[
            "number",
            "boolean",
            "enum",
            "nativeEnum",
            "literal",
            "date",
            "int",
            "bigint",
            "uuid",
            "coerce.number",
            "coerce.boolean",
        ],
        patterns: &["regex"],
    },
};
