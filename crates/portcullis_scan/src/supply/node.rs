//! Which release of an npm package a source file's project installs: from the nearest
//! lockfile (`package-lock.json` v1 to v3, `npm-shrinkwrap.json`, `yarn.lock` classic and berry,
//! `pnpm-lock.yaml`, `bun.lock`) when one pins it, else from the range `package.json` asks for,
//! taken at its lowest admissible release.
//!
//! The trade-off: a range is judged by the oldest release it lets in, not by the newest that an
//! install would pick today, since a lockfile made earlier, a cache or a mirror can hold that one.
//! The manifests are the ones the scan already loaded ([`SupplyFile`]); a lockfile is read the
//! first time a finding asks about it, once per scan.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use semver::Version;

use super::{SupplyFile, SupplyKind};
use crate::document::{self, Format, Node};

/// Lockfiles that pin a `package.json`, by name.
pub const NODE_LOCKS: &[&str] = &[
    "package-lock.json",
    "npm-shrinkwrap.json",
    "yarn.lock",
    "pnpm-lock.yaml",
    "bun.lock",
    "bun.lockb",
];

/// What release of a package a project gets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Installed {
    /// The release a lockfile pins (the lowest, when it pins several for one manifest).
    Locked { version: Version, lockfile: String },
    /// No lockfile pins it: the lowest release the `package.json` range admits.
    Range { spec: String, lowest: Version },
    /// Why the release cannot be told.
    Unknown(String),
}

/// The Node manifests of a scan, to ask which release of a package a source file gets.
pub struct NodeProjects<'a> {
    /// `package.json` files by folder, deepest first.
    manifests: Vec<(PathBuf, &'a SupplyFile)>,
    locks: Mutex<HashMap<PathBuf, Option<Arc<Lock>>>>,
}

impl<'a> NodeProjects<'a> {
    pub fn new(files: &'a [SupplyFile]) -> Self {
        let mut manifests: Vec<(PathBuf, &SupplyFile)> = files
            .iter()
            .filter(|f| f.kind == SupplyKind::PackageJson)
            .map(|f| {
                let dir = f
                    .source
                    .path
                    .parent()
                    .unwrap_or(Path::new(""))
                    .to_path_buf();
                (dir, f)
            })
            .collect();
        manifests.sort_by_key(|(d, _)| std::cmp::Reverse(d.components().count()));
        NodeProjects {
            manifests,
            locks: Mutex::new(HashMap::new()),
        }
    }

    /// The release of `package` the project holding `source` installs.
    pub fn installed(&self, source: &Path, package: &str) -> Installed {
        let Some((dir, manifest)) = self.manifests.iter().find(|(d, _)| source.starts_with(d))
        else {
            return Installed::Unknown("no `package.json` governs this file".to_string());
        };
        let spec = document::parse(&manifest.source.text, Format::Json)
            .ok()
            .and_then(|doc| dependency_spec(&doc, package));
        if let Some(rel) = manifest.lock(NODE_LOCKS) {
            let lock_path = dir.join(rel);
            let lock_dir = lock_path.parent().unwrap_or(Path::new("")).to_path_buf();
            // The manifest's folder as the lockfile names it (`packages/api`, `` at the root).
            let member = relative_member(dir, &lock_dir);
            let name = rel.rsplit('/').next().unwrap_or(rel).to_string();
            return match self.lock(&lock_path) {
                Some(lock) => match lock.version(&member, package, spec.as_deref()) {
                    Some(version) => Installed::Locked {
                        version,
                        lockfile: name,
                    },
                    None => Installed::Unknown(format!("`{name}` does not pin `{package}`")),
                },
                None => Installed::Unknown(format!("`{name}` could not be read")),
            };
        }
        match spec {
            Some(spec) => match lowest_admissible(&spec) {
                Some(lowest) => Installed::Range { spec, lowest },
                None => Installed::Unknown(format!(
                    "`package.json` asks for `{package}@{spec}`, no release range"
                )),
            },
            None => Installed::Unknown(format!(
                "`package.json` does not list `{package}` and no lockfile pins it"
            )),
        }
    }

    fn lock(&self, path: &Path) -> Option<Arc<Lock>> {
        let mut cache = self.locks.lock().unwrap_or_else(|p| p.into_inner());
        cache
            .entry(path.to_path_buf())
            .or_insert_with(|| Lock::read(path).map(Arc::new))
            .clone()
    }
}

