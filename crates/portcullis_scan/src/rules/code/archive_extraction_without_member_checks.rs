use crate::code::catalog::SinkKind;
use crate::code::taint::HitKind;
use crate::declare_rule;

use super::{Flow, Release, TaintRule};

declare_rule! {
    /// ## What it does
    /// Finds `tarfile` extraction (`extractall`, `extract`) and `shutil.unpack_archive` of an archive a
    /// tool argument names, without `filter="data"`; in Node, extraction with `adm-zip`
    /// (`extractAllTo`, `extractAllToAsync`, `extractEntryTo`), `extract-zip`, `decompress` and
    /// `tar` (`x`, `extract`).
    ///
    /// Whether a Node extractor checks its members depends on the release, so the rule reads the
    /// release the project installs: from the nearest lockfile (`package-lock.json`,
    /// `npm-shrinkwrap.json`, `yarn.lock`, `pnpm-lock.yaml`, `bun.lock`), else from the range in
    /// `package.json`, judged by the lowest release it admits. It reports a release before the
    /// fixed one, and a release it cannot tell:
    /// - `adm-zip` from 0.5.2: `..` members are refused from 0.4.11 (CVE-2018-1002204), but by a
    ///   string-prefix test that a sibling folder passes until 0.5.2 (GHSL-2020-198);
    /// - `tar` from 7.5.14: it strips `..` and absolute paths by default, but link escapes were
    ///   fixed up to 6.1.9 (CVE-2021-37712) and again in 7.5 only (CVE-2026-26960 in 7.5.8,
    ///   CVE-2026-29786 in 7.5.10, raced and early links up to 7.5.14); with
    ///   `preservePaths: true` no release is safe;
    /// - `extract-zip` (through 2.0.1, CVE-2026-56876) and `decompress` (through 4.2.1,
    ///   CVE-2026-39246, CVE-2026-10732): no release writes link members safely, so every
    ///   release is reported.
    ///
    /// ## Why is this bad?
    /// Archive members can be named `../../.bashrc` or `/etc/cron.d/x`, or be links to such places
    /// ("zip slip"). Before Python 3.14, `tarfile` honours them unless a filter says otherwise.
    ///
    /// ## Example
    /// ```python
    /// from mcp.server.fastmcp import FastMCP
    ///
    /// mcp = FastMCP("demo")
    ///
    /// @mcp.tool()
    /// def unpack(archive: str) -> str:
    ///     import tarfile
    ///     with tarfile.open("/srv/uploads/upload.tar") as tar:
    ///         tar.extractall("/srv/unpacked")
    ///     return "ok"
    ///
    /// @mcp.tool()
    /// def unpack_named(archive: str) -> str:
    ///     import tarfile
    ///     tar = tarfile.open(archive)
    ///     tar.extractall("/srv/unpacked")
    ///     return "ok"
    /// ```
    ///
    /// ## Use instead
    /// ```python
    /// from mcp.server.fastmcp import FastMCP
    ///
    /// mcp = FastMCP("demo")
    ///
    /// @mcp.tool()
    /// def unpack_named(archive: str) -> str:
    ///     import tarfile
    ///     tar = tarfile.open(archive)
    ///     tar.extractall("/srv/unpacked", filter="data")
    ///     return "ok"
    /// ```
    ///
    /// ## References
    /// - [CWE-22: Path Traversal](https://cwe.mitre.org/data/definitions/22.html)
    /// - [tarfile extraction filters](https://docs.python.org/3/library/tarfile.html#tarfile-extraction-filter)
    /// - [GHSA-3v6h-hqm4-2rg6: adm-zip zip slip, fixed in 0.4.11](https://github.com/advisories/GHSA-3v6h-hqm4-2rg6)
    /// - [GHSA-7pqw-9j4j-h8q3: extract-zip writes through link members, through 2.0.1](https://github.com/advisories/GHSA-7pqw-9j4j-h8q3)
    /// - [CVE-2026-39246: decompress creates links outside the destination, through 4.2.1](https://nvd.nist.gov/vuln/detail/CVE-2026-39246)
    /// - [CVE-2026-26960: node-tar hardlink escape, fixed in 7.5.8](https://nvd.nist.gov/vuln/detail/CVE-2026-26960)
    pub static ARCHIVE_EXTRACTION_WITHOUT_MEMBER_CHECKS = {
        code: "PC107",
        name: "archive-extraction-without-member-checks",
        summary: "An archive a tool argument chose is extracted without checking its members",
        severity: High,
        confidence: Medium,
        cwe: [22],
        target: Code,
    }
}

fn describe(f: &Flow<'_>) -> (String, String) {
    let check = "check every member's resolved path, and every link's target, against the destination before extracting";
    let Some(release) = &f.release else {
        return (
            format!(
                "{} names an archive extracted by `{}` without checking its members",
                f.subject(),
                f.what
            ),
            f.by_language(
                "Pass `filter=\"data\"` (Python 3.12+), or check every member's resolved path against the destination before extracting.",
                &format!("Use an extractor that refuses members escaping the destination, or {check}."),
            ),
        );
    };
    let fixed = release.fixed();
    let package = fixed.package;
    let advisories = fixed.advisories;
    match release {
        Release::NoneFixed(_) => (
            format!(
                "{} names an archive extracted by `{}`, and no release of `{package}` checks every member ({advisories})",
                f.subject(),
                f.what
            ),
            format!(
                "Extract with a library that refuses members escaping the destination, or {check}."
            ),
        ),
        Release::Unfixed(..) => {
            let upgrade = release.upgrade_to().unwrap_or("a fixed release");
            (
                format!(
                    "{} names an archive extracted by `{}` of {}, a release that does not check every member ({advisories})",
                    f.subject(),
                    f.what,
                    release.installed()
                ),
                format!(
                    "Upgrade `{package}` to {upgrade} or later (and pin it in the lockfile), or {check}."
                ),
            )
        }
        Release::Unknown(_, why) => {
            let upgrade = release.upgrade_to().unwrap_or("a fixed release");
            (
                format!(
                    "{} names an archive extracted by `{}`, and the release of `{package}` installed cannot be told ({why}): releases before {upgrade} do not check every member",
                    f.subject(),
                    f.what
                ),
                format!(
                    "Depend on `{package}` {upgrade} or later and commit the lockfile, or {check}."
                ),
            )
        }
    }
}

pub(super) static RULE: TaintRule = TaintRule {
    meta: &ARCHIVE_EXTRACTION_WITHOUT_MEMBER_CHECKS,
    kind: HitKind::Sink(SinkKind::Archive),
    describe,
};
