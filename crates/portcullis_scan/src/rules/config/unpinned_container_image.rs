use crate::container::{ContainerRun, ImageRef};
use crate::declare_rule;
use crate::diagnostic::Diagnostic;
use crate::model::{ConfigFile, ServerEntry};
use crate::registry::{Confidence, RuleMeta};

declare_rule! {
    /// ## What it does
    /// Finds MCP servers launched with `docker run` (or `podman`, `nerdctl`, `finch`) whose
    /// image is named by a tag, or by nothing at all, instead of a digest: no tag (which means
    /// `latest`), an explicit `:latest`, or any other tag such as `:1.4` or `:v2`. An image
    /// pinned with `@sha256:<64 hex digits>` (with or without a tag in front) is not reported,
    /// nor is an image named through a variable, which cannot be judged from the file.
    ///
    /// ## Why is this bad?
    /// A tag is a movable label: whoever controls the repository (or a stolen publishing token)
    /// can point it at new content, and the client pulls that content the next time it starts
    /// the server. The new image runs with the server's environment variables — typically an API
    /// token — and whatever folders it is given. A digest names exact bytes: the image that was
    /// reviewed is the image that runs, and an update is a deliberate change to the file.
    ///
    /// ## Example
    /// ```json
    /// {
    ///   "mcpServers": {
    ///     "github": {
    ///       "command": "docker",
    ///       "args": ["run", "-i", "--rm", "-e", "GITHUB_PERSONAL_ACCESS_TOKEN",
    ///                "ghcr.io/github/github-mcp-server"]
    ///     }
    ///   }
    /// }
    /// ```
    ///
    /// ## Use instead
    /// ```json
    /// {
    ///   "mcpServers": {
    ///     "github": {
    ///       "command": "docker",
    ///       "args": ["run", "-i", "--rm", "-e", "GITHUB_PERSONAL_ACCESS_TOKEN",
    ///                "ghcr.io/github/github-mcp-server:v0.20.1@sha256:0f3c9bd5c3d8a6e1f7b2a4c9e8d1f0a3b5c7e9d2f4a6b8c0e1d3f5a7b9c2e4d6"]
    ///     }
    ///   }
    /// }
    /// ```
    /// Look the digest up with `docker buildx imagetools inspect <image>:<tag>` or
    /// `crane digest <image>:<tag>`, and keep the tag in front of it for readers.
    ///
    /// ## References
    /// - [CWE-1357: Reliance on Insufficiently Trustworthy Component](https://cwe.mitre.org/data/definitions/1357.html)
    /// - [CWE-829: Inclusion of Functionality from Untrusted Control Sphere](https://cwe.mitre.org/data/definitions/829.html)
    /// - [Docker: pull an image by digest](https://docs.docker.com/reference/cli/docker/image/pull/#pull-an-image-by-digest-immutable-identifier)
    /// - [OWASP Docker Security Cheat Sheet](https://cheatsheetseries.owasp.org/cheatsheets/Docker_Security_Cheat_Sheet.html)
    pub static UNPINNED_CONTAINER_IMAGE = {
        code: "PC203",
        name: "unpinned-container-image",
        summary: "A containerised MCP server runs an image by mutable tag instead of digest",
        severity: Medium,
        confidence: High,
        cwe: [1357, 829],
        target: Config,
    }
}

