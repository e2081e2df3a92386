//! `action = "ask"` for clients of the 2026-07-28 (stateless) era, through Multi Round-Trip
//! Requests (SEP-2322): such a client has no session and may not take requests from the
//! server, so the gateway answers a `tools/call` it must ask about with a result of
//! `resultType: "input_required"` carrying its question (an `elicitation/create` under
//! [`APPROVAL_KEY`]) and a sealed `requestState`. The client asks the user and sends the same
//! `tools/call` again with `inputResponses` and the `requestState` echoed; the gateway opens
//! the state, reads the answer and forwards the call without its own key and state.
//!
//! The state is the gateway's only memory of the question, so it is sealed: an HMAC-SHA256,
//! under a key drawn at random when the gateway starts, over what the approval is for (the
//! server, the tool, the SHA-256 of the canonical arguments), an expiry (`ask_timeout_secs`)
//! and a random nonce. A state that was altered, made by anyone else (or by an earlier run of
//! the gateway), expired, or for another call is refused. A state is good once: its nonce is
//! kept until it expires, so a replayed approval does not run the tool twice. The set of used
//! nonces is bounded ([`MAX_USED_NONCES`]); when it is full of unexpired nonces, further
//! answers are refused rather than forgotten.
//!
//! When the server itself asks for input on an approved call (its result is `input_required`),
//! the gateway seals the server's own `requestState` inside a new state of stage
//! [`Stage::Resume`], so the user is not asked again on the server's rounds, and the server
//! gets its state and the client's `inputResponses` back unchanged.
//!
//! Trade-offs: the sealed state is signed, not encrypted (the server's state inside it is
//! readable by the client, as it would be without the gateway). The key lives in memory only,
//! so a restart of the gateway turns every outstanding question into a refusal: the client
//! calls again and the user is asked again. A retry of the very same state (say, after a lost
//! HTTP response) is refused as a replay: failing closed costs one more question.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sha2::Sha256;

use crate::canonical::{sha256_hex, to_canonical};
use crate::judge::lock;

/// The key of the gateway's question in `inputRequests` and of the answer in
/// `inputResponses`: in the gateway's own (reverse-DNS) namespace, apart from a server's keys.
pub const APPROVAL_KEY: &str = "io.portcullis/approval";

/// The first characters of every state the gateway seals (and the version of its layout).
pub const STATE_PREFIX: &str = "portcullis1.";

/// At most this many used nonces are remembered (until their states expire).
pub const MAX_USED_NONCES: usize = 16_384;

/// `_meta` keys of a 2026-07-28-era request.
const PROTOCOL_VERSION_META: &str = "io.modelcontextprotocol/protocolVersion";
const CLIENT_CAPABILITIES_META: &str = "io.modelcontextprotocol/clientCapabilities";

/// The revisions that open with `initialize` (their clients are asked with a request instead).
const INITIALIZE_ERA: [&str; 4] = ["2024-11-05", "2025-03-26", "2025-06-18", "2025-11-25"];

type HmacSha256 = Hmac<Sha256>;

/// What a sealed state stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Stage {
    /// The question is out: the retry must carry the user's answer.
    Ask,
    /// The user approved the call and the server asked for more input: the retry goes on
    /// without asking, with the server's own state.
    Resume,
}

/// The call a state is bound to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Binding {
    pub server: String,
    pub tool: String,
    /// SHA-256 (hex) of the canonical JSON of the call's arguments (`null` when absent).
    pub arguments: String,
}

impl Binding {
    pub fn new(server: &str, tool: &str, arguments: &Value) -> Binding {
        Binding {
            server: server.to_string(),
            tool: tool.to_string(),
            arguments: sha256_hex(to_canonical(arguments)),
        }
    }
}

/// The sealed content. Short names: it travels in every round.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Claims {
    /// Stage.
    k: Stage,
    /// Server name.
    s: String,
    /// Tool name.
    t: String,
    /// Arguments hash.
    a: String,
    /// Expiry, milliseconds since the Unix epoch.
    e: u64,
    /// Nonce.
    n: String,
    /// The server's own `requestState` (stage resume), as it gave it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    u: Option<String>,
}

/// A state that opened: its stage and, for [`Stage::Resume`], the server's own state.
#[derive(Debug, PartialEq, Eq)]
pub struct Opened {
    pub stage: Stage,
    pub server_state: Option<String>,
}

