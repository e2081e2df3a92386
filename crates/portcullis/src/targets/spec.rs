//! Package target arguments: `pypi:NAME[==VERSION]` and `npm:NAME[@VERSION]`.
//!
//! Parsing is strict on purpose. Names and versions end up in registry URLs and in the name of a
//! folder on disk, so only the characters each registry allows get through, and anything that
//! looks like a version range is refused with a message saying what to write instead: a scan
//! should name exactly what it read, and ranges would need each ecosystem's own range grammar.

use anyhow::bail;

/// Which registry a package comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Registry {
    Pypi,
    Npm,
}

impl Registry {
    /// The prefix of the argument, without the colon.
    pub fn prefix(self) -> &'static str {
        match self {
            Registry::Pypi => "pypi",
            Registry::Npm => "npm",
        }
    }
}

/// Which version of a package to scan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Wanted {
    /// PyPI's newest release; npm's `latest` dist-tag.
    Latest,
    /// This exact version.
    Exact(String),
    /// An npm dist-tag such as `next` or `beta`.
    Tag(String),
}

/// A parsed package argument.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackageSpec {
    pub registry: Registry,
    /// PyPI: normalised per PEP 503. npm: as given (npm names are case-sensitive in URLs).
    pub name: String,
    pub wanted: Wanted,
}

impl PackageSpec {
    /// The argument as the user would write it, with the normalised name.
    pub fn display(&self) -> String {
        let sep = match self.registry {
            Registry::Pypi => "==",
            Registry::Npm => "@",
        };
        match &self.wanted {
            Wanted::Latest => format!("{}:{}", self.registry.prefix(), self.name),
            Wanted::Exact(v) | Wanted::Tag(v) => {
                format!("{}:{}{sep}{v}", self.registry.prefix(), self.name)
            }
        }
    }

    /// How the scanned package is named in reports, once its version is known.
    pub fn label(&self, version: &str) -> String {
        match self.registry {
            Registry::Pypi => format!("pypi:{}=={version}", self.name),
            Registry::Npm => format!("npm:{}@{version}", self.name),
        }
    }
}

/// Whether an argument names a package rather than a path. Everything starting with `pypi:` or
/// `npm:` does, even if a file of that name exists: a scan that downloads must never depend on
/// what happens to be in the current folder. Write `./npm:x` for such a file.
pub fn is_package_argument(arg: &str) -> bool {
    arg.starts_with("pypi:") || arg.starts_with("npm:")
}

/// Parses `pypi:...` or `npm:...`.
pub fn parse(arg: &str) -> anyhow::Result<PackageSpec> {
    if let Some(rest) = arg.strip_prefix("pypi:") {
        parse_pypi(rest).map_err(|e| e.context(format!("`{arg}` is not a PyPI package argument")))
    } else if let Some(rest) = arg.strip_prefix("npm:") {
        parse_npm(rest).map_err(|e| e.context(format!("`{arg}` is not an npm package argument")))
    } else {
        bail!("`{arg}` names no package: write `pypi:NAME[==VERSION]` or `npm:NAME[@VERSION]`")
    }
}

fn parse_pypi(rest: &str) -> anyhow::Result<PackageSpec> {
    let name_len = rest
        .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')))
        .unwrap_or(rest.len());
    let (name, tail) = rest.split_at(name_len);
    if name.is_empty() {
        bail!("the package name is missing; write `pypi:NAME` or `pypi:NAME==VERSION`");
    }
    if !is_pypi_name(name) {
        bail!(
            "`{name}` is not a valid PyPI name (letters, digits, `.`, `_`, `-`, starting and \
             ending with a letter or digit)"
        );
    }
    let wanted = if tail.is_empty() {
        Wanted::Latest
    } else if let Some(version) = tail.strip_prefix("==") {
        if !is_pypi_version(version) {
            bail!(
                "`{version}` is not an exact version; write `pypi:{name}==1.2.3` (ranges, \
                 wildcards and extras are not supported)"
            );
        }
        Wanted::Exact(version.to_string())
    } else {
        bail!(
            "only an exact version is supported after the name, as in `pypi:{name}==1.2.3`, \
             not `{tail}`"
        );
    };
    Ok(PackageSpec {
        registry: Registry::Pypi,
        name: normalize_pypi_name(name),
        wanted,
    })
}

/// PEP 508: letters, digits, `.`, `_`, `-`, beginning and ending with a letter or digit.
fn is_pypi_name(name: &str) -> bool {
    let alnum = |c: Option<char>| c.is_some_and(|c| c.is_ascii_alphanumeric());
    alnum(name.chars().next())
        && alnum(name.chars().last())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
}

/// The characters of a PEP 440 version (epoch `!`, local part `+`), beginning with a letter or
/// digit (`v1.0` is accepted by PyPI too). This is a charset check, not a full PEP 440 parse:
/// PyPI decides whether the version exists.
pub fn is_pypi_version(version: &str) -> bool {
    version.len() <= 128
        && version.starts_with(|c: char| c.is_ascii_alphanumeric())
        && version
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '+' | '!'))
}

