//! MCP for portcullis: the snapshot of what a server exposes (always), and with the `client`
//! feature a client that inspects live servers: a launched and confined stdio server, a
//! streamable-HTTP server or an older HTTP+SSE one.
//!
//! The snapshot type is all the scanner needs, so it comes without the network and process
//! code; the binary turns `client` on.

#![deny(unsafe_code)]

#[cfg(feature = "client")]
pub mod client;
pub mod mask;
pub mod snapshot;

pub use snapshot::{Snapshot, TransportKind};