/// `packages/api` for a manifest in `<lock dir>/packages/api`, `` for one beside the lockfile.
fn relative_member(dir: &Path, lock_dir: &Path) -> String {
    let dir = normalize(dir);
    let lock_dir = normalize(lock_dir);
    dir.strip_prefix(&lock_dir)
        .map(|r| {
            r.components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect::<Vec<_>>()
                .join("/")
        })
        .unwrap_or_default()
}

/// Drops `.` and folds `..` lexically (`a/b/../../lock` is `lock`'s folder).
fn normalize(p: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            std::path::Component::CurDir => {}
            std::path::Component::ParentDir => {
                if !out.pop() {
                    out.push("..");
                }
            }
            other => out.push(other.as_os_str()),
        }
    }
    out
}

/// The version spec `package.json` gives `package`, from any dependency section.
fn dependency_spec(doc: &Node, package: &str) -> Option<String> {
    [
        "dependencies",
        "optionalDependencies",
        "devDependencies",
        "peerDependencies",
    ]
    .iter()
    .find_map(|s| doc.get(s)?.get(package)?.as_str().map(str::to_string))
}

/// A parsed lockfile.
#[derive(Debug)]
enum Lock {
    Npm(Node),
    Pnpm(Node),
    Bun(Node),
    /// `yarn.lock`, classic or berry: each package's (range, version) entries.
    Yarn(HashMap<String, Vec<(String, String)>>),
}

impl Lock {
    fn read(path: &Path) -> Option<Lock> {
        let name = path.file_name()?.to_str()?;
        // `bun.lockb` is binary: nothing to read.
        let text = std::fs::read_to_string(path).ok()?;
        match name {
            "package-lock.json" | "npm-shrinkwrap.json" => {
                document::parse(&text, Format::Json).ok().map(Lock::Npm)
            }
            "pnpm-lock.yaml" => document::parse(&text, Format::Yaml).ok().map(Lock::Pnpm),
            "bun.lock" => document::parse(&text, Format::Json).ok().map(Lock::Bun),
            "yarn.lock" => Some(Lock::Yarn(parse_yarn(&text))),
            _ => None,
        }
    }

    /// The release pinned for `package` as the manifest in folder `member` resolves it.
    fn version(&self, member: &str, package: &str, spec: Option<&str>) -> Option<Version> {
        match self {
            Lock::Npm(doc) => npm_version(doc, member, package),
            Lock::Pnpm(doc) => pnpm_version(doc, member, package),
            Lock::Bun(doc) => {
                let entry = doc.get("packages")?.get(package)?.items().first()?;
                let at = entry.as_str()?;
                parse_version(at.rsplit_once('@')?.1)
            }
            Lock::Yarn(entries) => {
                let entries = entries.get(package)?;
                let chosen: Vec<&(String, String)> = match spec {
                    Some(spec) => {
                        let exact: Vec<_> = entries
                            .iter()
                            .filter(|(range, _)| {
                                range == spec || range.strip_prefix("npm:") == Some(spec)
                            })
                            .collect();
                        if exact.is_empty() {
                            entries.iter().collect()
                        } else {
                            exact
                        }
                    }
                    None => entries.iter().collect(),
                };
                chosen.iter().filter_map(|(_, v)| parse_version(v)).min()
            }
        }
    }
}

/// `package-lock.json`: v2/v3 `packages` keyed by install path, resolved as Node does from the
/// manifest's folder up; v1 `dependencies` at the top.
fn npm_version(doc: &Node, member: &str, package: &str) -> Option<Version> {
    if let Some(packages) = doc.get("packages") {
        let mut dir = member.to_string();
        loop {
            let key = if dir.is_empty() {
                format!("node_modules/{package}")
            } else {
                format!("{dir}/node_modules/{package}")
            };
            if let Some(entry) = packages.get(&key) {
                // A workspace package linked in: its own folder's entry has the version.
                let entry = match entry.get("link").and_then(Node::as_bool) {
                    Some(true) => entry
                        .get("resolved")
                        .and_then(Node::as_str)
                        .and_then(|r| packages.get(r))
                        .unwrap_or(entry),
                    _ => entry,
                };
                return entry
                    .get("version")
                    .and_then(Node::as_str)
                    .and_then(parse_version);
            }
            if dir.is_empty() {
                break;
            }
            dir = dir
                .rsplit_once('/')
                .map_or(String::new(), |(p, _)| p.to_string());
        }
        return None;
    }
    doc.get("dependencies")?
        .get(package)?
        .get("version")?
        .as_str()
        .and_then(parse_version)
}

