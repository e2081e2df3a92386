//! Credential formats: one regular expression per token type, written from each provider's
//! documented (or, where undocumented, stable and widely observed) format, plus a few formats
//! that belong to no one provider (JWTs, private keys, connection-string passwords).
//!
//! The trade-off is speed against breadth. Every detector names the lower-case literals its
//! matches always contain (`ghp_`, `sk-ant-api`, `hooks.slack.com`); one Aho-Corasick pass over
//! a value finds which of them occur, and only those detectors' regexes run. Values with no
//! keyword, which is almost all of them, cost one linear scan. A few formats have no literal
//! (a bare AWS secret access key is 40 base64 characters); those run only when the name the
//! value is stored under mentions the provider (`AWS_SECRET_ACCESS_KEY`), and must then be the
//! whole value.
//!
//! Patterns are written with `\b` and compiled with ASCII word boundaries (`(?-u:\b)`), which
//! keeps the regex crate on its fast DFA for non-ASCII values and treats a token next to a
//! non-ASCII letter as separated. Where a token may end in `-` or `_`, a `\b` would be wrong,
//! so the pattern captures the token and then requires a non-token character or the end.
//! A capture group, where present, is the secret; otherwise the whole match is.

use std::sync::LazyLock;

use aho_corasick::AhoCorasick;
use regex::Regex;

use super::{SecretMatch, entropy, interpolation, keys, placeholder};
use crate::registry::Confidence;
use crate::registry::Confidence::{Low, Medium};
use crate::span::Span;

/// One credential format.
pub struct Detector {
    /// Who issues the credential; `None` for formats that belong to no one provider.
    pub provider: Option<&'static str>,
    /// What the secret is, for messages: "GitHub personal access token". Unique.
    pub kind: &'static str,
    pub pattern: &'static str,
    /// Lower-case literals, one of which occurs (ignoring ASCII case) in every match. Empty
    /// only for detectors scoped by `key_names`.
    pub keywords: &'static [&'static str],
    /// When non-empty, the detector runs only on values whose name (normalised: lower case,
    /// `_` for `-`) contains one of these.
    pub key_names: &'static [&'static str],
    pub confidence: Confidence,
    refine: Refine,
}

/// A match, before the detector's last word on it.
struct Candidate<'a> {
    value: &'a str,
    key: Option<&'a str>,
    start: usize,
    secret: &'a str,
}

/// Vetoes a candidate (`None`) or says how confident the detector is.
type Refine = fn(&Candidate<'_>, Confidence) -> Option<Confidence>;

impl Detector {
    /// A provider token found by its own shape, anywhere in a value.
    const fn token(
        provider: &'static str,
        kind: &'static str,
        keywords: &'static [&'static str],
        pattern: &'static str,
    ) -> Detector {
        Detector {
            provider: Some(provider),
            kind,
            pattern,
            keywords,
            key_names: &[],
            confidence: Confidence::High,
            refine: literal,
        }
    }

    /// A provider credential with no distinctive shape: trusted only as the whole value of a
    /// name that mentions the provider, and only if it looks random.
    const fn keyed(
        provider: &'static str,
        kind: &'static str,
        key_names: &'static [&'static str],
        pattern: &'static str,
    ) -> Detector {
        Detector {
            provider: Some(provider),
            kind,
            pattern,
            keywords: &[],
            key_names,
            confidence: Confidence::High,
            refine: random,
        }
    }

    /// A format that belongs to no provider.
    const fn format(
        kind: &'static str,
        keywords: &'static [&'static str],
        pattern: &'static str,
    ) -> Detector {
        Detector {
            provider: None,
            kind,
            pattern,
            keywords,
            key_names: &[],
            confidence: Confidence::High,
            refine: literal,
        }
    }

    const fn confidence(mut self, confidence: Confidence) -> Detector {
        self.confidence = confidence;
        self
    }

    const fn refine(mut self, refine: Refine) -> Detector {
        self.refine = refine;
        self
    }
}

