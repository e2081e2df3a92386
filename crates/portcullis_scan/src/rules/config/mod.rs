//! Rules over MCP client configurations (`PC2xx`). Each reads the normalised model, so it covers
//! every client format at once.

mod auto_approved_dangerous_tools;
mod cleartext_remote_transport;
mod credentials_in_server_url;
mod download_and_run_in_command;
mod inline_code_in_command;
mod overbroad_filesystem_root;
mod plaintext_secret_in_config;
mod privileged_container;
mod project_servers_self_approved;
mod sensitive_host_mount_in_container;
mod shadowed_server_name;
mod shell_wrapper_in_command;
mod unpinned_container_image;
mod unpinned_package_in_command;

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
    &unpinned_container_image::Rule,
    &privileged_container::Rule,
    &sensitive_host_mount_in_container::Rule,
    &unpinned_package_in_command::Rule,
    &download_and_run_in_command::Rule,
    &shell_wrapper_in_command::Rule,
    &inline_code_in_command::Rule,
    &credentials_in_server_url::Rule,
    &overbroad_filesystem_root::Rule,
    &auto_approved_dangerous_tools::Rule,
    &project_servers_self_approved::Rule,
    &shadowed_server_name::Rule,
];
