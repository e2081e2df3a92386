//! MCP tool snapshots and the live client.
