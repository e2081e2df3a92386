//! Test cases for the secret checks: for every detector kind, realistic true positives and
//! near misses (wrong length, wrong prefix, placeholder, interpolation, embedded in a longer
//! word, a name that says "not a secret").
//!
//! Token-shaped strings are generated from a fixed seed at test time rather than written out,
//! so the source holds nothing a secret scanner (ours or a host's) would flag, and no real
//! credential can slip in by copy and paste. The values are deterministic, so failures repeat.

use super::{generic, url_credentials};
use crate::registry::Confidence;
use crate::registry::Confidence::{High, Low, Medium};

/// What a case expects of `find_secrets(value, key)`.
pub enum Expect {
    /// Exactly one match: this kind, this confidence, spanning exactly `secret`.
    Hit {
        kind: &'static str,
        secret: String,
        confidence: Confidence,
    },
    /// No match at all. `near` names the check the input nearly triggers.
    Miss { near: &'static str },
    /// No match of kind `near`; another check may legitimately report it (a near miss under
    /// a secret-sounding name is still judged by the generic check).
    NotKind { near: &'static str },
}

pub struct Case {
    pub value: String,
    pub key: Option<&'static str>,
    pub expect: Expect,
}

impl Case {
    fn key(mut self, key: &'static str) -> Case {
        self.key = Some(key);
        self
    }

    /// The expected secret is this part of the value (default: all of it).
    fn secret(mut self, part: impl Into<String>) -> Case {
        if let Expect::Hit { secret, .. } = &mut self.expect {
            *secret = part.into();
        }
        self
    }

    fn conf(mut self, c: Confidence) -> Case {
        if let Expect::Hit { confidence, .. } = &mut self.expect {
            *confidence = c;
        }
        self
    }
}

fn hit(kind: &'static str, value: impl Into<String>) -> Case {
    let value = value.into();
    Case {
        expect: Expect::Hit {
            kind,
            secret: value.clone(),
            confidence: High,
        },
        value,
        key: None,
    }
}

fn miss(near: &'static str, value: impl Into<String>) -> Case {
    Case {
        value: value.into(),
        key: None,
        expect: Expect::Miss { near },
    }
}

fn not_kind(near: &'static str, value: impl Into<String>) -> Case {
    Case {
        value: value.into(),
        key: None,
        expect: Expect::NotKind { near },
    }
}

const ALNUM: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
const UPPER_NUM: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
const LETTERS: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const HEX: &str = "0123456789abcdef";
const DIGITS: &str = "0123456789";
const B64: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const B64URL: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
const AZURE: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789~_.-";
const BECH32_UPPER: &str = "QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L";

/// A deterministic generator of fake token bodies (xorshift64*).
pub struct Gen(u64);

impl Gen {
    pub fn new(seed: u64) -> Gen {
        Gen(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    pub fn from(&mut self, alphabet: &str, n: usize) -> String {
        let chars: Vec<char> = alphabet.chars().collect();
        (0..n)
            .map(|_| chars[(self.next() >> 33) as usize % chars.len()])
            .collect()
    }

    fn an(&mut self, n: usize) -> String {
        self.from(ALNUM, n)
    }
    fn up(&mut self, n: usize) -> String {
        self.from(UPPER_NUM, n)
    }
    fn letters(&mut self, n: usize) -> String {
        self.from(LETTERS, n)
    }
    fn hex(&mut self, n: usize) -> String {
        self.from(HEX, n)
    }
    fn digits(&mut self, n: usize) -> String {
        // No leading zero, like the ids it stands for.
        format!("{}{}", self.from("123456789", 1), self.from(DIGITS, n - 1))
    }
    fn b64(&mut self, n: usize) -> String {
        self.from(B64, n)
    }
    fn b64u(&mut self, n: usize) -> String {
        self.from(B64URL, n)
    }
}

/// Every kind a case may name: the detectors, the URL check and the generic check.
pub fn all_kinds() -> Vec<&'static str> {
    let mut kinds: Vec<&'static str> = super::DETECTORS.iter().map(|d| d.kind).collect();
    kinds.extend(url_credentials::KINDS);
    kinds.push(generic::KIND);
    kinds
}

pub fn cases() -> Vec<Case> {
    let mut g = Gen::new(0x5EC2E7);
    let mut c = Vec::new();

    // --- GitHub -------------------------------------------------------------------------
    let k = "GitHub personal access token";
    let t = format!("ghp_{}", g.an(36));
    c.push(hit(k, t.clone()));
    c.push(hit(k, format!("Authorization: token {t}")).secret(t.clone()));
    c.push(hit(k, t.clone()).key("GITHUB_PERSONAL_ACCESS_TOKEN"));
    c.push(miss(k, format!("ghp_{}", g.an(35))));
    c.push(miss(k, format!("ghp_{}", g.an(37))));
    c.push(miss(k, format!("xghp_{}", g.an(36))));
    c.push(miss(k, format!("ghp_{}", "x".repeat(36))));
    let k = "GitHub OAuth access token";
    c.push(hit(k, format!("gho_{}", g.an(36))));
    c.push(miss(k, format!("gho_{}", g.an(30))));
    let k = "GitHub user-to-server token";
    c.push(hit(k, format!("ghu_{}", g.an(36))));
    c.push(miss(k, format!("ghu_{}_{}", g.an(20), g.an(16))));
    let k = "GitHub server-to-server token";
    c.push(hit(k, format!("ghs_{}", g.an(36))));
    c.push(miss(k, format!("my_ghs_{}", g.an(36))));
    let k = "GitHub refresh token";
    c.push(hit(k, format!("ghr_{}", g.an(76))));
    c.push(miss(k, format!("ghr_{}", g.an(20))));
    let k = "GitHub fine-grained personal access token";
    c.push(hit(k, format!("github_pat_{}_{}", g.an(22), g.an(59))));
    c.push(miss(k, format!("github_pat_{}_{}", g.an(22), g.an(58))));

    // --- GitLab -------------------------------------------------------------------------
    let k = "GitLab personal access token";
    c.push(hit(k, format!("glpat-{}", g.b64u(20))));
    c.push(hit(k, format!("glpat-{}.01.{}", g.an(27), g.an(9))));
    c.push(miss(k, format!("glpat-{}", g.an(12))));
    let k = "GitLab pipeline trigger token";
    c.push(hit(k, format!("glptt-{}", g.hex(40))));
    c.push(miss(k, format!("glptt-{}", g.hex(10))));
    let k = "GitLab deploy token";
    c.push(hit(k, format!("gldt-{}", g.b64u(20))));
    c.push(miss(k, format!("gldt-{}", g.an(8))));
    let k = "GitLab runner registration token";
    c.push(hit(k, format!("GR1348941{}", g.b64u(20))));
    c.push(miss(k, format!("GR1348941{}", g.an(5))));
    let k = "GitLab runner authentication token";
    c.push(hit(k, format!("glrt-{}", g.b64u(20))));
    c.push(miss(k, "glrt-runner"));

    // --- OpenAI -------------------------------------------------------------------------
    let k = "OpenAI project API key";
    c.push(hit(
        k,
        format!("sk-proj-{}T3BlbkFJ{}", g.b64u(74), g.b64u(74)),
    ));
    c.push(miss(k, format!("sk-proj-{}", g.an(20))));
    c.push(miss(k, "sk-proj-...").key("OPENAI_API_KEY"));
    let k = "OpenAI service account key";
    c.push(hit(k, format!("sk-svcacct-{}", g.b64u(120))));
    c.push(miss(k, format!("sk-svcacct-{}", g.an(16))));
    let k = "OpenAI admin key";
    c.push(hit(k, format!("sk-admin-{}", g.b64u(120))));
    c.push(miss(k, format!("task-admin-{}", g.an(60))));
    let k = "OpenAI API key";
    c.push(hit(k, format!("sk-{}T3BlbkFJ{}", g.an(20), g.an(20))));
    c.push(miss(k, format!("sk-{}T3BlbkFJ{}", g.an(19), g.an(20))));
    c.push(miss(k, "sk-...").key("OPENAI_API_KEY"));

    // --- Anthropic ----------------------------------------------------------------------
    let k = "Anthropic API key";
    c.push(hit(k, format!("sk-ant-api03-{}AA", g.b64u(93))).key("ANTHROPIC_API_KEY"));
    c.push(miss(k, format!("sk-ant-api03-{}", g.an(20))));
    c.push(miss(k, format!("sk-ant-apiXX-{}", g.an(95))));
    let k = "Anthropic admin key";
    c.push(hit(k, format!("sk-ant-admin01-{}AA", g.b64u(93))));
    c.push(miss(k, format!("sk-ant-admin-{}", g.an(95))));
    let k = "Anthropic OAuth token";
    c.push(hit(k, format!("sk-ant-oat01-{}AA", g.b64u(93))));
    c.push(miss(k, format!("sk-ant-oat01-{}", g.an(10))));

    // --- Other AI providers -------------------------------------------------------------
    let k = "OpenRouter API key";
    c.push(hit(k, format!("sk-or-v1-{}", g.hex(64))));
    c.push(miss(k, format!("sk-or-v1-{}", g.hex(63))));
    let k = "xAI API key";
    c.push(hit(k, format!("xai-{}", g.an(80))));
    c.push(miss(k, format!("xai-{}", g.an(30))));
    let k = "Groq API key";
    c.push(hit(k, format!("gsk_{}", g.an(52))));
    c.push(miss(k, format!("gsk_{}", g.an(51))));
    let k = "Perplexity API key";
    c.push(hit(k, format!("pplx-{}", g.an(48))));
    c.push(miss(k, format!("pplx-{}", g.an(16))));
    let k = "Replicate API token";
    c.push(hit(k, format!("r8_{}", g.an(37))));
    c.push(miss(k, format!("r8_{}", g.an(36))));
    let k = "Hugging Face access token";
    c.push(hit(k, format!("hf_{}", g.letters(34))));
    c.push(miss(k, format!("hf_{}", g.letters(33))));
    c.push(miss(k, format!("hf_{}7", g.letters(33))));
    let k = "Hugging Face organization API token";
    c.push(hit(k, format!("api_org_{}", g.letters(34))));
    c.push(miss(k, format!("api_org_{}", g.letters(20))));
    let k = "Firecrawl API key";
    c.push(hit(k, format!("fc-{}", g.hex(32))));
    c.push(miss(k, format!("fc-{}", g.hex(31))));
    c.push(miss(k, format!("xfc-{}", g.hex(32))));
    let k = "Tavily API key";
    c.push(hit(k, format!("tvly-dev-{}", g.an(32))));
    c.push(hit(k, format!("tvly-{}", g.an(32))));
    c.push(miss(k, format!("tvly-{}", g.an(10))));
    let k = "Brave Search API key";
    c.push(hit(k, format!("BSA{}", g.an(28))).key("BRAVE_API_KEY"));
    c.push(miss(k, "your-brave-api-key").key("BRAVE_API_KEY"));
    c.push(miss(k, g.an(31)).key("BRAVE_MODE"));
    let k = "LangSmith API key";
    c.push(hit(k, format!("lsv2_pt_{}_{}", g.hex(32), g.hex(10))));
    c.push(miss(k, format!("lsv2_pt_{}_{}", g.hex(31), g.hex(10))));

    // --- AWS ----------------------------------------------------------------------------
    let k = "AWS access key ID";
    c.push(hit(k, format!("AKIA{}", g.up(16))));
    c.push(miss(k, format!("AKIA{}", g.up(15))));
    c.push(miss(k, "AKIAIOSFODNN7EXAMPLE"));
    let k = "AWS temporary access key ID";
    c.push(hit(k, format!("ASIA{}", g.up(16))));
    c.push(miss(
        k,
        format!("ASIA{}", g.from("abcdefghijklmnopqrstuvwxyz", 16)),
    ));
    let k = "AWS secret access key";
    let t = g.b64(40);
    c.push(hit(k, t.clone()).key("AWS_SECRET_ACCESS_KEY"));
    c.push(hit(k, format!("AWS_SECRET_ACCESS_KEY={t}")).secret(t.clone()));
    c.push(miss(k, "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY").key("AWS_SECRET_ACCESS_KEY"));
    c.push(miss(k, t).key("AWS_REGION"));
    c.push(not_kind(k, g.b64(39)).key("AWS_SECRET_ACCESS_KEY"));

    // --- Google -------------------------------------------------------------------------
    let k = "Google API key";
    let t = format!("AIza{}", g.b64u(35));
    c.push(hit(k, t.clone()));
    c.push(hit(k, format!("https://maps.test/api?key={t}&v=3")).secret(t));
    c.push(miss(k, format!("AIza{}", g.b64u(34))));
    let k = "Google OAuth client secret";
    c.push(hit(k, format!("GOCSPX-{}", g.b64u(28))));
    c.push(miss(k, format!("GOCSPX-{}", g.an(20))));
    let k = "Google OAuth access token";
    c.push(hit(k, format!("ya29.{}", g.b64u(120))));
    c.push(miss(k, "ya29.short"));

    // --- Azure --------------------------------------------------------------------------
    let k = "Azure storage account key";
    let t = format!("{}==", g.b64(86));
    c.push(
        hit(
            k,
            format!(
                "DefaultEndpointsProtocol=https;AccountName=acct;AccountKey={t};EndpointSuffix=core.windows.net"
            ),
        )
        .secret(t),
    );
    c.push(miss(
        k,
        format!(
            "DefaultEndpointsProtocol=https;AccountName=acct;AccountKey={}==",
            g.b64(40)
        ),
    ));
    let k = "Azure shared access key";
    let t = format!("{}=", g.b64(43));
    c.push(
        hit(
            k,
            format!(
                "Endpoint=sb://ns.servicebus.windows.net/;SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey={t}"
            ),
        )
        .secret(t),
    );
    c.push(miss(
        k,
        format!(
            "Endpoint=sb://ns.servicebus.windows.net/;SharedAccessKey={}=",
            g.b64(20)
        ),
    ));
    let k = "Azure AD client secret";
    c.push(hit(k, format!("{}8Q~{}", g.an(3), g.from(AZURE, 34))));
    c.push(miss(k, format!("{}8Q~{}", g.an(3), g.an(20))));
    // Four characters before the version digit: part of a longer word.
    c.push(miss(k, format!("{}8Q~{}", g.an(4), g.from(AZURE, 34))));

    // --- Slack --------------------------------------------------------------------------
    let k = "Slack bot token";
    c.push(hit(
        k,
        format!("xoxb-{}-{}-{}", g.digits(12), g.digits(13), g.an(24)),
    ));
    c.push(miss(k, format!("xoxb-{}", g.letters(10))));
    let k = "Slack user token";
    c.push(hit(
        k,
        format!(
            "xoxp-{}-{}-{}-{}",
            g.digits(12),
            g.digits(12),
            g.digits(13),
            g.hex(32)
        ),
    ));
    c.push(miss(k, "xoxp-123-abc"));
    let k = "Slack workspace, refresh or session token";
    c.push(hit(k, format!("xoxe-1-{}", g.an(140))));
    c.push(hit(k, format!("xoxr-{}-{}", g.digits(10), g.an(30))));
    c.push(miss(k, format!("xoxs-{}", g.an(5))));
    let k = "Slack app-level token";
    c.push(hit(
        k,
        format!("xapp-1-A{}-{}-{}", g.up(10), g.digits(13), g.hex(64)),
    ));
    c.push(miss(k, "xapp-1-short"));
    let k = "Slack webhook URL";
    let t = format!("T{}/B{}/{}", g.up(8), g.up(10), g.an(24));
    c.push(hit(k, format!("https://hooks.slack.com/services/{t}")).secret(t));
    c.push(miss(
        k,
        "https://hooks.slack.com/services/T000/B000/XXXXXXXX",
    ));

    // --- Stripe -------------------------------------------------------------------------
    let k = "Stripe live secret key";
    c.push(hit(k, format!("sk_live_{}", g.an(99))));
    c.push(miss(k, format!("sk_live_{}", g.an(10))));
    let k = "Stripe live restricted key";
    c.push(hit(k, format!("rk_live_{}", g.an(24))));
    c.push(miss(k, format!("rk_live_{}", g.an(23))));
    let k = "Stripe test-mode key";
    c.push(hit(k, format!("sk_test_{}", g.an(24))).conf(Low));
    c.push(
        hit(k, format!("sk_test_{}", g.an(24)))
            .key("STRIPE_SECRET_KEY")
            .conf(Low),
    );
    c.push(miss(k, format!("sk_test_{}", g.an(5))));
    let k = "Stripe webhook signing secret";
    c.push(hit(k, format!("whsec_{}", g.an(32))));
    c.push(miss(k, format!("whsec_{}", g.an(16))));

    // --- Notion -------------------------------------------------------------------------
    let k = "Notion integration token";
    c.push(hit(k, format!("ntn_{}{}", g.digits(11), g.an(35))));
    c.push(miss(k, format!("ntn_{}", g.an(20))));
    let k = "Notion integration token (legacy)";
    c.push(hit(k, format!("secret_{}", g.an(43))));
    c.push(miss(k, format!("secret_{}", g.an(42))));
    c.push(miss(k, format!("my_secret_{}", g.an(43))));

    // --- Package registries -------------------------------------------------------------
    let k = "npm access token";
    c.push(hit(k, format!("npm_{}", g.an(36))));
    c.push(miss(k, format!("npm_{}", g.an(37))));
    let k = "PyPI upload token";
    c.push(hit(k, format!("pypi-AgEIcHlwaS5vcmc{}", g.b64u(120))));
    c.push(miss(k, format!("pypi-AgEIcHlwaS5vcmc{}", g.an(10))));
    let k = "TestPyPI upload token";
    c.push(hit(k, format!("pypi-AgENdGVzdC5weXBpLm9yZw{}", g.b64u(120))).conf(Medium));
    c.push(miss(k, format!("pypi-AgENdGVzdC5weXBpLm9yZw{}", g.an(10))));
    let k = "Docker Hub access token";
    c.push(hit(k, format!("dckr_pat_{}", g.b64u(27))));
    c.push(miss(k, format!("dckr_pat_{}", g.an(26))));

    // --- Messaging and email ------------------------------------------------------------
    let k = "Twilio API key";
    c.push(hit(k, format!("SK{}", g.hex(32))).conf(Medium));
    // An account SID identifies, it does not authenticate.
    c.push(miss(k, format!("AC{}", g.hex(32))));
    c.push(miss(k, format!("SK{}", g.hex(31))));
    let k = "SendGrid API key";
    c.push(hit(k, format!("SG.{}.{}", g.b64u(22), g.b64u(43))));
    c.push(miss(k, format!("SG.{}.{}", g.b64u(22), g.b64u(20))));
    let k = "Mailgun API key";
    c.push(hit(k, format!("key-{}", g.hex(32))).conf(Medium));
    c.push(miss(k, format!("key-{}", g.hex(31))));
    c.push(miss(k, format!("monkey-{}", g.hex(32))));
    let k = "Discord bot token";
    let t = format!("M{}.{}.{}", g.b64u(25), g.b64u(6), g.b64u(38));
    c.push(hit(k, t.clone()).key("DISCORD_BOT_TOKEN"));
    c.push(
        hit(k, format!("Bot {t}"))
            .key("DISCORD_TOKEN")
            .secret(t.clone()),
    );
    c.push(miss(k, "your-discord-bot-token").key("DISCORD_BOT_TOKEN"));
    c.push(miss(k, t).key("DISCORD_GUILD_ID"));
    let k = "Discord webhook URL";
    let t = g.b64u(68);
    c.push(
        hit(
            k,
            format!("https://discord.com/api/webhooks/{}/{t}", g.digits(18)),
        )
        .secret(t),
    );
    c.push(miss(k, "https://discord.com/api/webhooks/123/abc"));
    let k = "Telegram bot token";
    c.push(hit(k, format!("{}:AA{}", g.digits(10), g.b64u(33))).key("TELEGRAM_BOT_TOKEN"));
    c.push(miss(k, format!("-100{}", g.digits(10))).key("TELEGRAM_CHAT_ID"));
    let k = "Telegram bot token in API URL";
    let t = format!("{}:AA{}", g.digits(10), g.b64u(33));
    c.push(hit(k, format!("https://api.telegram.org/bot{t}/sendMessage")).secret(t));
    c.push(miss(k, "https://api.telegram.org/bot<token>/sendMessage"));

    // --- Cloud and hosting --------------------------------------------------------------
    let k = "DigitalOcean personal access token";
    c.push(hit(k, format!("dop_v1_{}", g.hex(64))));
    c.push(miss(k, format!("dop_v1_{}", g.hex(63))));
    let k = "DigitalOcean OAuth token";
    c.push(hit(k, format!("doo_v1_{}", g.hex(64))));
    c.push(miss(k, format!("doo_v2_{}", g.hex(64))));
    let k = "Vercel personal access token";
    c.push(hit(k, format!("vcp_{}", g.an(24))));
    c.push(miss(k, format!("vcp_{}", g.an(10))));
    let k = "Vercel API key";
    c.push(hit(k, format!("vck_{}", g.an(24))));
    c.push(miss(k, format!("vck_{}", g.an(10))));
    let k = "Vercel integration or app token";
    c.push(hit(k, format!("vci_{}", g.an(24))));
    c.push(miss(k, format!("vcx_{}", g.an(24))));
    let k = "Vercel access token (unprefixed)";
    c.push(hit(k, g.an(24)).key("VERCEL_TOKEN"));
    c.push(miss(k, format!("prj_{}", g.an(28))).key("VERCEL_PROJECT_ID"));
    let k = "Cloudflare global API key";
    c.push(hit(k, format!("cfk_{}", g.an(48))));
    c.push(miss(k, format!("cfk_{}", g.an(20))));
    let k = "Cloudflare user API token";
    c.push(hit(k, format!("cfut_{}", g.an(48))));
    c.push(miss(k, format!("cfut_{}", g.an(39))));
    let k = "Cloudflare account API token";
    c.push(hit(k, format!("cfat_{}", g.an(48))));
    c.push(miss(k, format!("xcfat_{}", g.an(48))));
    let k = "Cloudflare API token (unprefixed)";
    c.push(hit(k, g.b64u(40)).key("CLOUDFLARE_API_TOKEN"));
    c.push(miss(k, g.hex(32)).key("CLOUDFLARE_ACCOUNT_ID"));
    let k = "Cloudflare global API key (unprefixed)";
    c.push(hit(k, g.hex(37)).key("CF_API_KEY"));
    c.push(miss(k, g.hex(37)).key("CF_ZONE_ID"));
    let k = "Supabase personal access token";
    c.push(hit(k, format!("sbp_{}", g.hex(40))));
    c.push(miss(k, format!("sbp_{}", g.hex(39))));
    let k = "Supabase secret key";
    c.push(hit(k, format!("sb_secret_{}", g.b64u(32))));
    // The publishable key is meant to be public.
    c.push(miss(k, format!("sb_publishable_{}", g.b64u(32))));
    let k = "Databricks access token";
    c.push(hit(k, format!("dapi{}", g.hex(32))));
    c.push(hit(k, format!("dapi{}-2", g.hex(32))));
    c.push(miss(k, format!("dapi{}", g.hex(31))));
    let k = "PlanetScale token";
    c.push(hit(k, format!("pscale_tkn_{}", g.b64u(43))));
    c.push(miss(k, format!("pscale_tkn_{}", g.an(8))));
    let k = "Terraform Cloud API token";
    c.push(hit(k, format!("{}.atlasv1.{}", g.an(14), g.b64u(67))));
    c.push(miss(k, format!("{}.atlasv1.{}", g.an(14), g.an(10))));
    let k = "Pulumi access token";
    c.push(hit(k, format!("pul-{}", g.hex(40))));
    c.push(miss(k, format!("pul-{}", g.hex(39))));
    let k = "Doppler personal token";
    c.push(hit(k, format!("dp.pt.{}", g.an(43))));
    c.push(miss(k, format!("dp.pt.{}", g.an(20))));
    let k = "Doppler service token";
    c.push(hit(k, format!("dp.st.prd.{}", g.an(43))));
    c.push(miss(k, format!("dp.xx.{}", g.an(43))));
    let k = "1Password service account token";
    c.push(hit(k, format!("ops_eyJ{}", g.b64(200))));
    c.push(miss(k, format!("ops_eyJ{}", g.an(20))));

    // --- Developer tools and SaaS -------------------------------------------------------
    let k = "Linear API key";
    c.push(hit(k, format!("lin_api_{}", g.an(40))));
    c.push(miss(k, format!("lin_api_{}", g.an(39))));
    let k = "Atlassian API token";
    c.push(hit(k, format!("ATATT3xFfGF0{}={}", g.b64u(170), g.up(8))));
    c.push(miss(k, format!("ATATT3{}", g.an(20))));
    let k = "Sentry organization auth token";
    c.push(hit(k, format!("sntrys_eyJ{}_{}", g.b64(80), g.b64(43))));
    c.push(miss(k, format!("sntrys_{}", g.an(20))));
    let k = "Sentry user auth token";
    c.push(hit(k, format!("sntryu_{}", g.hex(64))));
    c.push(miss(k, format!("sntryu_{}", g.hex(63))));
    let k = "PostHog personal API key";
    c.push(hit(k, format!("phx_{}", g.an(47))));
    c.push(miss(k, format!("phx_{}", g.an(20))));
    let k = "PostHog project API key";
    c.push(hit(k, format!("phc_{}", g.an(43))).conf(Low));
    c.push(
        hit(k, format!("phc_{}", g.an(43)))
            .key("POSTHOG_API_KEY")
            .conf(Low),
    );
    c.push(miss(k, format!("phc_{}", g.an(42))));
    let k = "Figma personal access token";
    c.push(hit(k, format!("figd_{}", g.b64u(40))));
    c.push(miss(k, format!("figd_{}", g.an(20))));
    let k = "Postman API key";
    c.push(hit(k, format!("PMAK-{}-{}", g.hex(24), g.hex(34))));
    c.push(miss(k, format!("PMAK-{}-{}", g.hex(23), g.hex(34))));
    let k = "Grafana service account token";
    c.push(hit(k, format!("glsa_{}_{}", g.an(32), g.hex(8))));
    c.push(miss(k, format!("glsa_{}", g.an(32))));
    let k = "Grafana Cloud access policy token";
    c.push(hit(k, format!("glc_{}==", g.b64(100))));
    c.push(miss(k, format!("glc_{}", g.an(10))));
    let k = "Dynatrace API token";
    c.push(hit(k, format!("dt0c01.{}.{}", g.up(24), g.up(64))));
    c.push(miss(k, format!("dt0c01.{}.{}", g.up(24), g.up(10))));
    let k = "Airtable personal access token";
    c.push(hit(k, format!("pat{}.{}", g.an(14), g.hex(64))));
    c.push(miss(k, format!("pat{}.{}", g.an(14), g.hex(10))));
    let k = "Mapbox secret access token";
    c.push(hit(k, format!("sk.eyJ{}.{}", g.b64u(60), g.b64u(22))));
    // Public (`pk.`) tokens ship in web pages.
    c.push(miss(k, format!("pk.eyJ{}.{}", g.b64u(60), g.b64u(22))));
    for (prefix, k) in [
        ("shpat_", "Shopify access token"),
        ("shpss_", "Shopify shared secret"),
        ("shpca_", "Shopify custom app access token"),
        ("shppa_", "Shopify private app access token"),
    ] {
        c.push(hit(k, format!("{prefix}{}", g.hex(32))));
        c.push(miss(k, format!("{prefix}{}", g.hex(31))));
    }

    // --- Formats of no one provider -----------------------------------------------------
    let k = "JSON Web Token";
    let t = format!("eyJ{}.eyJ{}.{}", g.b64u(30), g.b64u(60), g.b64u(43));
    c.push(hit(k, t.clone()).conf(Low));
    c.push(hit(k, t.clone()).key("SUPABASE_ACCESS_TOKEN").conf(Medium));
    c.push(
        hit(k, format!("Bearer {t}"))
            .key("--header")
            .secret(t.clone())
            .conf(Medium),
    );
    c.push(miss(k, format!("eyJ{}.eyJ{}", g.b64u(30), g.b64u(60))));
    c.push(miss(k, "eyJhbGciOiJub25lIn0.eyJzdWIiOiIxIn0."));
    let k = "private key";
    let pem = format!(
        "-----BEGIN RSA PRIVATE KEY-----\n{}\n{}\n-----END RSA PRIVATE KEY-----",
        g.b64(64),
        g.b64(40)
    );
    c.push(hit(k, pem.clone()));
    c.push(hit(k, format!("{pem}\n")).secret(pem));
    c.push(hit(
        k,
        format!(
            "-----BEGIN OPENSSH PRIVATE KEY-----\\n{}\\n{}\\n-----END OPENSSH PRIVATE KEY-----",
            g.b64(70),
            g.b64(70)
        ),
    ));
    c.push(miss(
        k,
        "-----BEGIN PRIVATE KEY-----\n...\n-----END PRIVATE KEY-----",
    ));
    c.push(miss(
        k,
        format!(
            "-----BEGIN PUBLIC KEY-----\n{}\n-----END PUBLIC KEY-----",
            g.b64(64)
        ),
    ));
    let k = "age secret key";
    c.push(hit(
        k,
        format!("AGE-SECRET-KEY-1{}", g.from(BECH32_UPPER, 58)),
    ));
    c.push(miss(
        k,
        format!("AGE-SECRET-KEY-1{}", g.from(BECH32_UPPER, 57)),
    ));
    let k = "password in connection string";
    let t = g.an(16);
    c.push(
        hit(
            k,
            format!("Server=tcp:db.internal,1433;Database=app;User Id=sa;Password={t};"),
        )
        .secret(t.clone()),
    );
    c.push(
        hit(
            k,
            format!("jdbc:sqlserver://db.internal:1433;user=sa;password={t}"),
        )
        .secret(t.clone()),
    );
    c.push(miss(k, "Server=db;User Id=sa;Password=${DB_PASSWORD};"));
    c.push(miss(k, "Server=db;User Id=sa;Password=<password>;"));
    c.push(not_kind(k, format!("Password={t}")));

    // --- Credentials in URLs ------------------------------------------------------------
    let k = url_credentials::PASSWORD_IN_URL;
    let t = g.an(20);
    c.push(hit(k, format!("https://deploy:{t}@git.internal.test/repo.git")).secret(t.clone()));
    c.push(hit(k, format!("--remote=https://deploy:{t}@git.internal.test")).secret(t));
    for placeholder in [
        "password",
        "pass",
        "changeme",
        "xxx",
        "<password>",
        "****",
        "your-password",
        "${GIT_PASSWORD}",
        "$GIT_PASSWORD",
    ] {
        c.push(miss(
            k,
            format!("https://deploy:{placeholder}@git.internal.test"),
        ));
    }
    c.push(miss(k, "https://deploy@git.internal.test/repo.git"));
    let k = "PostgreSQL password";
    let t = g.an(16);
    c.push(hit(k, format!("postgresql://app:{t}@db.internal:5432/app")).secret(t));
    c.push(miss(k, "postgres://user:password@localhost/db"));
    // The default superuser with its default password: still reported, but low.
    c.push(
        hit(k, "postgres://postgres:postgres@localhost:5432/db")
            .secret("postgres")
            .conf(Low),
    );
    let k = "MySQL password";
    let t = g.an(16);
    c.push(hit(k, format!("mysql://root:{t}@127.0.0.1:3306/app")).secret(t));
    c.push(miss(k, "mysql://root@localhost/app"));
    let k = "MongoDB password";
    let t = g.an(16);
    c.push(
        hit(
            k,
            format!("mongodb+srv://admin:{t}@cluster0.abcde.mongodb.net/?retryWrites=true"),
        )
        .secret(t),
    );
    c.push(miss(
        k,
        "mongodb+srv://admin:<password>@cluster0.abcde.mongodb.net/",
    ));
    let k = "Redis password";
    let t = g.an(16);
    c.push(hit(k, format!("redis://:{t}@cache:6379/0")).secret(t.clone()));
    c.push(hit(k, format!("rediss://default:{t}@cache.test:6380")).secret(t));
    c.push(miss(k, "redis://localhost:6379"));
    c.push(miss(k, "redis://:${REDIS_PASSWORD}@cache:6379"));
    let k = "AMQP password";
    let t = g.an(16);
    c.push(hit(k, format!("amqps://app:{t}@mq.internal/vhost")).secret(t));
    c.push(miss(k, "amqp://user:xxx@localhost:5672"));
    let k = "SQL Server password";
    let t = g.an(16);
    c.push(hit(k, format!("sqlserver://sa:{t}@db:1433")).secret(t));
    c.push(miss(k, "sqlserver://sa:${SA_PASSWORD}@db:1433"));
    let k = url_credentials::CREDENTIAL_IN_QUERY;
    let t = g.an(24);
    c.push(
        hit(k, format!("https://mcp.internal.test/sse?api_key={t}"))
            .secret(t.clone())
            .conf(Medium),
    );
    c.push(
        hit(
            k,
            format!("https://mcp.internal.test/mcp?v=2&access_token={t}#top"),
        )
        .secret(t)
        .conf(Medium),
    );
    c.push(miss(k, "https://mcp.internal.test/sse?key=short"));
    c.push(miss(k, "https://mcp.internal.test/sse?token=${TOKEN}"));
    c.push(miss(k, "https://mcp.internal.test/sse?page=123456789"));
    c.push(miss(k, "https://mcp.internal.test/sse?apikey=your_api_key"));

    // --- Generic: a random value under a secret-sounding name ---------------------------
    let k = generic::KIND;
    let t = g.an(32);
    c.push(hit(k, t.clone()).key("API_KEY").conf(Medium));
    c.push(hit(k, t.clone()).key("x-api-key").conf(Medium));
    c.push(
        hit(k, format!("Bearer {t}"))
            .key("Authorization")
            .secret(t.clone())
            .conf(Medium),
    );
    c.push(
        hit(k, format!("--api-key={t}"))
            .secret(t.clone())
            .conf(Medium),
    );
    c.push(hit(k, t.clone()).key("--token").conf(Medium));
    c.push(
        hit(k, format!("X-API-Key: {t}"))
            .key("--header")
            .secret(t.clone())
            .conf(Medium),
    );
    c.push(
        hit(k, format!("MY_SERVICE_TOKEN={t}"))
            .key("-e")
            .secret(t.clone())
            .conf(Medium),
    );
    c.push(hit(k, g.hex(32)).key("TWILIO_AUTH_TOKEN").conf(Medium));
    // A UUID is a secret only under a name that says so, and then only low.
    let uuid = format!(
        "{}-{}-{}-{}-{}",
        g.hex(8),
        g.hex(4),
        g.hex(4),
        g.hex(4),
        g.hex(12)
    );
    c.push(hit(k, uuid.clone()).key("SECRET_KEY").conf(Low));
    c.push(miss(k, uuid.clone()).key("AUTH"));
    c.push(miss(k, uuid).key("CLIENT_ID"));
    for placeholder in [
        "your_api_key_here",
        "xxxxxxxxxxxxxxxxxxxxxxxx",
        "<token>",
        "changeme",
        "sk-...",
        "aaaaaaaaaaaaaaaaaaaa",
        "REPLACE_ME",
        "TODO",
        "${API_KEY}",
        "Bearer ${TOKEN}",
        "{env:API_KEY}",
        "/home/me/.config/service/token.json",
        "~/.secrets/api-token",
        "C:\\Users\\me\\token.txt",
        "https://api.internal.test/v1/endpoint",
        "passwordpassword12",
        "abc123",
        "correct horse battery staple",
        "MyCustomAuthenticationHandler",
        "client_credentials",
    ] {
        c.push(miss(k, placeholder).key("API_KEY"));
    }
    c.push(miss(k, g.an(32)).key("DESCRIPTION"));
    c.push(miss(k, g.an(32)).key("TOKEN_FILE"));
    c.push(miss(k, g.an(32)).key("max_tokens"));
    c.push(miss(k, "--api-key=your_api_key_here"));
    c.push(miss(k, g.an(32)));

    c
}
