//! Package targets: `portcullis scan pypi:NAME[==VERSION]` and `npm:NAME[@VERSION]`.
//!
//! A package is downloaded from its registry, checked against the registry's digest, unpacked
//! into a private temporary folder and scanned like any folder. It is never installed, and none
//! of its code or scripts run: only files are written. The scanner library does no network I/O,
//! so all of this lives in the binary.
//!
//! Report paths name the package: the unpacked root is moved to a folder named after the target
//! (`pypi:mcp-server-fetch==2025.4.7`), and the scan's working folder is its parent, so the
//! scanner's own display rule shows `pypi:mcp-server-fetch==2025.4.7/src/server.py` and
//! fingerprints, baselines and `allow` paths all see that same name. Trade-off: each package is
//! scanned on its own and the reports are merged, so rules that compare files see one package
//! at a time, which is what a package is.

mod http;
mod npm;
mod pypi;
mod spec;
mod unpack;

use std::path::{Path, PathBuf};

use anyhow::Context;
use portcullis_scan::Report;
use portcullis_scan::scan::ScanOptions;

use http::{Base, Checksum, Client, human_size};
pub use spec::PackageSpec;
use spec::Registry;

/// The archive format of a download.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArchiveKind {
    TarGz,
    Zip,
}

/// The one file chosen for a package, with what to check it against.
#[derive(Debug)]
pub struct Artifact {
    pub url: String,
    pub kind: ArchiveKind,
    /// `sdist`, `wheel` or `tarball`, for the progress line.
    pub what: &'static str,
    pub checksum: Checksum,
    /// The target with its resolved version: `pypi:name==1.0`, `npm:@scope/name@1.0.0`.
    pub label: String,
    /// The size the registry announces, if it does.
    pub size: Option<u64>,
    /// Yanked or deprecated releases.
    pub notes: Vec<String>,
}

/// Splits scan arguments into paths and package targets. A malformed package argument is an
/// error before anything is downloaded.
pub fn split(args: &[PathBuf]) -> anyhow::Result<(Vec<PathBuf>, Vec<PackageSpec>)> {
    let mut paths = Vec::new();
    let mut packages = Vec::new();
    for arg in args {
        match arg.to_str() {
            Some(s) if spec::is_package_argument(s) => packages.push(spec::parse(s)?),
            _ => paths.push(arg.clone()),
        }
    }
    Ok((paths, packages))
}

/// A package unpacked and ready to scan. The folder is deleted when this is dropped.
pub struct Fetched {
    _dir: tempfile::TempDir,
    /// The folder holding `root`; the scan's working folder, for display.
    cwd: PathBuf,
    /// The unpacked package, named after the label.
    root: PathBuf,
    pub label: String,
    notes: Vec<String>,
}

/// Downloads, verifies and unpacks one package. `progress` prints one line to standard error.
pub fn fetch(spec: &PackageSpec, progress: bool) -> anyhow::Result<Fetched> {
    let (var, default) = match spec.registry {
        Registry::Pypi => (pypi::URL_VAR, pypi::DEFAULT_URL),
        Registry::Npm => (npm::URL_VAR, npm::DEFAULT_URL),
    };
    let base = Base::from_env(var, default)?;
    let client = Client::new(&base);
    let artifact = match spec.registry {
        Registry::Pypi => pypi::resolve(spec, &base, &client),
        Registry::Npm => npm::resolve(spec, &base, &client),
    }
    .with_context(|| format!("cannot scan {}", spec.display()))?;
    fetch_artifact(artifact, &client, progress)
        .with_context(|| format!("cannot scan {}", spec.display()))
}