/// PEP 503: lowercase, and every run of `-`, `_`, `.` becomes one `-`.
pub fn normalize_pypi_name(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut in_separator = false;
    for c in name.chars() {
        if matches!(c, '-' | '_' | '.') {
            if !in_separator {
                out.push('-');
            }
            in_separator = true;
        } else {
            out.push(c.to_ascii_lowercase());
            in_separator = false;
        }
    }
    out
}

fn parse_npm(rest: &str) -> anyhow::Result<PackageSpec> {
    // The version separator is the first `@` after the name; a scoped name begins with one.
    let search_from = if rest.starts_with('@') { 1 } else { 0 };
    let (name, version) = match rest[search_from..].find('@') {
        Some(i) => {
            let (name, at_version) = rest.split_at(search_from + i);
            (name, Some(&at_version[1..]))
        }
        None => (rest, None),
    };
    if name.is_empty() {
        bail!("the package name is missing; write `npm:NAME` or `npm:NAME@VERSION`");
    }
    check_npm_name(name)?;
    let wanted = match version {
        None => Wanted::Latest,
        Some(v) => npm_wanted(name, v)?,
    };
    Ok(PackageSpec {
        registry: Registry::Npm,
        name: name.to_string(),
        wanted,
    })
}

/// npm's rules for names (validate-npm-package-name): at most 214 characters, URL-safe, not
/// starting with `.` or `_`, an optional `@scope/` prefix. Old packages may have capitals.
fn check_npm_name(name: &str) -> anyhow::Result<()> {
    if name.len() > 214 {
        bail!("an npm name has at most 214 characters");
    }
    let (scope, bare) = match name.strip_prefix('@') {
        Some(scoped) => match scoped.split_once('/') {
            Some((scope, bare)) => (Some(scope), bare),
            None => bail!("`{name}` has a scope but no name; write `@scope/name`"),
        },
        None => (None, name),
    };
    let part_ok = |part: &str| {
        !part.is_empty()
            && !part.starts_with(['.', '_'])
            && part
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_' | '~'))
    };
    if scope.is_some_and(|s| !part_ok(s)) || !part_ok(bare) {
        bail!(
            "`{name}` is not a valid npm name (letters, digits, `-`, `.`, `_`, `~`, not starting \
             with `.` or `_`, optionally `@scope/` before it)"
        );
    }
    Ok(())
}

fn npm_wanted(name: &str, version: &str) -> anyhow::Result<Wanted> {
    if version.is_empty() {
        bail!("the version after `@` is missing; write `npm:{name}@1.2.3` or `npm:{name}@next`");
    }
    // npm itself accepts a leading `v` or `=` on an exact version.
    let exact = version.trim_start_matches(['v', '=']);
    if is_semver(exact) {
        return Ok(Wanted::Exact(exact.to_string()));
    }
    // npm refuses dist-tags that parse as a range, so anything starting with a digit (`1`,
    // `1.2`, `1.x`) is a range here, as are the range operators.
    let is_tag = version.len() <= 128
        && version.starts_with(|c: char| c.is_ascii_alphabetic())
        && !matches!(version, "x" | "X")
        && version
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_'));
    if is_tag {
        return Ok(Wanted::Tag(version.to_string()));
    }
    bail!(
        "`{version}` is a version range or not a version; ranges are not supported: write an \
         exact version (`npm:{name}@1.2.3`) or a dist-tag (`npm:{name}@latest`)"
    )
}