/// `pnpm-lock.yaml`: the importer of the manifest's folder (v5.4+), the top-level dependency
/// lists (v5), else the lowest release of the package listed.
fn pnpm_version(doc: &Node, member: &str, package: &str) -> Option<Version> {
    let sections = ["dependencies", "optionalDependencies", "devDependencies"];
    let from = |importer: &Node| {
        sections.iter().find_map(|s| {
            let dep = importer.get(s)?.get(package)?;
            // v6+: `{specifier, version}`; v5: the version itself.
            let v = dep.get("version").unwrap_or(dep).scalar_text()?;
            parse_version(&v)
        })
    };
    let importer_key = if member.is_empty() { "." } else { member };
    if let Some(importers) = doc.get("importers") {
        if let Some(v) = importers.get(importer_key).and_then(from) {
            return Some(v);
        }
    } else if let Some(v) = from(doc) {
        return Some(v);
    }
    // `/adm-zip/0.5.16` (v5), `/adm-zip@0.5.16` (v6), `adm-zip@0.5.16` (v9).
    let packages = doc.get("packages")?;
    packages
        .members()
        .iter()
        .filter_map(|m| {
            let key = m.key.value.strip_prefix('/').unwrap_or(&m.key.value);
            let rest = key.strip_prefix(package)?.strip_prefix(['@', '/'])?;
            parse_version(rest)
        })
        .min()
}

/// `yarn.lock` entries, classic (`"adm-zip@^0.5.0", adm-zip@~0.5.2:` then `version "0.5.16"`)
/// and berry (`"adm-zip@npm:^0.5.0":` then `version: 0.5.16`), by package name.
fn parse_yarn(text: &str) -> HashMap<String, Vec<(String, String)>> {
    let mut out: HashMap<String, Vec<(String, String)>> = HashMap::new();
    let mut current: Vec<(String, String)> = Vec::new();
    for line in text.lines() {
        if line.trim_start().starts_with('#') || line.trim().is_empty() {
            continue;
        }
        if !line.starts_with(' ') {
            current = line
                .trim_end()
                .trim_end_matches(':')
                .split(", ")
                .filter_map(|d| {
                    let d = d.trim().trim_matches('"');
                    let at = d.get(1..)?.find('@')? + 1;
                    Some((d[..at].to_string(), d[at + 1..].to_string()))
                })
                .collect();
            continue;
        }
        let t = line.trim();
        let Some(v) = t
            .strip_prefix("version:")
            .or_else(|| t.strip_prefix("version "))
        else {
            continue;
        };
        let v = v.trim().trim_matches('"').to_string();
        for (name, range) in current.drain(..) {
            out.entry(name).or_default().push((range, v.clone()));
        }
    }
    out
}

/// A release as lockfiles write it: `0.5.16`, `v1.2.3`, `7.5.14(peer@1.0.0)` (pnpm),
/// `1.2.3_hash` (pnpm v5).
pub fn parse_version(text: &str) -> Option<Version> {
    let t = text.trim().trim_start_matches('=').trim_start_matches('v');
    let t = t.split(['(', '_']).next().unwrap_or(t);
    Version::parse(t).ok()
}

/// The lowest release an npm range admits (`^1.2.0` -> 1.2.0, `>=2 <3 || 1.x` -> 1.0.0,
/// `>1.2.3` -> 1.2.4); `None` for a dist-tag, a URL, a git or local spec.
pub fn lowest_admissible(spec: &str) -> Option<Version> {
    let s = spec.trim();
    if let Some(alias) = s.strip_prefix("npm:") {
        let at = alias.rfind('@').filter(|&i| i > 0)?;
        return lowest_admissible(&alias[at + 1..]);
    }
    s.split("||")
        .map(lowest_of_set)
        .min_by(|a, b| match (a, b) {
            // An alternative that cannot be read makes the whole range unknown.
            (None, _) => std::cmp::Ordering::Less,
            (_, None) => std::cmp::Ordering::Greater,
            (Some(a), Some(b)) => a.cmp(b),
        })?
}

