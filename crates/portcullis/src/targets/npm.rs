//! Resolving `npm:NAME[@VERSION]` to one tarball through the npm registry.
//!
//! The abbreviated metadata (`application/vnd.npm.install-v1+json`, what `npm install` asks for)
//! is requested: it holds the dist-tags, every version's `dist` and its deprecation, and is a
//! fraction of the full document. Versions are exact or dist-tags (`latest` by default); ranges
//! are refused by the parser. `dist.integrity` (sha512) is checked, else the older
//! `dist.shasum` (sha1); a version with neither is refused.

use std::collections::BTreeMap;

use anyhow::bail;
use serde::Deserialize;

use super::http::{Base, Checksum, Client};
use super::spec::{PackageSpec, Wanted, is_semver};
use super::{ArchiveKind, Artifact};

pub const DEFAULT_URL: &str = "https://registry.npmjs.org";
pub const URL_VAR: &str = "PORTCULLIS_NPM_URL";

#[derive(Debug, Deserialize)]
struct Packument {
    #[serde(rename = "dist-tags", default)]
    dist_tags: BTreeMap<String, String>,
    #[serde(default)]
    versions: BTreeMap<String, Manifest>,
}

#[derive(Debug, Deserialize)]
struct Manifest {
    dist: Dist,
    /// A string when deprecated; some old documents carry other shapes, hence a raw value.
    #[serde(default)]
    deprecated: Option<serde_json::Value>,
}

#[derive(Debug, Deserialize)]
struct Dist {
    tarball: String,
    #[serde(default)]
    integrity: Option<String>,
    #[serde(default)]
    shasum: Option<String>,
}

/// The packument's URL: a scoped name's slash is encoded (`@scope%2fname`).
pub fn packument_url(base: &Base, name: &str) -> String {
    format!("{}/{}", base.url, name.replace('/', "%2f"))
}

/// Finds the tarball to download for `spec`.
pub fn resolve(spec: &PackageSpec, base: &Base, client: &Client) -> anyhow::Result<Artifact> {
    let name = &spec.name;
    let url = packument_url(base, name);
    let accept = "application/vnd.npm.install-v1+json; q=1.0, application/json; q=0.8";
    let Some(packument) = client.get_json::<Packument>(&url, accept)? else {
        bail!("the npm registry has no package named `{name}` ({url} answered 404)");
    };
    let tags = || {
        packument
            .dist_tags
            .keys()
            .map(String::as_str)
            .collect::<Vec<_>>()
            .join(", ")
    };
    let version = match &spec.wanted {
        Wanted::Exact(v) => v.clone(),
        Wanted::Latest | Wanted::Tag(_) => {
            let tag = match &spec.wanted {
                Wanted::Tag(t) => t.as_str(),
                _ => "latest",
            };
            match packument.dist_tags.get(tag) {
                Some(v) => v.clone(),
                None => bail!(
                    "`{name}` has no dist-tag `{tag}` on the npm registry (its tags: {})",
                    tags()
                ),
            }
        }
    };
    if !is_semver(&version) {
        bail!("the npm registry answered with an unusable version `{version}` for `{name}`");
    }
    let label = spec.label(&version);
    let Some(manifest) = packument.versions.get(&version) else {
        let latest = packument
            .dist_tags
            .get("latest")
            .map(|v| format!(" (latest is {v})"))
            .unwrap_or_default();
        bail!("`{name}` has no version {version} on the npm registry{latest}");
    };
    let checksum = match manifest.dist.integrity.as_deref() {
        Some(sri) => Checksum::sri_sha512(sri)?,
        None => None,
    };
    let checksum = match (checksum, manifest.dist.shasum.as_deref()) {
        (Some(c), _) => c,
        (None, Some(sha1)) => Checksum::sha1_hex(sha1)?,
        (None, None) => bail!(
            "the npm registry lists no integrity or shasum for {label}; refusing to download \
             what cannot be checked"
        ),
    };
    let mut notes = Vec::new();
    match &manifest.deprecated {
        Some(serde_json::Value::String(why)) if !why.trim().is_empty() => notes.push(format!(
            "{label} is deprecated on npm ({}); scanned all the same",
            why.trim()
        )),
        Some(serde_json::Value::Bool(true)) => {
            notes.push(format!(
                "{label} is deprecated on npm; scanned all the same"
            ));
        }
        _ => {}
    }
    Ok(Artifact {
        url: client.resolve_url(&url, &manifest.dist.tarball)?,
        kind: ArchiveKind::TarGz,
        what: "tarball",
        checksum,
        label,
        size: None,
        notes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scoped_names_are_encoded() {
        let base = Base {
            url: "https://registry.npmjs.org".into(),
            allow_plain_loopback: false,
        };
        assert_eq!(
            packument_url(&base, "@modelcontextprotocol/server-filesystem"),
            "https://registry.npmjs.org/@modelcontextprotocol%2fserver-filesystem"
        );
        assert_eq!(
            packument_url(&base, "left-pad"),
            "https://registry.npmjs.org/left-pad"
        );
    }
}
