//! Rules over MCP client configurations (`PC2xx`). Each reads the normalised model, so it covers
//! every client format at once.

mod auto_approved_dangerous_tools;
mod cleartext_remote_transport;
mod credentials_in_server_url;
mod overbroad_filesystem_root;
mod plaintext_secret_in_config;
mod project_servers_self_approved;
mod shadowed_server_name;

use crate::diagnostic::Diagnostic;
use crate::model::ConfigFile;
use crate::registry::RuleMeta;

/// A rule over client configurations.
pub trait ConfigRule: Sync {
    fn meta(&self) -> &'static RuleMeta;

    /// Checks one file on its own.
    fn check_file(&self, _file: &ConfigFile, _out: &mut Vec<Diagnostic>) {}

    /// Checks the files together, for hazards that only show across files (shadowing).
    fn check_all(&self, _files: &[&ConfigFile], _out: &mut Vec<Diagnostic>) {}
}

/// Every config rule.
pub static RULES: &[&dyn ConfigRule] = &[
    &plaintext_secret_in_config::Rule,
    &cleartext_remote_transport::Rule,
    &credentials_in_server_url::Rule,
    &overbroad_filesystem_root::Rule,
    &auto_approved_dangerous_tools::Rule,
    &project_servers_self_approved::Rule,
    &shadowed_server_name::Rule,
];