/// The known credential formats.
pub static DETECTORS: &[Detector] = &[
    // GitHub: prefix + 36 base62 characters (the last six are a CRC32 checksum).
    Detector::token("GitHub", "GitHub personal access token", &["ghp_"], r"\bghp_[A-Za-z0-9]{36}\b"),
    Detector::token("GitHub", "GitHub OAuth access token", &["gho_"], r"\bgho_[A-Za-z0-9]{36}\b"),
    Detector::token("GitHub", "GitHub user-to-server token", &["ghu_"], r"\bghu_[A-Za-z0-9]{36}\b"),
    Detector::token("GitHub", "GitHub server-to-server token", &["ghs_"], r"\bghs_[A-Za-z0-9]{36}\b"),
    Detector::token("GitHub", "GitHub refresh token", &["ghr_"], r"\bghr_[A-Za-z0-9]{36,76}\b"),
    Detector::token(
        "GitHub",
        "GitHub fine-grained personal access token",
        &["github_pat_"],
        r"\bgithub_pat_[A-Za-z0-9]{22}_[A-Za-z0-9]{59}\b",
    ),
    // GitLab: `gl*-` prefixes; newer tokens append `.`-separated routing parts.
    Detector::token(
        "GitLab",
        "GitLab personal access token",
        &["glpat-"],
        r"\bglpat-[A-Za-z0-9_\-]{20,}(?:\.[A-Za-z0-9_\-]+)*",
    ),
    Detector::token(
        "GitLab",
        "GitLab pipeline trigger token",
        &["glptt-"],
        r"\bglptt-[A-Za-z0-9_\-]{20,}",
    ),
    Detector::token("GitLab", "GitLab deploy token", &["gldt-"], r"\bgldt-[A-Za-z0-9_\-]{20,}"),
    Detector::token(
        "GitLab",
        "GitLab runner registration token",
        &["gr1348941"],
        r"\bGR1348941[A-Za-z0-9_\-]{20,}",
    ),
    Detector::token(
        "GitLab",
        "GitLab runner authentication token",
        &["glrt-"],
        r"\bglrt-[A-Za-z0-9_\-]{20,}(?:\.[A-Za-z0-9_\-]+)*",
    ),
    // OpenAI: typed `sk-<type>-` keys; legacy keys carry `T3BlbkFJ` ("OpenAI" in base64).
    Detector::token(
        "OpenAI",
        "OpenAI project API key",
        &["sk-proj-"],
        r"\bsk-proj-[A-Za-z0-9_\-]{40,}",
    ),
    Detector::token(
        "OpenAI",
        "OpenAI service account key",
        &["sk-svcacct-"],
        r"\bsk-svcacct-[A-Za-z0-9_\-]{40,}",
    ),
    Detector::token("OpenAI", "OpenAI admin key", &["sk-admin-"], r"\bsk-admin-[A-Za-z0-9_\-]{40,}"),
    Detector::token(
        "OpenAI",
        "OpenAI API key",
        &["t3blbkfj"],
        r"\bsk-[A-Za-z0-9]{20}T3BlbkFJ[A-Za-z0-9]{20}\b",
    ),
    // Anthropic: `sk-ant-<type><version>-` and a long base64url body.
    Detector::token(
        "Anthropic",
        "Anthropic API key",
        &["sk-ant-api"],
        r"\bsk-ant-api[0-9]{2}-[A-Za-z0-9_\-]{32,}",
    ),
    Detector::token(
        "Anthropic",
        "Anthropic admin key",
        &["sk-ant-admin"],
        r"\bsk-ant-admin[0-9]{2}-[A-Za-z0-9_\-]{32,}",
    ),
    Detector::token(
        "Anthropic",
        "Anthropic OAuth token",
        &["sk-ant-oat", "sk-ant-ort"],
        r"\bsk-ant-o(?:at|rt)[0-9]{2}-[A-Za-z0-9_\-]{32,}",
    ),
    // Other model and AI-tool providers common in MCP configurations.
    Detector::token(
        "OpenRouter",
        "OpenRouter API key",
        &["sk-or-v1-"],
        r"\bsk-or-v1-[a-f0-9]{64}\b",
    ),
    Detector::token("xAI", "xAI API key", &["xai-"], r"\bxai-[A-Za-z0-9]{60,}\b"),
    Detector::token("Groq", "Groq API key", &["gsk_"], r"\bgsk_[A-Za-z0-9]{52}\b"),
    Detector::token("Perplexity", "Perplexity API key", &["pplx-"], r"\bpplx-[A-Za-z0-9]{32,}\b"),
    Detector::token("Replicate", "Replicate API token", &["r8_"], r"\br8_[A-Za-z0-9]{37}\b"),
    Detector::token("Hugging Face", "Hugging Face access token", &["hf_"], r"\bhf_[A-Za-z]{34}\b"),
    Detector::token(
        "Hugging Face",
        "Hugging Face organization API token",
        &["api_org_"],
        r"\bapi_org_[A-Za-z]{34}\b",
    ),
    Detector::token("Firecrawl", "Firecrawl API key", &["fc-"], r"\bfc-[a-f0-9]{32}\b"),
    Detector::token(
        "Tavily",
        "Tavily API key",
        &["tvly-"],
        r"\btvly-(?:dev-|prod-)?[A-Za-z0-9]{24,}\b",
    ),
    Detector::keyed(
        "Brave",
        "Brave Search API key",
        &["brave"],
        r"^\s*([A-Za-z0-9_\-]{20,64})\s*$",
    ),
    Detector::token(
        "LangSmith",
        "LangSmith API key",
        &["lsv2_pt_", "lsv2_sk_"],
        r"\blsv2_(?:pt|sk)_[a-f0-9]{32}_[a-f0-9]{10}\b",
    ),
    // AWS: key IDs are `AKIA` (long-term) or `ASIA` (temporary) + 16; the secret key has no
    // marker, so it is trusted only under an `AWS_SECRET_ACCESS_KEY`-like name.
    Detector::token("AWS", "AWS access key ID", &["akia"], r"\bAKIA[A-Z0-9]{16}\b"),
    Detector::token("AWS", "AWS temporary access key ID", &["asia"], r"\bASIA[A-Z0-9]{16}\b"),
    Detector::keyed(
        "AWS",
        "AWS secret access key",
        &["secret_access_key", "secretaccesskey", "aws_secret"],
        r"^\s*([A-Za-z0-9/+]{40})\s*$",
    ),
    // Google.
    Detector::token(
        "Google",
        "Google API key",
        &["aiza"],
        r"\b(AIza[0-9A-Za-z_\-]{35})(?:[^0-9A-Za-z_\-]|$)",
    ),
    Detector::token(
        "Google",
        "Google OAuth client secret",
        &["gocspx-"],
        r"\b(GOCSPX-[A-Za-z0-9_\-]{28})(?:[^A-Za-z0-9_\-]|$)",
    ),
    Detector::token(
        "Google",
        "Google OAuth access token",
        &["ya29."],
        r"\bya29\.[A-Za-z0-9_\-]{20,}",
    ),
    // Azure: storage keys are 64 bytes of base64, shared access keys 32; Entra ID client
    // secrets are 3 characters, a version digit, `Q~`, then 31 to 34 more.
    Detector::token(
        "Azure",
        "Azure storage account key",
        &["accountkey"],
        r"(?i:AccountKey)\s*=\s*([A-Za-z0-9+/]{86}==)",
    ),
    Detector::token(
        "Azure",
        "Azure shared access key",
        &["sharedaccesskey"],
        r"(?i:SharedAccessKey)\s*=\s*([A-Za-z0-9+/]{43}=)",
    ),
    Detector::token(
        "Azure",
        "Azure AD client secret",
        &["q~"],
        r"(?:^|[^A-Za-z0-9_~.\-])([A-Za-z0-9_~.\-]{3}[0-9]Q~[A-Za-z0-9_~.\-]{31,34})(?:[^A-Za-z0-9_~.\-]|$)",
    ),
    // Slack.
    Detector::token(
        "Slack",
        "Slack bot token",
        &["xoxb-"],
        r"\bxoxb-[0-9]+-[A-Za-z0-9\-]{20,}",
    ),
    Detector::token(
        "Slack",
        "Slack user token",
        &["xoxp-"],
        r"\bxoxp-[0-9]+-[A-Za-z0-9\-]{20,}",
    ),
    Detector::token(
        "Slack",
        "Slack workspace, refresh or session token",
        &["xoxa-", "xoxr-", "xoxs-", "xoxe-"],
        r"\bxox[arse]-[0-9]+-[A-Za-z0-9\-]{20,}",
    ),
    Detector::token(
        "Slack",
        "Slack app-level token",
        &["xapp-"],
        r"\bxapp-[0-9]+-[A-Za-z0-9\-]{20,}",
    ),
    Detector::token(
        "Slack",
        "Slack webhook URL",
        &["hooks.slack.com"],
        r"hooks\.slack\.com/services/(T[A-Z0-9]{6,}/B[A-Z0-9]{6,}/[A-Za-z0-9]{20,})\b",
    ),
    // Stripe: test-mode keys reach no real money, so they are reported with low confidence.
    Detector::token(
        "Stripe",
        "Stripe live secret key",
        &["sk_live_"],
        r"\bsk_live_[A-Za-z0-9]{24,}\b",
    ),
    Detector::token(
        "Stripe",
        "Stripe live restricted key",
        &["rk_live_"],
        r"\brk_live_[A-Za-z0-9]{24,}\b",
    ),
    Detector::token(
        "Stripe",
        "Stripe test-mode key",
        &["sk_test_", "rk_test_"],
        r"\b[sr]k_test_[A-Za-z0-9]{24,}\b",
    )
    .confidence(Low),
    Detector::token(
        "Stripe",
        "Stripe webhook signing secret",
        &["whsec_"],
        r"\bwhsec_[A-Za-z0-9]{32,}\b",
    ),
    // Notion: `ntn_` since 2024; older integration tokens are `secret_` + 43.
    Detector::token("Notion", "Notion integration token", &["ntn_"], r"\bntn_[A-Za-z0-9]{40,}\b"),
    Detector::token(
        "Notion",
        "Notion integration token (legacy)",
        &["secret_"],
        r"\bsecret_[A-Za-z0-9]{43}\b",
    ),
    // Package registries.
    Detector::token("npm", "npm access token", &["npm_"], r"\bnpm_[A-Za-z0-9]{36}\b"),
    // A PyPI token is a macaroon whose base64 starts with its issuer, `pypi.org`.
    Detector::token(
        "PyPI",
        "PyPI upload token",
        &["pypi-ageichlwas5vcmc"],
        r"\bpypi-AgEIcHlwaS5vcmc[A-Za-z0-9_\-]{50,}",
    ),
    Detector::token(
        "PyPI",
        "TestPyPI upload token",
        &["pypi-agendgvzdc5wexbplm9yzw"],
        r"\bpypi-AgENdGVzdC5weXBpLm9yZw[A-Za-z0-9_\-]{50,}",
    )
    .confidence(Medium),
    Detector::token(
        "Docker",
        "Docker Hub access token",
        &["dckr_pat_"],
        r"\b(dckr_pat_[A-Za-z0-9_\-]{27})(?:[^A-Za-z0-9_\-]|$)",
    ),
    // Messaging and email. `SK` + hex and `key-` + hex are short prefixes, hence medium.
    Detector::token("Twilio", "Twilio API key", &["sk"], r"\bSK[0-9a-fA-F]{32}\b").confidence(Medium),
    Detector::token(
        "SendGrid",
        "SendGrid API key",
        &["sg."],
        r"\b(SG\.[A-Za-z0-9_\-]{22}\.[A-Za-z0-9_\-]{43})(?:[^A-Za-z0-9_\-]|$)",
    ),
    Detector::token("Mailgun", "Mailgun API key", &["key-"], r"\bkey-[0-9a-f]{32}\b")
        .confidence(Medium),
    Detector::keyed(
        "Discord",
        "Discord bot token",
        &["discord"],
        r"^\s*(?:Bot\s+)?([MNO][A-Za-z0-9_\-]{23,27}\.[A-Za-z0-9_\-]{6}\.[A-Za-z0-9_\-]{27,40})\s*$",
    ),
    Detector::token(
        "Discord",
        "Discord webhook URL",
        &["discord.com/api/webhooks", "discordapp.com/api/webhooks"],
        r"discord(?:app)?\.com/api/webhooks/[0-9]{17,20}/([A-Za-z0-9_\-]{60,70})(?:[^A-Za-z0-9_\-]|$)",
    ),
    Detector::keyed(
        "Telegram",
        "Telegram bot token",
        &["telegram"],
        r"^\s*([0-9]{8,10}:[A-Za-z0-9_\-]{35})\s*$",
    ),
    Detector::token(
        "Telegram",
        "Telegram bot token in API URL",
        &["api.telegram.org/"],
        r"api\.telegram\.org/(?:file/)?bot([0-9]{8,10}:[A-Za-z0-9_\-]{35})(?:[^A-Za-z0-9_\-]|$)",
    ),
    // Cloud and hosting.
    Detector::token(
        "DigitalOcean",
        "DigitalOcean personal access token",
        &["dop_v1_"],
        r"\bdop_v1_[a-f0-9]{64}\b",
    ),
    Detector::token(
        "DigitalOcean",
        "DigitalOcean OAuth token",
        &["doo_v1_", "dor_v1_"],
        r"\bdo[or]_v1_[a-f0-9]{64}\b",
    ),
    Detector::token("Vercel", "Vercel personal access token", &["vcp_"], r"\bvcp_[A-Za-z0-9]{20,}\b"),
    Detector::token("Vercel", "Vercel API key", &["vck_"], r"\bvck_[A-Za-z0-9]{20,}\b"),
    Detector::token(
        "Vercel",
        "Vercel integration or app token",
        &["vci_", "vca_", "vcr_"],
        r"\bvc[iar]_[A-Za-z0-9]{20,}\b",
    ),
    Detector::keyed(
        "Vercel",
        "Vercel access token (unprefixed)",
        &["vercel"],
        r"^\s*([A-Za-z0-9]{24})\s*$",
    ),
    // Cloudflare: `cf*_` + 40 + checksum since 2026; older tokens are bare strings.
    Detector::token(
        "Cloudflare",
        "Cloudflare global API key",
        &["cfk_"],
        r"\bcfk_[A-Za-z0-9]{40,}\b",
    ),
    Detector::token(
        "Cloudflare",
        "Cloudflare user API token",
        &["cfut_"],
        r"\bcfut_[A-Za-z0-9]{40,}\b",
    ),
    Detector::token(
        "Cloudflare",
        "Cloudflare account API token",
        &["cfat_"],
        r"\bcfat_[A-Za-z0-9]{40,}\b",
    ),
    Detector::keyed(
        "Cloudflare",
        "Cloudflare API token (unprefixed)",
        &["cloudflare", "cf_"],
        r"^\s*([A-Za-z0-9_\-]{40})\s*$",
    ),
    Detector::keyed(
        "Cloudflare",
        "Cloudflare global API key (unprefixed)",
        &["cloudflare", "cf_"],
        r"^\s*([a-f0-9]{37,45})\s*$",
    ),
    Detector::token(
        "Supabase",
        "Supabase personal access token",
        &["sbp_"],
        r"\bsbp_[a-f0-9]{40}\b",
    ),
    Detector::token(
        "Supabase",
        "Supabase secret key",
        &["sb_secret_"],
        r"\bsb_secret_[A-Za-z0-9_\-]{20,}",
    ),
    Detector::token(
        "Databricks",
        "Databricks access token",
        &["dapi"],
        r"\bdapi[a-f0-9]{32}(?:-[0-9])?\b",
    ),
    Detector::token(
        "PlanetScale",
        "PlanetScale token",
        &["pscale_tkn_", "pscale_pw_", "pscale_oauth_"],
        r"\bpscale_(?:tkn|pw|oauth)_[A-Za-z0-9_\-]{32,}",
    ),
    Detector::token(
        "HashiCorp",
        "Terraform Cloud API token",
        &[".atlasv1."],
        r"\b[A-Za-z0-9]{14}\.atlasv1\.[A-Za-z0-9_\-=]{60,}",
    ),
    Detector::token("Pulumi", "Pulumi access token", &["pul-"], r"\bpul-[a-f0-9]{40}\b"),
    Detector::token(
        "Doppler",
        "Doppler personal token",
        &["dp.pt."],
        r"\bdp\.pt\.[A-Za-z0-9]{40,44}\b",
    ),
    Detector::token(
        "Doppler",
        "Doppler service token",
        &["dp.st.", "dp.sa.", "dp.ct.", "dp.scim.", "dp.audit."],
        r"\bdp\.(?:st|sa|ct|scim|audit)\.(?:[a-z0-9_\-]{2,35}\.)?[A-Za-z0-9]{40,44}\b",
    ),
    Detector::token(
        "1Password",
        "1Password service account token",
        &["ops_eyj"],
        r"\bops_eyJ[A-Za-z0-9+/=_\-]{100,}",
    ),
    // Developer tools and SaaS.
    Detector::token("Linear", "Linear API key", &["lin_api_"], r"\blin_api_[A-Za-z0-9]{40}\b"),
    Detector::token(
        "Atlassian",
        "Atlassian API token",
        &["atatt3"],
        r"\bATATT3[A-Za-z0-9_\-=]{100,}",
    ),
    Detector::token(
        "Sentry",
        "Sentry organization auth token",
        &["sntrys_"],
        r"\bsntrys_[A-Za-z0-9+/=_\-]{50,}",
    ),
    Detector::token(
        "Sentry",
        "Sentry user auth token",
        &["sntryu_"],
        r"\bsntryu_[a-f0-9]{64}\b",
    ),
    Detector::token(
        "PostHog",
        "PostHog personal API key",
        &["phx_"],
        r"\bphx_[A-Za-z0-9]{43,}\b",
    ),
    // The project key is public by design (it ships in web pages); still worth a low note.
    Detector::token(
        "PostHog",
        "PostHog project API key",
        &["phc_"],
        r"\bphc_[A-Za-z0-9]{43,}\b",
    )
    .confidence(Low),
    Detector::token(
        "Figma",
        "Figma personal access token",
        &["figd_"],
        r"\bfigd_[A-Za-z0-9_\-]{40,}",
    ),
    Detector::token(
        "Postman",
        "Postman API key",
        &["pmak-"],
        r"\bPMAK-[a-f0-9]{24}-[a-f0-9]{34}\b",
    ),
    Detector::token(
        "Grafana",
        "Grafana service account token",
        &["glsa_"],
        r"\bglsa_[A-Za-z0-9]{32}_[a-f0-9]{8}\b",
    ),
    Detector::token(
        "Grafana",
        "Grafana Cloud access policy token",
        &["glc_"],
        r"\bglc_[A-Za-z0-9+/]{32,}={0,2}",
    ),
    Detector::token(
        "Dynatrace",
        "Dynatrace API token",
        &["dt0c01."],
        r"\bdt0c01\.[A-Z0-9]{24}\.[A-Z0-9]{64}\b",
    ),
    Detector::token(
        "Airtable",
        "Airtable personal access token",
        &["pat"],
        r"\bpat[A-Za-z0-9]{14}\.[a-f0-9]{64}\b",
    ),
    Detector::token(
        "Mapbox",
        "Mapbox secret access token",
        &["sk.eyj"],
        r"\bsk\.eyJ[A-Za-z0-9_\-]{20,}\.[A-Za-z0-9_\-]{20,}",
    ),
    Detector::token(
        "Shopify",
        "Shopify access token",
        &["shpat_"],
        r"\bshpat_[a-fA-F0-9]{32}\b",
    ),
    Detector::token(
        "Shopify",
        "Shopify shared secret",
        &["shpss_"],
        r"\bshpss_[a-fA-F0-9]{32}\b",
    ),
    Detector::token(
        "Shopify",
        "Shopify custom app access token",
        &["shpca_"],
        r"\bshpca_[a-fA-F0-9]{32}\b",
    ),
    Detector::token(
        "Shopify",
        "Shopify private app access token",
        &["shppa_"],
        r"\bshppa_[a-fA-F0-9]{32}\b",
    ),
    // Formats of no one provider.
    // A JWT is often a short-lived or public token (Supabase anon keys are JWTs), so it is low
    // unless stored as a credential.
    Detector::format(
        "JSON Web Token",
        &["eyj"],
        r"\beyJ[A-Za-z0-9_\-]{10,}\.eyJ[A-Za-z0-9_\-]{10,}\.[A-Za-z0-9_\-]{10,}",
    )
    .confidence(Low)
    .refine(jwt),
    // The whole PEM block, with or without its END line (values are often cut or escaped).
    Detector::format(
        "private key",
        &["private key"],
        r"-----BEGIN[ A-Z0-9]*PRIVATE KEY(?: BLOCK)?-----(?:[A-Za-z0-9+/=\s:,.\\]|-[A-Za-z0-9])*(?:-----END[ A-Z0-9]*PRIVATE KEY(?: BLOCK)?-----)?",
    )
    .refine(private_key),
    Detector::format(
        "age secret key",
        &["age-secret-key-1"],
        r"\bAGE-SECRET-KEY-1[QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L]{58}\b",
    ),
    // ADO.NET / JDBC style: `Server=...;User Id=sa;Password=...;` (SQL Server and others).
    Detector::format(
        "password in connection string",
        &["password", "pwd"],
        r#"(?i)(?:^|;)\s*(?:password|pwd)\s*=\s*([^;\s'"][^;]*?)\s*(?:;|$)"#,
    )
    .refine(connection_string),
];

