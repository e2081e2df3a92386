//! What a live MCP server said about itself, written as one JSON document the tool-metadata
//! rules read like any saved dump.
//!
//! The list items (tools, prompts, resources, resource templates) are kept exactly as the
//! server sent them, as raw JSON: poisoning can hide in keys no schema knows, so nothing is
//! re-modelled or dropped. Only the `portcullis` block is ours. Output is pretty JSON with a
//! fixed key order, so two inspections of the same server give the same bytes.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

/// The version of the snapshot format, in `portcullis.snapshot`.
pub const SNAPSHOT_VERSION: u64 = 1;

/// How the server was reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransportKind {
    Stdio,
    StreamableHttp,
    Sse,
}

impl TransportKind {
    pub fn as_str(self) -> &'static str {
        match self {
            TransportKind::Stdio => "stdio",
            TransportKind::StreamableHttp => "streamable-http",
            TransportKind::Sse => "sse",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "stdio" => Some(TransportKind::Stdio),
            "streamable-http" => Some(TransportKind::StreamableHttp),
            "sse" => Some(TransportKind::Sse),
            _ => None,
        }
    }
}

/// The four lists a server can expose, in snapshot order: (snapshot key, list method).
pub const LISTS: [(&str, &str); 4] = [
    ("tools", "tools/list"),
    ("prompts", "prompts/list"),
    ("resources", "resources/list"),
    ("resourceTemplates", "resources/templates/list"),
];

/// One inspected server.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Snapshot {
    /// The command line or URL, secrets masked.
    pub source: String,
    pub transport: Option<TransportKind>,
    pub protocol_version: Option<String>,
    pub server_info: Option<Value>,
    pub capabilities: Option<Value>,
    pub instructions: Option<String>,
    /// Keyed by the snapshot key (`tools`, `prompts`, `resources`, `resourceTemplates`). A
    /// list the server does not offer is absent.
    pub lists: BTreeMap<String, Vec<Value>>,
    /// Lists that failed, by snapshot key: the error, for the record.
    pub errors: BTreeMap<String, String>,
    /// Lists the server changed while it was inspected (it said `list_changed` and a second
    /// listing differed): the second listing, by snapshot key.
    pub relisted: BTreeMap<String, Vec<Value>>,
    /// Notification methods the server sent, in order of first arrival.
    pub notifications: Vec<String>,
    /// What could not be confined, and other facts about how the inspection ran.
    pub notes: Vec<String>,
}

impl Snapshot {
    pub fn list(&self, key: &str) -> Option<&[Value]> {
        self.lists.get(key).map(Vec::as_slice)
    }

    /// The snapshot as JSON, keys in the documented order.
    pub fn to_json(&self) -> Value {
        let mut ours = Map::new();
        ours.insert("snapshot".into(), SNAPSHOT_VERSION.into());
        ours.insert("source".into(), self.source.clone().into());
        if let Some(transport) = self.transport {
            ours.insert("transport".into(), transport.as_str().into());
        }
        if !self.errors.is_empty() {
            ours.insert(
                "errors".into(),
                to_object(&self.errors, |v| v.clone().into()),
            );
        }
        if !self.relisted.is_empty() {
            ours.insert(
                "relisted".into(),
                to_object(&self.relisted, |v| v.clone().into()),
            );
        }
        if !self.notifications.is_empty() {
            ours.insert("notifications".into(), self.notifications.clone().into());
        }
        if !self.notes.is_empty() {
            ours.insert("notes".into(), self.notes.clone().into());
        }
        let mut doc = Map::new();
        doc.insert("portcullis".into(), Value::Object(ours));
        if let Some(v) = &self.protocol_version {
            doc.insert("protocolVersion".into(), v.clone().into());
        }
        if let Some(v) = &self.server_info {
            doc.insert("serverInfo".into(), v.clone());
        }
        if let Some(v) = &self.capabilities {
            doc.insert("capabilities".into(), v.clone());
        }
        if let Some(v) = &self.instructions {
            doc.insert("instructions".into(), v.clone().into());
        }
        for (key, _) in LISTS {
            if let Some(items) = self.lists.get(key) {
                doc.insert(key.into(), Value::Array(items.clone()));
            }
        }
        Value::Object(doc)
    }

    /// Pretty JSON with a final newline.
    pub fn to_pretty_string(&self) -> String {
        pretty(&self.to_json())
    }

