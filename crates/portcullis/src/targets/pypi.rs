//! Resolving `pypi:NAME[==VERSION]` to one file through PyPI's JSON API.
//!
//! The source distribution is preferred: it holds the project's configs and manifests as well as
//! its code. Trade-off: pip installs a wheel when there is one, and nothing forces a wheel to
//! match its sdist, so a scan of the sdist is a scan of the published source, not of the exact
//! bytes pip would install. A pure-Python wheel (`py3-none-any` first) is the fallback; compiled
//! wheels are refused because their code is mostly not Python.
//!
//! A yanked release is scanned with a note: looking at what a pulled release contained is a
//! reason to scan, and PyPI still serves it.

use std::collections::BTreeMap;

use anyhow::bail;
use serde::Deserialize;

use super::http::{Base, Checksum, Client};
use super::spec::{PackageSpec, Wanted, is_pypi_version};
use super::{ArchiveKind, Artifact};

pub const DEFAULT_URL: &str = "https://pypi.org";
pub const URL_VAR: &str = "PORTCULLIS_PYPI_URL";

const ACCEPT: &str = "application/json";

#[derive(Debug, Deserialize)]
struct Project {
    info: Info,
    /// The files of `info.version`.
    #[serde(default)]
    urls: Vec<Distribution>,
    /// Every release's files; deprecated by PyPI but still served, and all some mirrors have.
    #[serde(default)]
    releases: BTreeMap<String, Vec<Distribution>>,
}

