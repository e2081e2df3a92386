//! The network side of package targets: one small blocking HTTPS client (ureq with rustls),
//! bounded in time and in size, and checksum verification while downloading.
//!
//! Certificates are checked against the operating system's trust store, as pip and the OS's
//! own tools do, so a scan works behind a company's TLS-inspecting proxy whose CA the machine
//! trusts; a fixed bundled root list would refuse it.
//!
//! Trade-off: blocking and sequential. A scan fetches a handful of files, so a thread pool or an
//! async runtime would buy nothing but weight. Every response is read through a cap, and an
//! archive goes to a file as it arrives, so a hostile or broken server costs at most the caps.

use std::fmt::Write as _;
use std::fs::File;
use std::io::{Read, Write};
use std::path::Path;
use std::time::Duration;

use anyhow::{Context, bail};
use base64::Engine as _;
use serde::de::DeserializeOwned;
use sha2::Digest;

/// The metadata of a big npm package runs to tens of MiB; anything beyond this is not metadata.
pub const MAX_METADATA_BYTES: u64 = 50 << 20;
/// The largest archive we download.
pub const MAX_DOWNLOAD_BYTES: u64 = 200 << 20;

/// A registry's base URL and whether plain HTTP to this machine is allowed.
#[derive(Debug, Clone)]
pub struct Base {
    /// Without a trailing slash.
    pub url: String,
    /// Only for a base URL set in the environment that points at 127.0.0.1 (tests).
    pub allow_plain_loopback: bool,
}

impl Base {
    /// The base URL from `var` when set, else `default`. HTTPS only, except plain HTTP to the
    /// loopback address, which a test's fake registry needs.
    pub fn from_env(var: &str, default: &str) -> anyhow::Result<Base> {
        Base::parse(var, std::env::var_os(var), default)
    }

    fn parse(var: &str, value: Option<std::ffi::OsString>, default: &str) -> anyhow::Result<Base> {
        let Some(value) = value else {
            return Ok(Base {
                url: default.to_string(),
                allow_plain_loopback: false,
            });
        };
        let value = value
            .into_string()
            .map_err(|_| anyhow::anyhow!("{var} is not valid UTF-8"))?;
        let url =
            url::Url::parse(&value).with_context(|| format!("{var}=`{value}` is not a URL"))?;
        let allow_plain_loopback = match url.scheme() {
            "https" => false,
            "http" if is_loopback(&url) => true,
            _ => bail!(
                "{var}=`{value}` must be an https:// URL (plain http:// only to 127.0.0.1, for \
                 tests)"
            ),
        };
        Ok(Base {
            url: value.trim_end_matches('/').to_string(),
            allow_plain_loopback,
        })
    }
}

fn is_loopback(url: &url::Url) -> bool {
    match url.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        None => false,
    }
}

/// A blocking client with the scan's limits.
pub struct Client {
    agent: ureq::Agent,
    allow_plain_loopback: bool,
}

impl Client {
    pub fn new(base: &Base) -> Client {
        let config = ureq::Agent::config_builder()
            .timeout_connect(Some(Duration::from_secs(10)))
            .timeout_global(Some(Duration::from_secs(120)))
            // Redirects too must stay on HTTPS, unless a test registry runs on plain HTTP.
            .https_only(!base.allow_plain_loopback)
            .max_redirects(5)
            .user_agent(concat!("portcullis/", env!("CARGO_PKG_VERSION")))
            // Non-2xx statuses come back as responses so that 404 can be told apart.
            .http_status_as_error(false)
            .tls_config(
                ureq::tls::TlsConfig::builder()
                    .root_certs(ureq::tls::RootCerts::PlatformVerifier)
                    .build(),
            )
            .build();
        Client {
            agent: config.new_agent(),
            allow_plain_loopback: base.allow_plain_loopback,
        }
    }