/// Minimum Shannon entropy (bits per character) for a value with no distinctive shape.
const MIN_ENTROPY: f64 = 3.5;

/// The default check: not a placeholder, and no interpolation reference inside.
fn literal(c: &Candidate<'_>, confidence: Confidence) -> Option<Confidence> {
    (!placeholder::is_placeholder(c.secret) && !interpolation::contains_reference(c.secret))
        .then_some(confidence)
}

/// For shapeless credentials: a literal that also looks random.
fn random(c: &Candidate<'_>, confidence: Confidence) -> Option<Confidence> {
    literal(c, confidence).filter(|_| {
        entropy::shannon_entropy(c.secret) >= MIN_ENTROPY
            && !placeholder::looks_like_words(c.secret)
    })
}

/// A JWT stored as a credential (under an auth-like name, or after `Bearer`) is medium.
fn jwt(c: &Candidate<'_>, confidence: Confidence) -> Option<Confidence> {
    let confidence = literal(c, confidence)?;
    let before = c.value[..c.start].trim_end().to_ascii_lowercase();
    let as_credential = c.key.is_some_and(keys::is_secret_name) || before.ends_with("bearer");
    Some(if as_credential {
        confidence.max(Medium)
    } else {
        confidence
    })
}

/// A PEM block counts only with real key material: at least 64 base64 characters in the body,
/// so `-----BEGIN PRIVATE KEY-----\n...\n-----END PRIVATE KEY-----` in a README is not one.
fn private_key(c: &Candidate<'_>, confidence: Confidence) -> Option<Confidence> {
    // Skip the BEGIN line: its closing dashes are the second run of five.
    let after_begin = c.secret.get(5..)?;
    let body_start = after_begin.find("-----")? + 10;
    let body = c.secret.get(body_start..)?;
    let body = body.split("-----END").next().unwrap_or(body);
    let material = body
        .bytes()
        .filter(|b| b.is_ascii_alphanumeric() || *b == b'+' || *b == b'/')
        .count();
    (material >= 64).then_some(confidence)
}