    /// Reads a snapshot back (the `portcullis` block must say `snapshot: 1`).
    pub fn from_json(value: &Value) -> Result<Snapshot, SnapshotError> {
        let doc = value.as_object().ok_or(SnapshotError::NotAnObject)?;
        let ours = doc
            .get("portcullis")
            .and_then(Value::as_object)
            .ok_or(SnapshotError::NoPortcullisBlock)?;
        match ours.get("snapshot").and_then(Value::as_u64) {
            Some(SNAPSHOT_VERSION) => {}
            other => return Err(SnapshotError::Version(other)),
        }
        let strings = |v: Option<&Value>| -> Vec<String> {
            v.and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(|s| s.as_str().map(str::to_owned))
                        .collect()
                })
                .unwrap_or_default()
        };
        let lists_of = |v: Option<&Value>| -> BTreeMap<String, Vec<Value>> {
            v.and_then(Value::as_object)
                .map(|o| {
                    o.iter()
                        .filter_map(|(k, v)| Some((k.clone(), v.as_array()?.clone())))
                        .collect()
                })
                .unwrap_or_default()
        };
        Ok(Snapshot {
            source: ours
                .get("source")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned(),
            transport: ours
                .get("transport")
                .and_then(Value::as_str)
                .and_then(TransportKind::parse),
            protocol_version: doc
                .get("protocolVersion")
                .and_then(Value::as_str)
                .map(str::to_owned),
            server_info: doc.get("serverInfo").cloned(),
            capabilities: doc.get("capabilities").cloned(),
            instructions: doc
                .get("instructions")
                .and_then(Value::as_str)
                .map(str::to_owned),
            lists: LISTS
                .iter()
                .filter_map(|(key, _)| Some((key.to_string(), doc.get(*key)?.as_array()?.clone())))
                .collect(),
            errors: ours
                .get("errors")
                .and_then(Value::as_object)
                .map(|o| {
                    o.iter()
                        .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_owned())))
                        .collect()
                })
                .unwrap_or_default(),
            relisted: lists_of(ours.get("relisted")),
            notifications: strings(ours.get("notifications")),
            notes: strings(ours.get("notes")),
        })
    }
}

/// Several servers in one document: `{"servers": [snapshot, ...]}`.
pub fn servers_document(snapshots: &[Snapshot]) -> String {
    let servers: Vec<Value> = snapshots.iter().map(Snapshot::to_json).collect();
    let mut doc = Map::new();
    doc.insert("servers".into(), Value::Array(servers));
    pretty(&Value::Object(doc))
}

/// The snapshots of a document holding one snapshot or `{"servers": [...]}`.
pub fn parse_document(text: &str) -> Result<Vec<Snapshot>, SnapshotError> {
    let value: Value =
        serde_json::from_str(text).map_err(|e| SnapshotError::Json(e.to_string()))?;
    match value.get("servers").and_then(Value::as_array) {
        Some(servers) if value.get("portcullis").is_none() => {
            servers.iter().map(Snapshot::from_json).collect()
        }
        _ => Ok(vec![Snapshot::from_json(&value)?]),
    }
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum SnapshotError {
    #[error("not JSON: {0}")]
    Json(String),
    #[error("a snapshot is a JSON object")]
    NotAnObject,
    #[error("no `portcullis` block: this is not a portcullis snapshot")]
    NoPortcullisBlock,
    #[error("unsupported snapshot version {0:?} (this portcullis reads version 1)")]
    Version(Option<u64>),
}

fn to_object<T>(map: &BTreeMap<String, T>, f: impl Fn(&T) -> Value) -> Value {
    Value::Object(map.iter().map(|(k, v)| (k.clone(), f(v))).collect())
}

fn pretty(value: &Value) -> String {
    // Serialising a `Value` cannot fail.
    let mut text = serde_json::to_string_pretty(value).unwrap_or_default();
    text.push('\n');
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn sample() -> Snapshot {
        let mut s = Snapshot {
            source: "npx -y server".into(),
            transport: Some(TransportKind::Stdio),
            protocol_version: Some("2025-11-25".into()),
            server_info: Some(json!({"name": "s", "version": "1"})),
            capabilities: Some(json!({"tools": {}})),
            instructions: Some("Be nice.".into()),
            ..Snapshot::default()
        };
        s.lists.insert(
            "tools".into(),
            vec![json!({"name": "t", "x-hidden": "kept", "inputSchema": {}})],
        );
        s.errors.insert("prompts".into(), "boom".into());
        s
    }

    #[test]
    fn keys_come_in_the_documented_order_and_unknown_keys_survive() {
        let text = sample().to_pretty_string();
        let keys: Vec<String> = serde_json::from_str::<Value>(&text)
            .unwrap()
            .as_object()
            .unwrap()
            .keys()
            .cloned()
            .collect();
        assert_eq!(
            keys,
            [
                "portcullis",
                "protocolVersion",
                "serverInfo",
                "capabilities",
                "instructions",
                "tools"
            ]
        );
        assert!(text.contains("\"x-hidden\": \"kept\""));
        assert!(text.starts_with("{\n  \"portcullis\": {\n    \"snapshot\": 1,"));
        assert!(text.ends_with("}\n"));
    }

    #[test]
    fn a_snapshot_reads_back_as_itself() {
        let s = sample();
        assert_eq!(
            parse_document(&s.to_pretty_string()).unwrap(),
            vec![s.clone()]
        );
        let both = servers_document(&[s.clone(), s.clone()]);
        assert_eq!(parse_document(&both).unwrap(), vec![s.clone(), s]);
    }

    #[test]
    fn other_json_is_not_a_snapshot() {
        assert_eq!(
            parse_document("{\"tools\": []}"),
            Err(SnapshotError::NoPortcullisBlock)
        );
        assert_eq!(
            parse_document("{\"portcullis\": {\"snapshot\": 2}}"),
            Err(SnapshotError::Version(Some(2)))
        );
    }
}
