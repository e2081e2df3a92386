//! Package targets: `portcullis scan pypi:NAME[==VERSION]` and `npm:NAME[@VERSION]`.
//!
//! A package is downloaded from its registry, checked against the registry's digest, unpacked
//! into a private temporary folder and scanned like any folder. It is never installed, and none
//! of its code or scripts run: only files are written. The scanner library does no network I/O,
//! so all of this lives in the binary.
//!
//! Report paths name the package: the unpacked root is moved to a folder named after the target
//! (`pypi:mcp-server-fetch==2025.4.7`), and the scan's working folder is its parent, so the
//! scanner's own display rule shows `pypi:mcp-server-fetch==2025.4.7/src/server.py` and
//! fingerprints, baselines and `allow` paths all see that same name. Trade-off: each package is
//! scanned on its own and the reports are merged, so rules that compare files see one package
//! at a time, which is what a package is.

mod http;
mod spec;
mod unpack;