/// `Password=` counts only inside a connection string (a value with `;`-separated parts); a
/// lone `password=...` argument is judged by the generic check under its name instead.
fn connection_string(c: &Candidate<'_>, confidence: Confidence) -> Option<Confidence> {
    if !c.value.contains(';') {
        return None;
    }
    literal(c, confidence)
}

/// Compiles one detector pattern. See the module docs for the `\b` rewrite.
fn compile(pattern: &str) -> Regex {
    Regex::new(&pattern.replace(r"\b", r"(?-u:\b)")).expect("static regex")
}

static COMPILED: LazyLock<Vec<Regex>> =
    LazyLock::new(|| DETECTORS.iter().map(|d| compile(d.pattern)).collect());

/// The keyword automaton and, for each of its patterns, the detector that declared it.
struct Prefilter {
    automaton: AhoCorasick,
    owner: Vec<usize>,
}

static PREFILTER: LazyLock<Prefilter> = LazyLock::new(|| {
    let mut words = Vec::new();
    let mut owner = Vec::new();
    for (i, d) in DETECTORS.iter().enumerate() {
        for w in d.keywords {
            words.push(*w);
            owner.push(i);
        }
    }
    let automaton = AhoCorasick::builder()
        .ascii_case_insensitive(true)
        .build(&words)
        .expect("static keywords");
    Prefilter { automaton, owner }
});

