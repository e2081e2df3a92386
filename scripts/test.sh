#!/usr/bin/env bash
# The whole test suite: unit, fixture, meta and CLI tests, lints, and the output validators.
# What it needs beyond Rust (npm packages, Chromium) the validator scripts install themselves.
set -euo pipefail
cd "$(dirname "$0")/.."

cargo fmt --all --check
cargo clippy --workspace --all-targets --locked -- -D warnings
cargo test --workspace --locked
