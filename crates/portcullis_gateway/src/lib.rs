//! The portcullis runtime gateway: a policy-enforcing MCP proxy with a tamper-evident audit log.
//!
//! The gateway sits between an MCP client and one server (a stdio server it starts, or a remote
//! streamable-HTTP one: [`remote`] over stdio, [`http`] over HTTP, both through the one client
//! in [`upstream`]) and relays raw JSON-RPC (as
//! `serde_json::Value`, never re-modelled, so unknown fields, ids, notifications, progress,
//! cancellation and batches pass unchanged). It looks only at the messages it must judge
//! (`tools/call`, `resources/read`, `prompts/get`, `tools/list` results, server-initiated
//! `sampling/createMessage` and `elicitation/create`) and decides with a [`policy::Policy`].
//! Content judgements (secrets) come from `portcullis_scan`; this crate holds no detection logic.
//!
//! It fails closed: a policy it cannot load stops startup, and a message it cannot parse or an
//! audit record it cannot write stops that call with a JSON-RPC error.

pub mod audit;
mod batch;
pub mod canonical;
pub mod checks;
pub mod child;
pub mod datadir;
pub mod family;
pub mod follow;
pub mod http;
pub mod inject;
pub mod judge;
pub mod mrtr;
pub mod policy;
pub mod rate;
pub mod redact;
pub mod relay;
pub mod remote;
pub mod starter;
mod stdio;
pub mod time;
pub mod upstream;

pub use audit::{AuditFormat, AuditLog};
pub use policy::Policy;
pub use relay::{GatewayOptions, run_stdio};