/// The lowest release one comparator set (`>=1.2.0 <2`, `1.2 - 1.4`) admits.
fn lowest_of_set(set: &str) -> Option<Version> {
    let set = set.trim();
    if let Some((from, _)) = set.split_once(" - ") {
        return floor(from.trim());
    }
    // Glue an operator written apart from its version (`>= 1.2`) back on.
    let mut comparators: Vec<String> = Vec::new();
    for word in set.split_whitespace() {
        match comparators.last_mut() {
            Some(last) if last.chars().all(|c| "<>=~^".contains(c)) => last.push_str(word),
            _ => comparators.push(word.to_string()),
        }
    }
    let mut lowest = Version::new(0, 0, 0);
    for c in &comparators {
        let op_len = c.find(|ch: char| !"<>=~^".contains(ch)).unwrap_or(c.len());
        let (op, v) = c.split_at(op_len);
        let bound = match op {
            "<" | "<=" => continue,
            ">" => above(v)?,
            "" | "=" | ">=" | "^" | "~" | "~>" => floor(v)?,
            _ => return None,
        };
        lowest = lowest.max(bound);
    }
    Some(lowest)
}

/// The parts of a partial version (`1.2`, `1.x`, `*`): numbers until the first wildcard.
fn parts(v: &str) -> Option<(Vec<u64>, Option<Version>)> {
    let v = v.trim().trim_start_matches('v');
    if let Ok(full) = Version::parse(v) {
        return Some((vec![full.major, full.minor, full.patch], Some(full)));
    }
    let mut nums = Vec::new();
    for p in v.split('.') {
        if matches!(p, "x" | "X" | "*" | "") {
            break;
        }
        nums.push(p.parse().ok()?);
    }
    (nums.len() <= 3).then_some((nums, None))
}

/// The first release a partial version covers: `1.2` -> 1.2.0, `*` -> 0.0.0.
fn floor(v: &str) -> Option<Version> {
    let (nums, full) = parts(v)?;
    if let Some(full) = full {
        return Some(full);
    }
    let at = |i: usize| nums.get(i).copied().unwrap_or(0);
    Some(Version::new(at(0), at(1), at(2)))
}