/// Every detector over `value` stored under `key`.
pub(super) fn find(value: &str, key: Option<&str>) -> Vec<SecretMatch> {
    scan(value, key, false)
}

/// Only the detectors scoped by a key name: for the value part of `NAME=VALUE`.
pub(super) fn find_keyed(value: &str, key: Option<&str>) -> Vec<SecretMatch> {
    scan(value, key, true)
}

fn scan(value: &str, key: Option<&str>, keyed_only: bool) -> Vec<SecretMatch> {
    let mut has_keyword = vec![false; DETECTORS.len()];
    if !keyed_only {
        let prefilter = &*PREFILTER;
        for m in prefilter.automaton.find_overlapping_iter(value) {
            has_keyword[prefilter.owner[m.pattern().as_usize()]] = true;
        }
    }
    // A name like `CLOUDFLARE_ACCOUNT_ID` mentions the provider but holds no secret.
    let key = key.filter(|k| !keys::names_something_else(k));
    let normalized_key = key.map(keys::normalize);
    let mut out = Vec::new();
    for (i, d) in DETECTORS.iter().enumerate() {
        if keyed_only && d.key_names.is_empty() {
            continue;
        }
        let keyword_ok = d.keywords.is_empty() || has_keyword[i];
        let key_ok = d.key_names.is_empty()
            || normalized_key
                .as_deref()
                .is_some_and(|k| d.key_names.iter().any(|name| k.contains(name)));
        if !(keyword_ok && key_ok) {
            continue;
        }
        for caps in COMPILED[i].captures_iter(value) {
            // The first capture group that took part is the secret; else the whole match.
            let Some(m) = caps.iter().skip(1).flatten().next().or_else(|| caps.get(0)) else {
                continue;
            };
            if m.is_empty() {
                continue;
            }
            let candidate = Candidate {
                value,
                key,
                start: m.start(),
                secret: m.as_str(),
            };
            if let Some(confidence) = (d.refine)(&candidate, d.confidence) {
                out.push(SecretMatch {
                    span: Span::new(m.start(), m.end()),
                    kind: d.kind,
                    confidence,
                });
            }
        }
    }
    out
}