fn fetch_artifact(artifact: Artifact, client: &Client, progress: bool) -> anyhow::Result<Fetched> {
    let dir = tempfile::Builder::new()
        .prefix("portcullis-package-")
        .tempdir()
        .context("cannot create a temporary folder")?;
    // A fixed local name: the registry's file name is never used as a path.
    let archive = dir.path().join("download");
    client.download(&artifact.url, &archive, &artifact.checksum, |announced| {
        if progress {
            let size = announced
                .or(artifact.size)
                .map(|n| format!(", {}", human_size(n)))
                .unwrap_or_default();
            anstream::eprintln!("downloading {} ({}{size})", artifact.label, artifact.what);
        }
    })?;

    let unpacked = dir.path().join("unpacked");
    std::fs::create_dir(&unpacked).context("cannot create a temporary folder")?;
    let result = match artifact.kind {
        ArchiveKind::TarGz => unpack::unpack_tar_gz(&archive, &unpacked, unpack::LIMITS),
        ArchiveKind::Zip => unpack::unpack_zip(&archive, &unpacked, unpack::LIMITS),
    }
    .with_context(|| format!("cannot unpack {}", artifact.url))?;
    // The archive is no longer needed; free the space before the scan.
    let _ = std::fs::remove_file(&archive);

    let cwd = dir.path().join("scan");
    let root = cwd.join(folder_name(&artifact.label));
    if let Some(parent) = root.parent() {
        std::fs::create_dir_all(parent).context("cannot create a temporary folder")?;
    }
    let top = if artifact.what == "wheel" {
        unpacked.clone()
    } else {
        package_root(&unpacked)
    };
    std::fs::rename(top, &root)
        .context("cannot move the unpacked package in its temporary folder")?;

    let mut notes = artifact.notes;
    notes.extend(
        result
            .notes()
            .into_iter()
            .map(|n| format!("{}: {n}", artifact.label)),
    );
    Ok(Fetched {
        _dir: dir,
        cwd,
        root,
        label: artifact.label,
        notes,
    })
}

/// The folder to scan: sdists and npm tarballs wrap everything in one top folder
/// (`name-1.0/`, `package/`), which would only add noise to every path. Wheels do not, and a
/// wheel's one top folder is its package, so they are kept whole.
fn package_root(unpacked: &Path) -> PathBuf {
    let entries: Vec<_> = match std::fs::read_dir(unpacked) {
        Ok(entries) => entries.flatten().collect(),
        Err(_) => return unpacked.to_path_buf(),
    };
    match entries.as_slice() {
        [only] if only.file_type().is_ok_and(|t| t.is_dir()) => only.path(),
        _ => unpacked.to_path_buf(),
    }
}

/// The label as a relative folder path. The label's characters were checked by the parser and
/// after resolving, so the only `/` is an npm scope's; Windows does not allow `:` in names.
fn folder_name(label: &str) -> PathBuf {
    let label = if cfg!(windows) {
        label.replace(':', "+")
    } else {
        label.to_string()
    };
    label.split('/').collect()
}

impl Fetched {
    /// Options to scan this package alone: its folder, shown relative to its parent, none of
    /// the user's configurations, and none of the `portcullis-ignore` comments its author wrote.
    pub fn scan_options(&self) -> ScanOptions {
        let mut options = ScanOptions::new(vec![self.root.clone()], self.cwd.clone());
        options.user_configs = false;
        options.inline_suppressions = false;
        options
    }

    /// Adds this package's report to `into`, with the notes from fetching it first.
    pub fn merge(&self, into: &mut Report, report: Report) {
        into.notes.extend(self.notes.iter().cloned());
        if report.suppressed > 0 {
            into.notes.push(format!(
                "{}: {} findings suppressed by your settings or baseline",
                self.label, report.suppressed
            ));
        }
        into.findings.extend(report.findings);
        into.servers.extend(report.servers);
        into.files_scanned += report.files_scanned;
        into.suppressed += report.suppressed;
        into.notes.extend(report.notes);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_separates_packages_from_paths() {
        let args: Vec<PathBuf> = ["src", "pypi:Foo_Bar==1.0", "npm:@a/b", "./npm:x"]
            .iter()
            .map(PathBuf::from)
            .collect();
        let (paths, packages) = split(&args).unwrap();
        assert_eq!(paths, [PathBuf::from("src"), PathBuf::from("./npm:x")]);
        assert_eq!(packages.len(), 2);
        assert_eq!(packages[0].name, "foo-bar");
        assert_eq!(packages[1].name, "@a/b");
        let err = split(&[PathBuf::from("npm:@a/b@^1")]).unwrap_err();
        assert!(format!("{err:#}").contains("ranges are not supported"));
    }

    #[test]
    fn folder_names_follow_the_label() {
        let name = folder_name("npm:@scope/pkg@1.0.0");
        let parts: Vec<_> = name.components().collect();
        assert_eq!(parts.len(), 2);
        assert!(name.ends_with("pkg@1.0.0"));
    }

    #[test]
    fn package_root_drops_a_single_top_folder() {
        let tmp = tempfile::TempDir::new().unwrap();
        std::fs::create_dir_all(tmp.path().join("package/lib")).unwrap();
        assert_eq!(package_root(tmp.path()), tmp.path().join("package"));
        std::fs::write(tmp.path().join("setup.py"), "").unwrap();
        assert_eq!(package_root(tmp.path()), tmp.path());
    }
}