    /// Refuses any URL that is not HTTPS (or, for tests, plain HTTP to this machine). Registry
    /// metadata names the download URL, so it is checked like the base.
    pub fn check_url(&self, raw: &str) -> anyhow::Result<()> {
        let url = url::Url::parse(raw).with_context(|| format!("`{raw}` is not a URL"))?;
        match url.scheme() {
            "https" => Ok(()),
            "http" if self.allow_plain_loopback && is_loopback(&url) => Ok(()),
            _ => bail!("refusing to download `{raw}`: only https:// URLs are fetched"),
        }
    }

    /// The download URL a registry document gives, resolved against the document's own URL:
    /// mirrors (and the tests' fake registry) give relative ones.
    pub fn resolve_url(&self, document_url: &str, href: &str) -> anyhow::Result<String> {
        let base = url::Url::parse(document_url)
            .with_context(|| format!("`{document_url}` is not a URL"))?;
        let url = base
            .join(href)
            .with_context(|| format!("`{href}` is not a URL"))?;
        self.check_url(url.as_str())?;
        Ok(url.into())
    }

    /// Fetches JSON, at most [`MAX_METADATA_BYTES`]. `Ok(None)` when the server says 404.
    pub fn get_json<T: DeserializeOwned>(
        &self,
        url: &str,
        accept: &str,
    ) -> anyhow::Result<Option<T>> {
        self.check_url(url)?;
        let mut response = self
            .agent
            .get(url)
            .header("Accept", accept)
            .call()
            .with_context(|| format!("cannot fetch {url}"))?;
        match response.status().as_u16() {
            200 => {}
            404 | 410 => return Ok(None),
            status => bail!("{url} answered HTTP {status}"),
        }
        let bytes = response
            .body_mut()
            .with_config()
            .limit(MAX_METADATA_BYTES)
            .read_to_vec()
            .map_err(|e| match e {
                ureq::Error::BodyExceedsLimit(_) => anyhow::anyhow!(
                    "{url} sent more than {} of metadata; refusing it",
                    human_size(MAX_METADATA_BYTES)
                ),
                e => anyhow::Error::new(e).context(format!("cannot read {url}")),
            })?;
        let value = serde_json::from_slice(&bytes)
            .with_context(|| format!("{url} did not send the JSON expected of a registry"))?;
        Ok(Some(value))
    }

    /// Downloads `url` to `dest`, at most [`MAX_DOWNLOAD_BYTES`], checking `expected` as the
    /// bytes arrive. `started` is told the size when the server announces it. On a mismatch the
    /// file is left for the caller's temporary folder to remove, and nothing unpacks it.
    pub fn download(
        &self,
        url: &str,
        dest: &Path,
        expected: &Checksum,
        started: impl FnOnce(Option<u64>),
    ) -> anyhow::Result<u64> {
        self.check_url(url)?;
        let response = self
            .agent
            .get(url)
            .call()
            .with_context(|| format!("cannot download {url}"))?;
        let status = response.status().as_u16();
        if status != 200 {
            bail!("{url} answered HTTP {status}");
        }
        let announced = response.body().content_length();
        if let Some(len) = announced
            && len > MAX_DOWNLOAD_BYTES
        {
            bail!(
                "{url} is {}; refusing downloads over {}",
                human_size(len),
                human_size(MAX_DOWNLOAD_BYTES)
            );
        }
        started(announced);
        let mut reader = response
            .into_body()
            .into_reader()
            .take(MAX_DOWNLOAD_BYTES + 1);
        let mut file =
            File::create(dest).with_context(|| format!("cannot create {}", dest.display()))?;
        let mut hasher = expected.hasher();
        let mut total: u64 = 0;
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let n = match reader.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e).with_context(|| format!("cannot download {url}")),
            };
            total += n as u64;
            if total > MAX_DOWNLOAD_BYTES {
                bail!(
                    "{url} is larger than {}; refusing it",
                    human_size(MAX_DOWNLOAD_BYTES)
                );
            }
            let chunk = &buf[..n];
            hasher.update(chunk);
            file.write_all(chunk)
                .with_context(|| format!("cannot write {}", dest.display()))?;
        }
        file.flush()
            .with_context(|| format!("cannot write {}", dest.display()))?;
        let actual = hasher.finish();
        if actual != expected.bytes() {
            bail!(
                "checksum mismatch for {url}: the registry says {} {}, the download is {} {}; \
                 refusing to unpack it (the file was altered on the way, or the registry's \
                 metadata is wrong)",
                expected.algorithm(),
                expected.display(),
                expected.algorithm(),
                expected.display_other(&actual),
            );
        }
        Ok(total)
    }
}

