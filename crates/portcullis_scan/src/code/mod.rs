//! Server source analysis: language frontends lower each file into the shared IR once; the
//! taint engine, driven by per-language catalogs, finds where model-chosen values reach danger.

pub mod catalog;
pub mod ir;
pub mod load;
pub mod python;
pub mod structure;
pub mod taint;
pub mod transport;
pub mod typescript;