/// Why an image reference is not pinned.
enum Unpinned<'a> {
    /// No tag and no digest: the engine uses `latest`.
    NoTag,
    Latest,
    Tag(&'a str),
    /// Something after `@` that is not a full digest.
    BadDigest(&'a str),
}

fn diagnostic(
    file: &ConfigFile,
    server: &ServerEntry,
    run: &ContainerRun,
    image: &ImageRef,
    why: &Unpinned,
) -> Diagnostic {
    let reference = &image.reference.value;
    let message = match why {
        Unpinned::NoTag => format!(
            "server `{}` runs the container image `{reference}` with no tag or digest, so it gets whatever `latest` points to when pulled",
            server.name.value
        ),
        Unpinned::Latest => format!(
            "server `{}` runs the container image `{reference}` by the moving `latest` tag, without a digest",
            server.name.value
        ),
        Unpinned::Tag(tag) => format!(
            "server `{}` runs the container image `{reference}` by the mutable tag `{tag}`, without a digest",
            server.name.value
        ),
        Unpinned::BadDigest(digest) => format!(
            "server `{}` runs the container image `{reference}`, but `{digest}` is not a full `sha256:` digest",
            server.name.value
        ),
    };
    // Keep a version tag the user chose; `latest` is no version to keep.
    let tag = match image.tag.as_deref() {
        Some(tag) if tag != "latest" => tag,
        _ => "<tag>",
    };
    let named = format!("{}:{tag}", image.repository);
    let mut d = Diagnostic::new(
        &UNPINNED_CONTAINER_IMAGE,
        &file.source,
        image.reference.span,
        message,
    )
    .with_help(format!(
        "Pin the image by digest: `{named}@sha256:<digest>`. Look the digest up with `docker buildx imagetools inspect {named}` or `crane digest {named}`."
    ))
    .with_server(&server.name.value);
    if !run.unknown_options.is_empty() {
        // After an option the parser does not know, the image may be misplaced.
        d = d.with_confidence(Confidence::Medium);
    }
    d
}

fn unpinned(image: &ImageRef) -> Option<Unpinned<'_>> {
    if image.is_pinned() || image.is_templated() || image.is_local_archive() || is_image_id(image) {
        return None;
    }
    Some(match (&image.digest, image.tag.as_deref()) {
        (Some(digest), _) => Unpinned::BadDigest(digest),
        (None, None) => Unpinned::NoTag,
        (None, Some("latest")) => Unpinned::Latest,
        (None, Some(tag)) => Unpinned::Tag(tag),
    })
}

/// A full image ID (`sha256:<64 hex>` or the bare 64 hex digits) names content, like a digest.
fn is_image_id(image: &ImageRef) -> bool {
    let text = image.reference.value.trim();
    let hex = text.strip_prefix("sha256:").unwrap_or(text);
    hex.len() == 64 && hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

pub struct Rule;

impl super::ConfigRule for Rule {
    fn meta(&self) -> &'static RuleMeta {
        &UNPINNED_CONTAINER_IMAGE
    }

    fn check_file(&self, file: &ConfigFile, out: &mut Vec<Diagnostic>) {
        for server in file.servers.iter().filter(|s| s.enabled) {
            let Some(run) = ContainerRun::parse(&file.source.text, server) else {
                continue;
            };
            let Some(image) = &run.image else { continue };
            if let Some(why) = unpinned(image) {
                out.push(diagnostic(file, server, &run, image, &why));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::span::{Span, Spanned};

    fn why(reference: &str) -> Option<String> {
        let image = ImageRef::parse(Spanned::new(reference.to_string(), Span::default()));
        unpinned(&image).map(|u| match u {
            Unpinned::NoTag => "none".to_string(),
            Unpinned::Latest => "latest".to_string(),
            Unpinned::Tag(t) => format!("tag {t}"),
            Unpinned::BadDigest(d) => format!("bad {d}"),
        })
    }

    #[test]
    fn kinds_of_unpinned() {
        let hex = "a".repeat(64);
        assert_eq!(
            why("ghcr.io/github/github-mcp-server").as_deref(),
            Some("none")
        );
        assert_eq!(why("mcp/git:latest").as_deref(), Some("latest"));
        assert_eq!(why("localhost:5000/img:1.2").as_deref(), Some("tag 1.2"));
        assert_eq!(why("localhost:5000/img").as_deref(), Some("none"));
        assert_eq!(why("img@sha256:abc").as_deref(), Some("bad sha256:abc"));
        assert_eq!(why(&format!("img:1@sha256:{hex}")), None);
        assert_eq!(why(&format!("sha256:{hex}")), None);
        assert_eq!(why("${MCP_IMAGE}"), None);
        assert_eq!(why("dir:/srv/image"), None);
    }
}