/// The first release above a partial version: `>1.2.3` -> 1.2.4, `>1.2` -> 1.3.0.
fn above(v: &str) -> Option<Version> {
    let (nums, full) = parts(v)?;
    if let Some(full) = full {
        return Some(if full.pre.is_empty() {
            Version::new(full.major, full.minor, full.patch + 1)
        } else {
            Version::new(full.major, full.minor, full.patch)
        });
    }
    match nums.as_slice() {
        [m] => Some(Version::new(m + 1, 0, 0)),
        [m, n] => Some(Version::new(*m, n + 1, 0)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &str) -> Version {
        Version::parse(s).unwrap()
    }

    #[test]
    fn lowest_release_of_a_range() {
        for (spec, want) in [
            ("0.5.16", Some("0.5.16")),
            ("=0.5.16", Some("0.5.16")),
            ("v1.2.3", Some("1.2.3")),
            ("^0.5.2", Some("0.5.2")),
            ("~0.4.7", Some("0.4.7")),
            (">=0.5.2", Some("0.5.2")),
            (">= 0.5.2 < 1", Some("0.5.2")),
            (">0.5.1", Some("0.5.2")),
            (">0.5", Some("0.6.0")),
            ("0.5.x", Some("0.5.0")),
            ("0.5", Some("0.5.0")),
            ("*", Some("0.0.0")),
            ("", Some("0.0.0")),
            ("<0.6.0", Some("0.0.0")),
            ("0.5.2 - 0.6.0", Some("0.5.2")),
            ("^0.6.0 || ^0.5.9", Some("0.5.9")),
            ("^7.5.14 || ^6.2.1", Some("6.2.1")),
            ("npm:adm-zip@^0.5.2", Some("0.5.2")),
            ("1.0.0-beta.2", Some("1.0.0-beta.2")),
            ("latest", None),
            ("github:cthackers/adm-zip", None),
            ("file:../adm-zip", None),
            ("^1.0.0 || latest", None),
        ] {
            assert_eq!(
                lowest_admissible(spec),
                want.map(v),
                "{spec:?} should admit {want:?} at the lowest"
            );
        }
    }

    #[test]
    fn lockfile_versions() {
        assert_eq!(
            parse_version("7.5.14(supports-color@8.1.1)"),
            Some(v("7.5.14"))
        );
        assert_eq!(parse_version("6.2.1_abc"), Some(v("6.2.1")));
        assert_eq!(parse_version("git+https://x/y.git"), None);
    }

    #[test]
    fn yarn_classic_and_berry() {
        let classic = "# yarn lockfile v1\n\n\"adm-zip@^0.4.7\", adm-zip@~0.4.9:\n  version \"0.4.16\"\n  resolved \"x\"\n\nadm-zip@^0.5.10:\n  version \"0.5.16\"\n\n\"@scope/pkg@^1.0.0\":\n  version \"1.2.0\"\n";
        let lock = Lock::Yarn(parse_yarn(classic));
        assert_eq!(
            lock.version("", "adm-zip", Some("^0.5.10")),
            Some(v("0.5.16"))
        );
        assert_eq!(
            lock.version("", "adm-zip", Some("~0.4.9")),
            Some(v("0.4.16"))
        );
        // Unknown spec: the lowest pinned.
        assert_eq!(lock.version("", "adm-zip", None), Some(v("0.4.16")));
        assert_eq!(lock.version("", "@scope/pkg", None), Some(v("1.2.0")));
        let berry = "__metadata:\n  version: 8\n\n\"tar@npm:^7.5.0\":\n  version: 7.5.21\n  resolution: \"tar@npm:7.5.21\"\n";
        let lock = Lock::Yarn(parse_yarn(berry));
        assert_eq!(lock.version("", "tar", Some("^7.5.0")), Some(v("7.5.21")));
    }

    #[test]
    fn npm_lock_resolves_from_the_member_up() {
        let doc = document::parse(
            r#"{"lockfileVersion": 3, "packages": {
                "": {"name": "root"},
                "node_modules/adm-zip": {"version": "0.4.16"},
                "packages/api/node_modules/adm-zip": {"version": "0.5.16"},
                "node_modules/api": {"link": true, "resolved": "packages/api"},
                "packages/api": {"version": "1.0.0"}
            }}"#,
            Format::Json,
        )
        .unwrap();
        let lock = Lock::Npm(doc);
        assert_eq!(lock.version("", "adm-zip", None), Some(v("0.4.16")));
        assert_eq!(
            lock.version("packages/api", "adm-zip", None),
            Some(v("0.5.16"))
        );
        assert_eq!(
            lock.version("packages/web", "adm-zip", None),
            Some(v("0.4.16"))
        );
        assert_eq!(lock.version("", "api", None), Some(v("1.0.0")));
        assert_eq!(lock.version("", "tar", None), None);
        let v1 = document::parse(
            r#"{"lockfileVersion": 1, "dependencies": {"tar": {"version": "6.2.1"}}}"#,
            Format::Json,
        )
        .unwrap();
        assert_eq!(Lock::Npm(v1).version("", "tar", None), Some(v("6.2.1")));
    }

    #[test]
    fn pnpm_lock_importers_and_packages() {
        let v9 = "lockfileVersion: '9.0'\nimporters:\n  .:\n    dependencies:\n      tar:\n        specifier: ^7.5.0\n        version: 7.5.21\n  packages/api:\n    dependencies:\n      tar:\n        specifier: ^6.0.0\n        version: 6.2.1(debug@4.3.4)\npackages:\n  tar@6.2.1:\n    resolution: {integrity: x}\n  tar@7.5.21:\n    resolution: {integrity: y}\n";
        let lock = Lock::Pnpm(document::parse(v9, Format::Yaml).unwrap());
        assert_eq!(lock.version("", "tar", None), Some(v("7.5.21")));
        assert_eq!(lock.version("packages/api", "tar", None), Some(v("6.2.1")));
        // A member the importers do not list: the lowest release the lockfile holds.
        assert_eq!(lock.version("packages/web", "tar", None), Some(v("6.2.1")));
        let v5 = "lockfileVersion: 5.4\nspecifiers:\n  adm-zip: ^0.4.7\ndependencies:\n  adm-zip: 0.4.16\npackages:\n  /adm-zip/0.4.16:\n    resolution: {integrity: x}\n";
        let lock = Lock::Pnpm(document::parse(v5, Format::Yaml).unwrap());
        assert_eq!(lock.version("", "adm-zip", None), Some(v("0.4.16")));
    }

    #[test]
    fn members_relative_to_the_lockfile() {
        assert_eq!(
            relative_member(
                Path::new("/r/packages/api"),
                Path::new("/r/packages/api/../..")
            ),
            "packages/api"
        );
        assert_eq!(relative_member(Path::new("/r"), Path::new("/r")), "");
    }
}
