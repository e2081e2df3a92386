#!/usr/bin/env bash
# The whole test suite: unit, fixture, meta and CLI tests, lints, and the output validators.
# What it needs beyond Rust (npm packages, Chromium) the validator scripts install themselves.
set -euo pipefail
cd "$(dirname "$0")/.."

cargo fmt --all --check
cargo clippy --workspace --all-targets --locked -- -D warnings
cargo test --workspace --locked

# The outputs people and tools consume, checked by the tools they will use.
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
cargo build --workspace --locked
portcullis="${CARGO_TARGET_DIR:-target}/debug/portcullis"
fixtures=crates/portcullis_scan/resources/fixtures
# One log per group of rules: GitHub code scanning shows at most 1,000 results of one run by default
# (GH1004), and the fixtures hold more code findings than that.
for part in code-a:PC10 code-b:PC11,PC12 config:PC2,PC4,PC9 tools:PC3; do
    status=0
    "$portcullis" scan "$fixtures" --no-user-configs --select "${part#*:}" --format sarif -o "$out/${part%%:*}.sarif" || status=$?
    [ "$status" -eq 1 ] || { echo "expected findings (exit 1) from the fixtures, got $status" >&2; exit 1; }
done
scripts/validate-sarif.sh "$out/code-a.sarif" "$out/code-b.sarif" "$out/config.sarif" "$out/tools.sarif"
status=0
"$portcullis" scan "$fixtures" --no-user-configs --format html -o "$out/report.html" || status=$?
[ "$status" -eq 1 ] || { echo "expected findings (exit 1) from the fixtures, got $status" >&2; exit 1; }
scripts/html-e2e.sh --expect plaintext-secret-in-config --forbid ghp_Zx9Yw8Vu7Ts6Rq5Po4Nm3Lk2Ji1Hg0FeDcBa "$out/report.html"
echo "output validators: SARIF and HTML checks passed"
