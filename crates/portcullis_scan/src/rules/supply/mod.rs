//! Rules over supply-chain and deployment files (`PC4xx`).

mod container_runs_as_root;
mod install_script_in_package;
mod unpinned_node_dependency;
mod unpinned_python_dependency;

use crate::diagnostic::Diagnostic;
use crate::registry::RuleMeta;
use crate::supply::SupplyFile;

/// A rule over one supply-chain file.
pub trait SupplyRule: Sync {
    fn meta(&self) -> &'static RuleMeta;
    fn check(&self, file: &SupplyFile, out: &mut Vec<Diagnostic>);
}

/// Every supply rule.
pub static RULES: &[&dyn SupplyRule] = &[
    &container_runs_as_root::Rule,
    &unpinned_python_dependency::Rule,
    &unpinned_node_dependency::Rule,
    &install_script_in_package::Rule,
];
