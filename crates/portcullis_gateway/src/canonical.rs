//! Canonical JSON (sorted keys, no whitespace) and its SHA-256, for tool pins and audit hashes.
//!
//! The form is the one `portcullis pin` uses for `portcullis.lock`: object keys sorted by their
//! UTF-8 bytes, no whitespace, strings and numbers as `serde_json` writes them. The workspace
//! builds `serde_json` with `preserve_order`, so sorting is done here rather than trusted to the
//! map type. When the shared helper lands in `portcullis_scan::tools::pin`, [`tool_hash`] is the
//! one function to switch over.

use serde_json::Value;
use sha2::{Digest, Sha256};

/// Writes `value` as canonical JSON.
pub fn to_canonical(value: &Value) -> String {
    let mut out = String::new();
    write(value, &mut out);
    out
}

fn write(value: &Value, out: &mut String) {
    match value {
        Value::Object(map) => {
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            entries.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
            out.push('{');
            for (i, (k, v)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(k.clone()).to_string());
                out.push(':');
                write(v, out);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, v) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write(v, out);
            }
            out.push(']');
        }
        other => out.push_str(&other.to_string()),
    }
}

/// Lower-case hex SHA-256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    let mut hex = String::with_capacity(64);
    for b in digest {
        hex.push_str(&format!("{b:02x}"));
    }
    hex
}

/// The pin of one tool definition (an item of a `tools/list` result): SHA-256 of its canonical
/// JSON, prefixed `sha256:`.
pub fn tool_hash(definition: &Value) -> String {
    format!("sha256:{}", sha256_hex(to_canonical(definition).as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn sorts_keys_at_every_level_and_drops_whitespace() {
        let v = json!({"b": 1, "a": {"z": [1, {"y": "x", "c": null}], "b": "é"}});
        assert_eq!(
            to_canonical(&v),
            r#"{"a":{"b":"é","z":[1,{"c":null,"y":"x"}]},"b":1}"#
        );
    }

    #[test]
    fn key_order_does_not_change_the_hash_but_content_does() {
        let a = json!({"name": "echo", "description": "Echoes."});
        let b: Value = serde_json::from_str(r#"{"description":"Echoes.","name":"echo"}"#).unwrap();
        assert_eq!(tool_hash(&a), tool_hash(&b));
        let c = json!({"name": "echo", "description": "Echoes!"});
        assert_ne!(tool_hash(&a), tool_hash(&c));
        assert!(tool_hash(&a).starts_with("sha256:"));
    }
}