/// Number of distinct providers with at least one detector.
pub fn provider_count() -> usize {
    let mut providers: Vec<&str> = DETECTORS.iter().filter_map(|d| d.provider).collect();
    providers.sort_unstable();
    providers.dedup();
    providers.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_pattern_compiles() {
        for d in DETECTORS {
            let rewritten = d.pattern.replace(r"\b", r"(?-u:\b)");
            if let Err(e) = Regex::new(&rewritten) {
                panic!("{}: {e}", d.kind);
            }
        }
        assert_eq!(COMPILED.len(), DETECTORS.len());
        assert!(PREFILTER.automaton.patterns_len() > 0);
    }

    #[test]
    fn kinds_are_unique_and_every_detector_is_prefiltered() {
        let mut kinds: Vec<&str> = DETECTORS.iter().map(|d| d.kind).collect();
        kinds.sort_unstable();
        let before = kinds.len();
        kinds.dedup();
        assert_eq!(before, kinds.len(), "duplicate detector kind");
        for d in DETECTORS {
            // Without either, a detector would run its regex on every value.
            assert!(
                !d.keywords.is_empty() || !d.key_names.is_empty(),
                "{} has neither keywords nor key names",
                d.kind
            );
            for w in d.keywords.iter().chain(d.key_names) {
                assert!(!w.is_empty(), "{}: empty keyword", d.kind);
                assert_eq!(*w, w.to_lowercase(), "{}: keywords are lower case", d.kind);
            }
        }
    }

    #[test]
    fn covers_at_least_thirty_providers() {
        assert!(
            provider_count() >= 30,
            "only {} providers",
            provider_count()
        );
    }
}
