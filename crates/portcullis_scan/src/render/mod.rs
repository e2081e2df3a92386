//! Renderers: the same report as text for people, JSON for programs, SARIF for code scanning,
//! HTML for sharing. No renderer prints a secret: code frames come from the masked text.

pub mod html;
pub mod json;
pub mod rule_doc;
pub mod sarif;
pub mod text;

use crate::report::Report;

/// The output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputFormat {
    Text,
    Json,
    Sarif,
    Html,
}

/// Options shared by the renderers.
#[derive(Debug, Clone, Copy)]
pub struct RenderOptions {
    /// ANSI colours (text only; only on a terminal).
    pub color: bool,
    /// Width to wrap code frames at.
    pub width: usize,
}

impl Default for RenderOptions {
    fn default() -> Self {
        RenderOptions {
            color: false,
            width: 100,
        }
    }
}

/// Renders `report` in `format`.
pub fn render(report: &Report, format: OutputFormat, options: &RenderOptions) -> String {
    match format {
        OutputFormat::Text => text::render(report, options),
        OutputFormat::Json => json::render(report),
        OutputFormat::Sarif => sarif::render(report),
        OutputFormat::Html => html::render(report),
    }
}