/// `MAJOR.MINOR.PATCH`, then an optional `-prerelease` and `+build` (SemVer 2.0 charset).
pub fn is_semver(v: &str) -> bool {
    if v.len() > 128 {
        return false;
    }
    let (core, rest) = match v.find(['-', '+']) {
        Some(i) => v.split_at(i),
        None => (v, ""),
    };
    let numbers: Vec<&str> = core.split('.').collect();
    let core_ok = numbers.len() == 3
        && numbers
            .iter()
            .all(|n| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()));
    let rest_ok = rest.chars().all(|c| {
        c.is_ascii_alphanumeric() || matches!(c, '-' | '+' | '.') // `-pre.1+build.5`
    }) && rest.len() != 1;
    core_ok && rest_ok
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pypi(name: &str, wanted: Wanted) -> PackageSpec {
        PackageSpec {
            registry: Registry::Pypi,
            name: name.into(),
            wanted,
        }
    }

    fn npm(name: &str, wanted: Wanted) -> PackageSpec {
        PackageSpec {
            registry: Registry::Npm,
            name: name.into(),
            wanted,
        }
    }

    fn error(arg: &str) -> String {
        match parse(arg) {
            Ok(spec) => panic!("`{arg}` parsed as {spec:?}"),
            Err(e) => format!("{e:#}"),
        }
    }

    #[test]
    fn pypi_names_are_normalised() {
        assert_eq!(
            parse("pypi:Foo_Bar==1.0").unwrap(),
            pypi("foo-bar", Wanted::Exact("1.0".into()))
        );
        assert_eq!(normalize_pypi_name("A.-_b__C"), "a-b-c");
        assert_eq!(normalize_pypi_name("mcp-server-fetch"), "mcp-server-fetch");
        assert_eq!(
            parse("pypi:mcp_server.fetch").unwrap(),
            pypi("mcp-server-fetch", Wanted::Latest)
        );
    }

    #[test]
    fn pypi_versions() {
        assert_eq!(
            parse("pypi:x==1!2.0rc1+local.7").unwrap().wanted,
            Wanted::Exact("1!2.0rc1+local.7".into())
        );
        assert_eq!(
            parse("pypi:mcp-server-fetch==2025.4.7").unwrap().display(),
            "pypi:mcp-server-fetch==2025.4.7"
        );
    }

    #[test]
    fn pypi_malformed() {
        assert!(error("pypi:").contains("name is missing"));
        assert!(error("pypi:==1.0").contains("name is missing"));
        assert!(error("pypi:x>=1.0").contains("only an exact version"));
        assert!(error("pypi:x~=1.0").contains("only an exact version"));
        assert!(error("pypi:x[cli]==1").contains("only an exact version"));
        assert!(error("pypi:x==").contains("not an exact version"));
        assert!(error("pypi:x==1.*").contains("not an exact version"));
        assert!(error("pypi:x==1.0,<2").contains("not an exact version"));
        assert!(error("pypi:x==../../etc").contains("not an exact version"));
        assert!(error("pypi:-x").contains("not a valid PyPI name"));
        assert!(error("pypi:x-").contains("not a valid PyPI name"));
    }

    #[test]
    fn npm_names_and_versions() {
        assert_eq!(
            parse("npm:@scope/pkg@1.2.3").unwrap(),
            npm("@scope/pkg", Wanted::Exact("1.2.3".into()))
        );
        assert_eq!(parse("npm:pkg").unwrap(), npm("pkg", Wanted::Latest));
        assert_eq!(
            parse("npm:@scope/pkg").unwrap(),
            npm("@scope/pkg", Wanted::Latest)
        );
        assert_eq!(
            parse("npm:pkg@next").unwrap(),
            npm("pkg", Wanted::Tag("next".into()))
        );
        assert_eq!(
            parse("npm:pkg@v1.0.0-rc.1+b5").unwrap(),
            npm("pkg", Wanted::Exact("1.0.0-rc.1+b5".into()))
        );
        assert_eq!(
            parse("npm:JSONStream@1.3.5").unwrap().name,
            "JSONStream",
            "npm names keep their case"
        );
        assert_eq!(
            parse("npm:@modelcontextprotocol/server-filesystem@2025.8.21")
                .unwrap()
                .label("2025.8.21"),
            "npm:@modelcontextprotocol/server-filesystem@2025.8.21"
        );
    }

    #[test]
    fn npm_malformed() {
        assert!(error("npm:").contains("name is missing"));
        assert!(error("npm:@1.0.0").contains("scope but no name"));
        assert!(error("npm:@scope").contains("scope but no name"));
        assert!(error("npm:@scope/").contains("not a valid npm name"));
        assert!(error("npm:pkg@").contains("version after `@` is missing"));
        assert!(error("npm:pkg@^1.2.0").contains("ranges are not supported"));
        assert!(error("npm:pkg@1.2").contains("ranges are not supported"));
        assert!(error("npm:pkg@1.x").contains("ranges are not supported"));
        assert!(error("npm:pkg@>=1 <2").contains("ranges are not supported"));
        assert!(error("npm:pkg@x").contains("ranges are not supported"));
        assert!(error("npm:pkg@1.2.3 || 2").contains("ranges are not supported"));
        assert!(error("npm:.hidden").contains("not a valid npm name"));
        assert!(error("npm:_x").contains("not a valid npm name"));
        assert!(error("npm:../etc/passwd").contains("not a valid npm name"));
        assert!(error("npm:a/b").contains("not a valid npm name"));
        assert!(error("npm:@a/b/c").contains("not a valid npm name"));
        assert!(error(&format!("npm:{}", "a".repeat(215))).contains("214"));
    }

    #[test]
    fn package_arguments_are_recognised_by_prefix() {
        assert!(is_package_argument("pypi:x"));
        assert!(is_package_argument("npm:x"));
        assert!(!is_package_argument("./npm:x"));
        assert!(!is_package_argument("PyPI:x"));
        assert!(!is_package_argument("src"));
        assert!(error("cargo:x").contains("names no package"));
    }

    #[test]
    fn semver() {
        for ok in [
            "0.0.0",
            "1.2.3",
            "1.2.3-alpha.1",
            "1.2.3+build",
            "10.20.30-a-b+c.d",
        ] {
            assert!(is_semver(ok), "{ok}");
        }
        for bad in ["1", "1.2", "1.2.x", "01.2.3.4", "1.2.3-", "a.b.c", ""] {
            assert!(!is_semver(bad), "{bad}");
        }
    }
}
