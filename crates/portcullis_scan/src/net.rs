//! URL and host facts shared by the rules: parsing, loopback, and credentials in URLs.

use std::net::IpAddr;

/// The parts of a URL the rules look at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedUrl {
    pub scheme: String,
    /// Host without brackets, lower case.
    pub host: String,
    pub username: String,
    pub password: Option<String>,
    /// Query parameters in order.
    pub query: Vec<(String, String)>,
}

impl ParsedUrl {
    /// Parses an absolute URL; `None` for anything else (relative, or an unexpanded `${HOST}`).
    pub fn parse(text: &str) -> Option<ParsedUrl> {
        let url = url::Url::parse(text.trim()).ok()?;
        let host = url
            .host_str()?
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_ascii_lowercase();
        Some(ParsedUrl {
            scheme: url.scheme().to_string(),
            host,
            username: url.username().to_string(),
            password: url.password().map(str::to_string),
            query: url
                .query_pairs()
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
        })
    }
}

/// Whether `host` names this machine: `localhost`, `*.localhost`, `127.0.0.0/8`, `::1`,
/// `0.0.0.0` (which connects locally), or an IPv4-mapped loopback.
pub fn is_loopback_host(host: &str) -> bool {
    let host = host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .trim_end_matches('.')
        .to_ascii_lowercase();
    if host == "localhost" || host.ends_with(".localhost") {
        return true;
    }
    match host.parse::<IpAddr>() {
        Ok(IpAddr::V4(v4)) => v4.is_loopback() || v4.is_unspecified(),
        Ok(IpAddr::V6(v6)) => {
            v6.is_loopback()
                || v6.is_unspecified()
                || v6.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback())
        }
        Err(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_forms() {
        for h in [
            "localhost",
            "LOCALHOST",
            "app.localhost",
            "127.0.0.1",
            "127.8.9.1",
            "::1",
            "[::1]",
            "0.0.0.0",
            "::ffff:127.0.0.1",
        ] {
            assert!(is_loopback_host(h), "{h}");
        }
        for h in [
            "example.com",
            "10.0.0.1",
            "192.168.1.10",
            "localhost.example.com",
            "::ffff:10.0.0.1",
        ] {
            assert!(!is_loopback_host(h), "{h}");
        }
    }

    #[test]
    fn parses_credentials_and_query() {
        let u = ParsedUrl::parse("https://user:pw@Example.com:8443/mcp?token=abc&x=1").unwrap();
        assert_eq!(u.host, "example.com");
        assert_eq!(u.password.as_deref(), Some("pw"));
        assert_eq!(u.query[0], ("token".into(), "abc".into()));
        assert!(ParsedUrl::parse("${env:URL}").is_none());
    }
}