#[derive(Debug, Deserialize)]
struct Info {
    version: String,
    #[serde(default)]
    yanked: bool,
    #[serde(default)]
    yanked_reason: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Distribution {
    filename: String,
    url: String,
    packagetype: String,
    digests: Digests,
    #[serde(default)]
    size: Option<u64>,
    #[serde(default)]
    yanked: bool,
    #[serde(default)]
    yanked_reason: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Digests {
    #[serde(default)]
    sha256: Option<String>,
}

/// Finds the file to download for `spec`.
pub fn resolve(spec: &PackageSpec, base: &Base, client: &Client) -> anyhow::Result<Artifact> {
    let name = &spec.name;
    let project_url = format!("{}/pypi/{name}/json", base.url);
    let no_package =
        || anyhow::anyhow!("PyPI has no package named `{name}` ({project_url} answered 404)");
    let (project, document_url) = match &spec.wanted {
        Wanted::Exact(v) => {
            let release_url = format!("{}/pypi/{name}/{v}/json", base.url);
            match client.get_json::<Project>(&release_url, ACCEPT)? {
                Some(release) => (release, release_url),
                // Some mirrors serve only the project document; its `releases` lists every
                // version's files. Also tells "no such release" from "no such package".
                None => {
                    let mut project = client
                        .get_json::<Project>(&project_url, ACCEPT)?
                        .ok_or_else(no_package)?;
                    let Some(files) = project.releases.remove(v) else {
                        bail!(
                            "PyPI has no release {v} of `{name}` (the newest is {}; see \
                             {}/project/{name}/#history)",
                            project.info.version,
                            base.url
                        );
                    };
                    let yanked = files.iter().any(|f| f.yanked);
                    let release = Project {
                        info: Info {
                            version: v.clone(),
                            yanked,
                            yanked_reason: None,
                        },
                        urls: files,
                        releases: BTreeMap::new(),
                    };
                    (release, project_url.clone())
                }
            }
        }
        // The parser never makes a tag for PyPI; treat one like "newest" rather than panic.
        Wanted::Latest | Wanted::Tag(_) => (
            client
                .get_json::<Project>(&project_url, ACCEPT)?
                .ok_or_else(no_package)?,
            project_url.clone(),
        ),
    };
    let version = project.info.version;
    if !is_pypi_version(&version) {
        bail!("PyPI answered with an unusable version `{version}` for `{name}`");
    }
    let label = spec.label(&version);
    let chosen = choose(&project.urls).ok_or_else(|| {
        let files: Vec<&str> = project
            .urls
            .iter()
            .take(5)
            .map(|d| d.filename.as_str())
            .collect();
        if files.is_empty() {
            anyhow::anyhow!("{label} has no files on PyPI to download")
        } else {
            anyhow::anyhow!(
                "{label} has no source distribution and no pure-Python wheel (it has: {}{}); \
                 portcullis does not scan compiled wheels",
                files.join(", "),
                if project.urls.len() > files.len() {
                    ", ..."
                } else {
                    ""
                }
            )
        }
    })?;
    let Some(sha256) = chosen.digests.sha256.as_deref() else {
        bail!(
            "PyPI lists no sha256 for {}; refusing to download what cannot be checked",
            chosen.filename
        );
    };
    let mut notes = Vec::new();
    if project.info.yanked || chosen.yanked {
        let reason = chosen
            .yanked_reason
            .as_deref()
            .or(project.info.yanked_reason.as_deref())
            .filter(|r| !r.trim().is_empty())
            .map(|r| format!(" (reason given: {})", r.trim()))
            .unwrap_or_default();
        notes.push(format!(
            "{label} is yanked on PyPI{reason}; scanned all the same"
        ));
    }
    let (kind, what) = if chosen.packagetype == "sdist" {
        if chosen.filename.ends_with(".zip") {
            (ArchiveKind::Zip, "sdist")
        } else {
            (ArchiveKind::TarGz, "sdist")
        }
    } else {
        (ArchiveKind::Zip, "wheel")
    };
    Ok(Artifact {
        url: client.resolve_url(&document_url, &chosen.url)?,
        kind,
        what,
        checksum: Checksum::sha256_hex(sha256)?,
        label,
        size: chosen.size,
        notes,
    })
}

/// The sdist (`.tar.gz`, or an old `.zip`), else the most generic pure-Python wheel.
fn choose(files: &[Distribution]) -> Option<&Distribution> {
    let sdist = files.iter().find(|d| {
        d.packagetype == "sdist"
            && (d.filename.ends_with(".tar.gz") || d.filename.ends_with(".zip"))
    });
    if sdist.is_some() {
        return sdist;
    }
    let wheels = || {
        files
            .iter()
            .filter(|d| d.packagetype == "bdist_wheel" && d.filename.ends_with(".whl"))
    };
    [
        "-py3-none-any.whl",
        "-py2.py3-none-any.whl",
        "-none-any.whl",
    ]
    .iter()
    .find_map(|tag| wheels().find(|d| d.filename.ends_with(tag)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dist(filename: &str, packagetype: &str) -> Distribution {
        Distribution {
            filename: filename.into(),
            url: format!("https://files.example/{filename}"),
            packagetype: packagetype.into(),
            digests: Digests { sha256: None },
            size: None,
            yanked: false,
            yanked_reason: None,
        }
    }

    #[test]
    fn prefers_the_sdist_then_the_most_generic_wheel() {
        let files = vec![
            dist("x-1.0-cp312-cp312-manylinux.whl", "bdist_wheel"),
            dist("x-1.0-py2.py3-none-any.whl", "bdist_wheel"),
            dist("x-1.0-py3-none-any.whl", "bdist_wheel"),
            dist("x-1.0.tar.gz", "sdist"),
        ];
        assert_eq!(choose(&files).unwrap().filename, "x-1.0.tar.gz");
        assert_eq!(
            choose(&files[..3]).unwrap().filename,
            "x-1.0-py3-none-any.whl"
        );
        assert_eq!(
            choose(&files[..2]).unwrap().filename,
            "x-1.0-py2.py3-none-any.whl"
        );
        assert!(choose(&files[..1]).is_none(), "compiled wheels are refused");
        assert!(choose(&[dist("x-1.0.tar.bz2", "sdist")]).is_none());
    }
}