/// Seals and opens the gateway's `requestState`; one per gateway process.
pub struct Sealer {
    /// `None` when the system gave no randomness: then nothing is sealed and every ask of
    /// this era is refused (a guessable key would let a client forge approvals).
    key: Option<[u8; 32]>,
    /// Nonces of states already opened, with their expiry (ms since the epoch).
    used: Mutex<HashMap<String, u64>>,
}

impl Default for Sealer {
    fn default() -> Self {
        Self::new()
    }
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

fn random_hex<const N: usize>() -> Option<String> {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes).ok()?;
    Some(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

impl Sealer {
    /// A sealer with a fresh random key.
    pub fn new() -> Sealer {
        let mut key = [0u8; 32];
        Sealer {
            key: getrandom::fill(&mut key).ok().map(|()| key),
            used: Mutex::new(HashMap::new()),
        }
    }

    fn mac(&self, key: &[u8; 32], payload: &str) -> HmacSha256 {
        // HMAC takes a key of any length: `new_from_slice` cannot fail here.
        let mut mac = <HmacSha256 as Mac>::new_from_slice(key).expect("HMAC accepts any key");
        mac.update(payload.as_bytes());
        mac
    }

    /// A state for `binding` at `stage`, good for `ttl` from now.
    pub fn seal(
        &self,
        stage: Stage,
        binding: &Binding,
        server_state: Option<String>,
        ttl: Duration,
    ) -> Result<String, String> {
        self.seal_at(stage, binding, server_state, ttl, now_ms())
    }

    fn seal_at(
        &self,
        stage: Stage,
        binding: &Binding,
        server_state: Option<String>,
        ttl: Duration,
        now: u64,
    ) -> Result<String, String> {
        let no_randomness =
            || "the system gave the gateway no randomness to seal its requestState".to_string();
        let key = self.key.as_ref().ok_or_else(no_randomness)?;
        let claims = Claims {
            k: stage,
            s: binding.server.clone(),
            t: binding.tool.clone(),
            a: binding.arguments.clone(),
            e: now.saturating_add(ttl.as_millis() as u64),
            n: random_hex::<16>().ok_or_else(no_randomness)?,
            u: server_state,
        };
        let json = serde_json::to_string(&claims).map_err(|e| e.to_string())?;
        let payload = URL_SAFE_NO_PAD.encode(json);
        let tag = URL_SAFE_NO_PAD.encode(self.mac(key, &payload).finalize().into_bytes());
        Ok(format!("{STATE_PREFIX}{payload}.{tag}"))
    }

    /// Verifies `state` for the call `binding` and uses it up. The error is the reason for
    /// the refusal, for the client and the audit log.
    pub fn open(&self, state: &str, binding: &Binding) -> Result<Opened, String> {
        self.open_at(state, binding, now_ms())
    }

    fn open_at(&self, state: &str, binding: &Binding, now: u64) -> Result<Opened, String> {
        const FORGED: &str = "its requestState is not one this gateway issued, or it was altered";
        let key = self.key.as_ref().ok_or(FORGED)?;
        let (payload, tag) = state
            .strip_prefix(STATE_PREFIX)
            .and_then(|rest| rest.split_once('.'))
            .ok_or(FORGED)?;
        let tag = URL_SAFE_NO_PAD.decode(tag).map_err(|_| FORGED)?;
        // Constant time: a mismatch says nothing about how much of the tag was right.
        self.mac(key, payload)
            .verify_slice(&tag)
            .map_err(|_| FORGED)?;
        let claims: Claims = URL_SAFE_NO_PAD
            .decode(payload)
            .ok()
            .and_then(|bytes| serde_json::from_slice(&bytes).ok())
            .ok_or(FORGED)?;
        if claims.s != binding.server || claims.t != binding.tool || claims.a != binding.arguments {
            return Err(
                "its requestState was issued for another call (the tool or its arguments differ \
                 from what the user was asked about)"
                    .into(),
            );
        }
        if now >= claims.e {
            return Err(
                "its requestState expired (the policy's ask_timeout_secs passed): call again to \
                 be asked again"
                    .into(),
            );
        }
        let mut used = lock(&self.used);
        if used.contains_key(&claims.n) {
            return Err(
                "its requestState was already used: an answer counts for one call only (replay)"
                    .into(),
            );
        }
        if used.len() >= MAX_USED_NONCES {
            used.retain(|_, expiry| *expiry > now);
            if used.len() >= MAX_USED_NONCES {
                return Err(format!(
                    "{MAX_USED_NONCES} answers are already remembered against replay and none \
                     has expired yet; retry later"
                ));
            }
        }
        used.insert(claims.n, claims.e);
        Ok(Opened {
            stage: claims.k,
            server_state: claims.u,
        })
    }
}

/// Whether a request's params say it is of the 2026-07-28 era or later (its `_meta` names a
/// protocol version that has no `initialize`).
pub fn is_modern(params: Option<&Value>) -> bool {
    params
        .and_then(|p| p.get("_meta"))
        .and_then(|m| m.get(PROTOCOL_VERSION_META))
        .and_then(Value::as_str)
        .is_some_and(|v| !INITIALIZE_ERA.contains(&v))
}

/// The protocol version a 2026-07-28-era request names in its `_meta` (`None` for a request
/// of the `initialize` era or one without it).
pub fn modern_version(params: Option<&Value>) -> Option<&str> {
    let v = params?.get("_meta")?.get(PROTOCOL_VERSION_META)?.as_str()?;
    (!INITIALIZE_ERA.contains(&v)).then_some(v)
}

/// Whether `version` is one of the 2026-07-28 era or later (any but the `initialize` era's).
pub fn is_modern_version(version: &str) -> bool {
    !INITIALIZE_ERA.contains(&version)
}

/// The `_meta` the gateway's own requests carry in the 2026-07-28 era (the server has no
/// `initialize` to learn the version from): the version, no capabilities, the gateway's name.
pub fn request_meta(version: &str) -> Value {
    json!({
        PROTOCOL_VERSION_META: version,
        CLIENT_CAPABILITIES_META: {},
        "io.modelcontextprotocol/clientInfo":
            {"name": "portcullis-gateway", "version": env!("CARGO_PKG_VERSION")},
    })
}

/// The client capabilities a 2026-07-28-era request declares in its `_meta`.
pub fn client_capabilities(params: Option<&Value>) -> Option<&Value> {
    params?.get("_meta")?.get(CLIENT_CAPABILITIES_META)
}

/// The `input_required` response carrying the gateway's question.
pub fn input_required(id: &Value, question: Value, state: String) -> Value {
    json!({
        "jsonrpc": "2.0",
        "id": id,
        "result": {
            "resultType": "input_required",
            "inputRequests": {
                APPROVAL_KEY: {"method": "elicitation/create", "params": question},
            },
            "requestState": state,
        },
    })
}

/// The client's answer to the gateway's question, as a JSON-RPC response would carry it
/// (`{"result": ElicitResult}`), or `None` when the retry has none.
pub fn answer(params: Option<&Value>) -> Option<Value> {
    let answer = params?.get("inputResponses")?.get(APPROVAL_KEY)?;
    Some(json!({"result": answer}))
}

/// The retry as the server must see it: `requestState` replaced by the server's own (dropped
/// when it had none) and, when `strip_answer` (the answer to the gateway's question), the
/// gateway's answer taken out of `inputResponses` (the field dropped when nothing is left).
/// On the server's own rounds its `inputResponses` go on untouched.
pub fn for_server(msg: &Value, server_state: Option<String>, strip_answer: bool) -> Value {
    let mut msg = msg.clone();
    if let Some(params) = msg.get_mut("params").and_then(Value::as_object_mut) {
        if strip_answer
            && let Some(responses) = params
                .get_mut("inputResponses")
                .and_then(Value::as_object_mut)
        {
            responses.remove(APPROVAL_KEY);
            if responses.is_empty() {
                params.remove("inputResponses");
            }
        }
        match server_state {
            Some(s) => {
                params.insert("requestState".into(), Value::String(s));
            }
            None => {
                params.remove("requestState");
            }
        }
    }
    msg
}

/// Whether a response is an `input_required` result.
pub fn is_input_required(msg: &Value) -> bool {
    msg.pointer("/result/resultType").and_then(Value::as_str) == Some("input_required")
}

/// The server's own `requestState` in its `input_required` response, which the gateway's
/// seal must carry.
pub fn server_state(msg: &Value) -> Option<String> {
    msg.pointer("/result/requestState")
        .and_then(Value::as_str)
        .map(str::to_string)
}

/// Sets `result.requestState` of an `input_required` response.
pub fn set_state(msg: &mut Value, state: String) {
    if let Some(result) = msg.get_mut("result").and_then(Value::as_object_mut) {
        result.insert("requestState".into(), Value::String(state));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn binding() -> Binding {
        Binding::new("srv", "rm", &json!({"path": "/x", "n": 1}))
    }

    const TTL: Duration = Duration::from_secs(60);

    #[test]
    fn a_state_opens_once_for_its_own_call() {
        let sealer = Sealer::new();
        let state = sealer.seal(Stage::Ask, &binding(), None, TTL).unwrap();
        assert!(state.starts_with(STATE_PREFIX));
        // Key order does not make another call.
        let same = Binding::new("srv", "rm", &json!({"n": 1, "path": "/x"}));
        assert_eq!(
            sealer.open(&state, &same),
            Ok(Opened {
                stage: Stage::Ask,
                server_state: None
            })
        );
        let again = sealer.open(&state, &binding()).unwrap_err();
        assert!(again.contains("replay"), "{again}");
    }

    #[test]
    fn the_servers_state_travels_sealed() {
        let sealer = Sealer::new();
        let state = sealer
            .seal(Stage::Resume, &binding(), Some("srv-state".into()), TTL)
            .unwrap();
        let opened = sealer.open(&state, &binding()).unwrap();
        assert_eq!(opened.stage, Stage::Resume);
        assert_eq!(opened.server_state.as_deref(), Some("srv-state"));
    }

    #[test]
    fn altered_foreign_expired_and_misbound_states_are_refused() {
        let sealer = Sealer::new();
        let state = sealer.seal(Stage::Ask, &binding(), None, TTL).unwrap();
        let refused = |s: &str, b: &Binding| sealer.open(s, b).unwrap_err();

        // Another tool, other arguments, another server.
        for other in [
            Binding::new("srv", "ls", &json!({"path": "/x", "n": 1})),
            Binding::new("srv", "rm", &json!({"path": "/y", "n": 1})),
            Binding::new("other", "rm", &json!({"path": "/x", "n": 1})),
        ] {
            assert!(refused(&state, &other).contains("another call"));
        }
        // A forged payload that claims the resume stage, under the old tag.
        let (payload, tag) = state[STATE_PREFIX.len()..].split_once('.').unwrap();
        let mut claims: Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap();
        claims["k"] = json!("resume");
        let forged = format!(
            "{STATE_PREFIX}{}.{tag}",
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        assert!(refused(&forged, &binding()).contains("not one this gateway issued"));
        // A flipped character of the tag, junk, and another gateway's key.
        let mut flipped = state.clone().into_bytes();
        let last = flipped.len() - 1;
        flipped[last] = if flipped[last] == b'A' { b'B' } else { b'A' };
        let flipped = String::from_utf8(flipped).unwrap();
        for junk in [
            flipped.as_str(),
            "",
            "portcullis1.",
            "portcullis1.a.b",
            "x.y",
        ] {
            assert!(refused(junk, &binding()).contains("not one this gateway issued"));
        }
        let theirs = Sealer::new()
            .seal(Stage::Ask, &binding(), None, TTL)
            .unwrap();
        assert!(refused(&theirs, &binding()).contains("not one this gateway issued"));
        // Expired: sealed long ago.
        let old = sealer
            .seal_at(Stage::Ask, &binding(), None, TTL, now_ms() - 61_000)
            .unwrap();
        assert!(refused(&old, &binding()).contains("expired"));
        // None of the refusals used the good state up.
        assert!(sealer.open(&state, &binding()).is_ok());
    }

    #[test]
    fn used_nonces_are_bounded_and_forgotten_once_expired() {
        let sealer = Sealer::new();
        let now = now_ms();
        {
            let mut used = lock(&sealer.used);
            for i in 0..MAX_USED_NONCES {
                // Half expired, half not.
                let expiry = if i % 2 == 0 { now - 1 } else { now + 60_000 };
                used.insert(format!("n{i}"), expiry);
            }
        }
        let state = sealer.seal(Stage::Ask, &binding(), None, TTL).unwrap();
        assert!(sealer.open(&state, &binding()).is_ok());
        assert_eq!(lock(&sealer.used).len(), MAX_USED_NONCES / 2 + 1);
        // Full of live nonces: refused, not forgotten.
        {
            let mut used = lock(&sealer.used);
            for i in 0..MAX_USED_NONCES {
                used.insert(format!("m{i}"), now + 60_000);
            }
        }
        let state = sealer.seal(Stage::Ask, &binding(), None, TTL).unwrap();
        assert!(
            sealer
                .open(&state, &binding())
                .unwrap_err()
                .contains("retry later")
        );
    }

    #[test]
    fn the_era_is_read_from_meta() {
        let p = |v: &str| json!({"_meta": {PROTOCOL_VERSION_META: v}});
        assert!(is_modern(Some(&p("2026-07-28"))));
        assert!(!is_modern(Some(&p("2025-11-25"))));
        assert!(!is_modern(Some(&json!({"name": "x"}))));
        assert!(!is_modern(None));
        let caps = json!({"_meta": {CLIENT_CAPABILITIES_META: {"elicitation": {}}}});
        assert_eq!(
            client_capabilities(Some(&caps)),
            Some(&json!({"elicitation": {}}))
        );
    }

    #[test]
    fn the_retry_goes_on_without_the_gateways_part() {
        let msg = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {
            "name": "rm", "requestState": "ours",
            "inputResponses": {APPROVAL_KEY: {"action": "accept"}, "theirs": {"x": 1}}}});
        let out = for_server(&msg, Some("server-state".into()), true);
        assert_eq!(out["params"]["requestState"], "server-state");
        assert_eq!(out["params"]["inputResponses"], json!({"theirs": {"x": 1}}));
        let out = for_server(&msg, None, true);
        assert!(out["params"].get("requestState").is_none());
        // The server's own round: its responses go on as they came.
        let out = for_server(&msg, Some("s2".into()), false);
        assert_eq!(
            out["params"]["inputResponses"],
            msg["params"]["inputResponses"]
        );
        let only_ours = json!({"id": 1, "params": {"name": "rm", "requestState": "s",
            "inputResponses": {APPROVAL_KEY: {}}}});
        let out = for_server(&only_ours, None, true);
        assert_eq!(out["params"], json!({"name": "rm"}));
        assert_eq!(answer(only_ours.get("params")), Some(json!({"result": {}})));
        assert_eq!(answer(Some(&json!({"inputResponses": {}}))), None);
    }

    // ---- through a judge session ----

    use crate::audit::{AuditFormat, read_records};
    use crate::judge::tests::{engine, futures_block as block};
    use crate::judge::{Engine, Forward, REFUSED, Session, to_line};
    use std::path::Path;
    use std::sync::Arc;

    const ASK: &str = "version = 1\n[defaults]\naction = \"allow\"\nask_timeout_secs = 30\n\
                       [[server]]\nname = \"*\"\n[[server.tool]]\nname = \"rm\"\naction = \"ask\"\n\
                       rate = { calls = 1, per_secs = 3600 }\n";

    fn meta(elicitation: bool) -> Value {
        let caps = if elicitation {
            json!({"elicitation": {"form": {}}})
        } else {
            json!({})
        };
        json!({PROTOCOL_VERSION_META: "2026-07-28", CLIENT_CAPABILITIES_META: caps,
               "io.modelcontextprotocol/clientInfo": {"name": "t", "version": "1"}})
    }

    /// A 2026-07-28-era `tools/call` of `rm`, with what a retry adds.
    fn call(id: i64, path: &str, state: Option<&Value>, responses: Option<Value>) -> Value {
        let mut params = json!({"_meta": meta(true), "name": "rm", "arguments": {"path": path}});
        if let Some(state) = state {
            params["requestState"] = state.clone();
        }
        if let Some(responses) = responses {
            params["inputResponses"] = responses;
        }
        json!({"jsonrpc": "2.0", "id": id, "method": "tools/call", "params": params})
    }

    fn approve(yes: bool) -> Value {
        json!({APPROVAL_KEY: {"action": "accept", "content": {"approve": yes}}})
    }

    /// The gateway's own answer to `msg` (the question, or a refusal).
    fn answered(session: &Session, msg: &Value) -> Value {
        let out = block(session.client_message(&to_line(msg)));
        assert!(out.to_server.is_none(), "{msg} went on");
        out.to_client.expect("an answer from the gateway")
    }

    /// What goes on to the server for `msg`.
    fn forwarded(session: &Session, msg: &Value) -> Value {
        let out = block(session.client_message(&to_line(msg)));
        match out.to_server {
            Some(Forward::Changed(v)) => v,
            other => panic!(
                "{msg} did not go on changed: {other:?} / {:?}",
                out.to_client
            ),
        }
    }

    fn message(refusal: &Value) -> &str {
        assert_eq!(refusal["error"]["code"], REFUSED, "{refusal}");
        refusal["error"]["message"].as_str().unwrap()
    }

    #[test]
    fn asked_through_input_required_and_forwarded_once_approved() {
        let dir = tempfile::TempDir::new().unwrap();
        let engine = engine(dir.path(), ASK);
        let session = engine.session();
        let first = answered(&session, &call(1, "/x", None, None));
        let result = &first["result"];
        assert_eq!(result["resultType"], "input_required", "{first}");
        let question = &result["inputRequests"][APPROVAL_KEY];
        assert_eq!(question["method"], "elicitation/create");
        let text = question["params"]["message"].as_str().unwrap();
        assert!(text.contains("`rm`") && text.contains("\"/x\""), "{text}");
        let state = &result["requestState"];
        assert_eq!(engine.in_flight(), 0, "the question holds nothing");

        // The retry goes on without the gateway's answer and state (and is not counted
        // again by the tool's rate of 1 an hour).
        let mut responses = approve(true);
        responses["other"] = json!({"x": 1});
        let sent = forwarded(&session, &call(2, "/x", Some(state), Some(responses)));
        assert_eq!(sent["id"], 2);
        assert!(sent["params"].get("requestState").is_none(), "{sent}");
        assert_eq!(sent["params"]["inputResponses"], json!({"other": {"x": 1}}));
        assert_eq!(sent["params"]["arguments"], json!({"path": "/x"}));

        // The same approval again: a replay.
        let again = answered(&session, &call(3, "/x", Some(state), Some(approve(true))));
        assert!(message(&again).contains("replay"), "{again}");

        session.server_message(&to_line(&json!({"jsonrpc": "2.0", "id": 2,
            "result": {"content": [{"type": "text", "text": "done"}]}})));
        drop(session);
        assert_eq!(engine.in_flight(), 0);
        let path = dir.path().join("audit.sqlite");
        drop(engine);
        let decisions: Vec<String> = read_records(&path, AuditFormat::Sqlite)
            .unwrap()
            .into_iter()
            .filter(|r| r.tool.as_deref() == Some("rm"))
            .map(|r| r.decision)
            .collect();
        assert_eq!(decisions, ["asked", "accepted", "refused", "completed"]);
    }

    #[test]
    fn refused_without_approval_or_with_a_bad_state() {
        let dir = tempfile::TempDir::new().unwrap();
        let engine = engine(
            dir.path(),
            &ASK.replace("rate = { calls = 1, per_secs = 3600 }\n", ""),
        );
        let session = engine.session();
        let ask = |id: i64| {
            answered(&session, &call(id, "/x", None, None))["result"]["requestState"].clone()
        };

        let state = ask(1);
        let no = answered(&session, &call(2, "/x", Some(&state), Some(approve(false))));
        assert!(
            message(&no).contains("did not approve") && message(&no).contains("action = \"ask\"")
        );
        let state = ask(3);
        let declined = json!({APPROVAL_KEY: {"action": "decline"}});
        let r = answered(&session, &call(4, "/x", Some(&state), Some(declined)));
        assert!(message(&r).contains("declined"));
        let state = ask(5);
        let r = answered(&session, &call(6, "/x", Some(&state), None));
        assert!(message(&r).contains("no answer"));
        // An approval for `/x` does not run `/etc`.
        let state = ask(7);
        let r = answered(
            &session,
            &call(8, "/etc", Some(&state), Some(approve(true))),
        );
        assert!(message(&r).contains("another call"));
        // Forged, or not even a string.
        for bad in [
            json!("portcullis1.e30.AAAA"),
            json!({"k": "resume"}),
            json!("server-state"),
        ] {
            let r = answered(&session, &call(9, "/x", Some(&bad), Some(approve(true))));
            assert!(message(&r).contains("requestState"), "{r}");
        }
        // Without form elicitation in `_meta`: refused with the reason.
        let mut bare = call(10, "/x", None, None);
        bare["params"]["_meta"] = meta(false);
        let r = answered(&session, &bare);
        assert!(message(&r).contains("elicitation") && message(&r).contains("_meta"));
        // Expired.
        let short = engine_with_timeout(dir.path());
        let s2 = short.session();
        let state = answered(&s2, &call(1, "/x", None, None))["result"]["requestState"].clone();
        std::thread::sleep(Duration::from_millis(120));
        let r = answered(&s2, &call(2, "/x", Some(&state), Some(approve(true))));
        assert!(message(&r).contains("expired"), "{r}");
    }

    fn engine_with_timeout(dir: &Path) -> Arc<Engine> {
        let sub = dir.join("short");
        std::fs::create_dir_all(&sub).unwrap();
        engine(
            &sub,
            &ASK.replace("ask_timeout_secs = 30", "ask_timeout_secs = 0.1"),
        )
    }

    #[test]
    fn the_servers_own_rounds_pass_through_without_asking_again() {
        let dir = tempfile::TempDir::new().unwrap();
        let engine = engine(dir.path(), ASK);
        let session = engine.session();
        let state =
            answered(&session, &call(1, "/x", None, None))["result"]["requestState"].clone();
        forwarded(&session, &call(2, "/x", Some(&state), Some(approve(true))));

        // The server asks for input in turn: its state goes out sealed in the gateway's.
        let its_question = json!({"confirm": {"method": "elicitation/create",
            "params": {"message": "Sure?", "requestedSchema": {"type": "object", "properties": {}}}}});
        let reply = session.server_message(&to_line(&json!({"jsonrpc": "2.0", "id": 2,
            "result": {"resultType": "input_required", "inputRequests": its_question,
                       "requestState": "server-round-1"}})));
        let Some(Forward::Changed(out)) = reply.to_client else {
            panic!("{reply:?}")
        };
        assert_eq!(out["result"]["inputRequests"], its_question);
        let sealed = out["result"]["requestState"].clone();
        assert!(sealed.as_str().unwrap().starts_with(STATE_PREFIX), "{out}");

        // The client's next round: the server gets its own state and responses back.
        let theirs = json!({"confirm": {"action": "accept", "content": {}}});
        let sent = forwarded(
            &session,
            &call(3, "/x", Some(&sealed), Some(theirs.clone())),
        );
        assert_eq!(sent["params"]["requestState"], "server-round-1");
        assert_eq!(sent["params"]["inputResponses"], theirs);
        // Used once only, and only for this call.
        let r = answered(
            &session,
            &call(4, "/x", Some(&sealed), Some(theirs.clone())),
        );
        assert!(message(&r).contains("replay"));

        // A second server round without a state of its own: the retry carries none.
        let reply = session.server_message(&to_line(&json!({"jsonrpc": "2.0", "id": 3,
            "result": {"resultType": "input_required", "inputRequests": its_question}})));
        let Some(Forward::Changed(out)) = reply.to_client else {
            panic!("{reply:?}")
        };
        let sealed = out["result"]["requestState"].clone();
        let sent = forwarded(&session, &call(5, "/x", Some(&sealed), Some(theirs)));
        assert!(sent["params"].get("requestState").is_none(), "{sent}");
        // The final result goes on as it came.
        let reply = session.server_message(&to_line(&json!({"jsonrpc": "2.0", "id": 5,
            "result": {"content": [{"type": "text", "text": "done"}]}})));
        assert!(matches!(reply.to_client, Some(Forward::Unchanged)));
    }

    #[test]
    fn allowed_tools_and_legacy_clients_are_not_touched() {
        let dir = tempfile::TempDir::new().unwrap();
        let engine = engine(dir.path(), ASK);
        let session = engine.session();
        // An allowed tool's own MRTR state passes both ways unchanged.
        let mut msg = call(
            1,
            "/x",
            Some(&json!("server-state")),
            Some(json!({"k": {}})),
        );
        msg["params"]["name"] = json!("ls");
        let out = block(session.client_message(&to_line(&msg)));
        assert!(matches!(out.to_server, Some(Forward::Unchanged)));
        let reply = session.server_message(&to_line(&json!({"jsonrpc": "2.0", "id": 1,
            "result": {"resultType": "input_required", "requestState": "s2"}})));
        assert!(matches!(reply.to_client, Some(Forward::Unchanged)));
        // A call without the 2026-07-28 `_meta` is asked the legacy way (here: no initialize
        // declared elicitation, so refused with the `initialize` wording).
        let mut legacy = call(2, "/x", None, None);
        legacy["params"].as_object_mut().unwrap().remove("_meta");
        let r = answered(&session, &legacy);
        assert!(message(&r).contains("in `initialize`"), "{r}");
    }
}