/// The digest a registry publishes for a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Checksum {
    /// PyPI `digests.sha256`, hex.
    Sha256(Vec<u8>),
    /// npm `dist.integrity`, SRI base64.
    Sha512(Vec<u8>),
    /// Older npm packages: `dist.shasum`, hex.
    Sha1(Vec<u8>),
}

impl Checksum {
    pub fn sha256_hex(hex: &str) -> anyhow::Result<Checksum> {
        Ok(Checksum::Sha256(from_hex(hex, 32)?))
    }

    pub fn sha1_hex(hex: &str) -> anyhow::Result<Checksum> {
        Ok(Checksum::Sha1(from_hex(hex, 20)?))
    }

    /// The sha512 of a Subresource Integrity string (`sha512-<base64>`; several hashes may be
    /// listed, separated by spaces). `Ok(None)` when it lists no sha512.
    pub fn sri_sha512(sri: &str) -> anyhow::Result<Option<Checksum>> {
        for item in sri.split_ascii_whitespace() {
            let Some(b64) = item.strip_prefix("sha512-") else {
                continue;
            };
            // SRI allows `?options` after the hash.
            let b64 = b64.split('?').next().unwrap_or(b64);
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(b64)
                .with_context(|| format!("the integrity `{item}` is not valid base64"))?;
            if bytes.len() != 64 {
                bail!("the integrity `{item}` is not a sha512");
            }
            return Ok(Some(Checksum::Sha512(bytes)));
        }
        Ok(None)
    }

    fn bytes(&self) -> &[u8] {
        match self {
            Checksum::Sha256(b) | Checksum::Sha512(b) | Checksum::Sha1(b) => b,
        }
    }

    fn algorithm(&self) -> &'static str {
        match self {
            Checksum::Sha256(_) => "sha256",
            Checksum::Sha512(_) => "sha512",
            Checksum::Sha1(_) => "sha1",
        }
    }

    /// In the registry's own notation: hex for PyPI and shasum, base64 for integrity.
    fn display(&self) -> String {
        self.display_other(self.bytes())
    }

    fn display_other(&self, bytes: &[u8]) -> String {
        match self {
            Checksum::Sha512(_) => base64::engine::general_purpose::STANDARD.encode(bytes),
            _ => to_hex(bytes),
        }
    }

    fn hasher(&self) -> Hasher {
        match self {
            Checksum::Sha256(_) => Hasher::Sha256(sha2::Sha256::new()),
            Checksum::Sha512(_) => Hasher::Sha512(sha2::Sha512::new()),
            Checksum::Sha1(_) => Hasher::Sha1(sha1::Sha1::new()),
        }
    }
}

enum Hasher {
    Sha256(sha2::Sha256),
    Sha512(sha2::Sha512),
    Sha1(sha1::Sha1),
}

impl Hasher {
    fn update(&mut self, data: &[u8]) {
        match self {
            Hasher::Sha256(h) => h.update(data),
            Hasher::Sha512(h) => h.update(data),
            Hasher::Sha1(h) => h.update(data),
        }
    }

    fn finish(self) -> Vec<u8> {
        match self {
            Hasher::Sha256(h) => h.finalize().to_vec(),
            Hasher::Sha512(h) => h.finalize().to_vec(),
            Hasher::Sha1(h) => h.finalize().to_vec(),
        }
    }
}

