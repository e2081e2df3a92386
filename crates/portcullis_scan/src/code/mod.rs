//! Server source analysis: language frontends lower each file into the shared IR once; the
//! taint engine, driven by per-language catalogs, finds where model-chosen values reach danger.

pub mod ir;
pub mod python;
