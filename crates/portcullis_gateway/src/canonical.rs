//! Canonical JSON (sorted keys, no whitespace) and its SHA-256, for tool pins and audit hashes.
//!
//! One canonical form and one hash for the whole tool: they live in
//! `portcullis_scan::tools::pin` (what `portcullis pin` writes to `portcullis.lock`), and the
//! gateway only re-exports them, so a pin taken by the gateway and one in the lock are the
//! same hash of the same bytes.

use serde_json::Value;

pub use portcullis_scan::tools::pin::{canonical_value as to_canonical, sha256_hex};

/// The pin of one tool definition (an item of a `tools/list` result): SHA-256 of its canonical
/// JSON, prefixed `sha256:`.
pub fn tool_hash(definition: &Value) -> String {
    format!(
        "sha256:{}",
        portcullis_scan::tools::pin::definition_sha256(definition)
    )
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

    #[test]
    fn the_gateway_pins_what_the_lock_pins() {
        let text = r#"{"name": "add", "description": "Adds.", "inputSchema": {"type": "object", "properties": {"a": {"type": "number", "minimum": 1e0}}}}"#;
        let value: Value = serde_json::from_str(text).unwrap();
        let node = portcullis_scan::document::parse(text, portcullis_scan::document::Format::Json)
            .unwrap();
        let locked = portcullis_scan::tools::pin::sha256_hex(
            portcullis_scan::tools::pin::canonical_json(&node),
        );
        assert_eq!(tool_hash(&value), format!("sha256:{locked}"));
    }
}