fn from_hex(hex: &str, len: usize) -> anyhow::Result<Vec<u8>> {
    let hex = hex.trim();
    if hex.len() != len * 2 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        bail!("`{hex}` is not a {}-byte hex digest", len);
    }
    (0..len)
        .map(|i| {
            u8::from_str_radix(&hex[2 * i..2 * i + 2], 16)
                .with_context(|| format!("`{hex}` is not hex"))
        })
        .collect()
}

fn to_hex(bytes: &[u8]) -> String {
    bytes.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

/// `123 KiB`, `4.5 MiB`.
pub fn human_size(bytes: u64) -> String {
    const KIB: u64 = 1 << 10;
    const MIB: u64 = 1 << 20;
    const GIB: u64 = 1 << 30;
    match bytes {
        b if b >= GIB => format!("{:.1} GiB", b as f64 / GIB as f64),
        b if b >= MIB => format!("{:.1} MiB", b as f64 / MIB as f64),
        b if b >= KIB => format!("{} KiB", b.div_ceil(KIB)),
        b => format!("{b} B"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checksums_parse() {
        let hex = "ab".repeat(32);
        assert_eq!(
            Checksum::sha256_hex(&hex).unwrap(),
            Checksum::Sha256(vec![0xab; 32])
        );
        assert!(Checksum::sha256_hex("abc").is_err());
        assert!(Checksum::sha256_hex(&"zz".repeat(32)).is_err());
        assert!(Checksum::sha1_hex(&"0f".repeat(20)).is_ok());

        let digest = sha2::Sha512::digest(b"x").to_vec();
        let b64 = base64::engine::general_purpose::STANDARD.encode(&digest);
        assert_eq!(
            Checksum::sri_sha512(&format!("sha1-AAAA sha512-{b64}?opt")).unwrap(),
            Some(Checksum::Sha512(digest))
        );
        assert_eq!(Checksum::sri_sha512("sha1-AAAA").unwrap(), None);
        assert!(Checksum::sri_sha512("sha512-!!!").is_err());
        assert!(Checksum::sri_sha512("sha512-AAAA").is_err());
    }

    #[test]
    fn sizes_read_well() {
        assert_eq!(human_size(10), "10 B");
        assert_eq!(human_size(123 * 1024), "123 KiB");
        assert_eq!(human_size(5 << 20), "5.0 MiB");
    }

    #[test]
    fn base_urls() {
        let parse = |v: &str| Base::parse("VAR", Some(v.into()), "https://default");
        assert_eq!(
            Base::parse("VAR", None, "https://default").unwrap().url,
            "https://default"
        );
        let test = parse("http://127.0.0.1:8080/").unwrap();
        assert_eq!(test.url, "http://127.0.0.1:8080");
        assert!(test.allow_plain_loopback);
        assert!(
            !parse("https://mirror.example/")
                .unwrap()
                .allow_plain_loopback
        );
        assert!(parse("http://mirror.example").is_err());
        assert!(parse("ftp://127.0.0.1").is_err());
        assert!(parse("not a url").is_err());
    }

    #[test]
    fn only_https_or_loopback_http() {
        let strict = Client::new(&Base {
            url: "https://pypi.org".into(),
            allow_plain_loopback: false,
        });
        assert!(strict.check_url("https://files.example/x.tgz").is_ok());
        assert!(strict.check_url("http://127.0.0.1:1/x.tgz").is_err());
        assert!(strict.check_url("file:///etc/passwd").is_err());
        let test = Client::new(&Base {
            url: "http://127.0.0.1:1".into(),
            allow_plain_loopback: true,
        });
        assert!(test.check_url("http://127.0.0.1:1/x.tgz").is_ok());
        assert!(test.check_url("http://example.com/x.tgz").is_err());
        assert_eq!(
            strict
                .resolve_url("https://pypi.org/pypi/x/json", "../../packages/x.tar.gz")
                .unwrap(),
            "https://pypi.org/packages/x.tar.gz"
        );
        assert!(
            strict
                .resolve_url("https://pypi.org/pypi/x/json", "http://evil.example/x.tgz")
                .is_err()
        );
    }
}
