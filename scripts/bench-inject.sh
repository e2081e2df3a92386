#!/usr/bin/env bash
# Benchmark: the injected-instruction check on responses (crates/portcullis_gateway/src/inject.rs),
# in ms per MiB, on the repository's own prose (docs/rules/*.md, README.md) shaped as one text
# block, 4 KiB blocks and a structuredContent array of short strings. Release build by default;
# PROFILE=dev for the debug build. Not a test.
#
# usage: scripts/bench-inject.sh [BYTES] [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
profile=${PROFILE:-release}
dir=$([ "$profile" = dev ] && echo debug || echo "$profile")
cargo build --quiet --profile "$profile" -p portcullis_gateway --example inject_bench
prose=$(mktemp)
trap 'rm -f "$prose"' EXIT
cat README.md docs/rules/*.md > "$prose"
for shape in one blocks structured; do
    "target/$dir/examples/inject_bench" "${1:-1048576}" "$shape" "${2:-3}" < "$prose"
done
