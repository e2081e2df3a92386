#!/usr/bin/env bash
# Benchmark: the gateway's added latency (p50, p99) and throughput on `tools/call` round trips,
# against a direct connection to the same trivial server, in one run. Release build by default;
# PROFILE=dev to use the debug build. Not a test.
set -euo pipefail
cd "$(dirname "$0")/.."
profile=${PROFILE:-release}
dir=$([ "$profile" = dev ] && echo debug || echo "$profile")
cargo build --quiet --profile "$profile" -p portcullis -p portcullis_testserver
python3 scripts/bench-gateway.py "target/$dir/portcullis" "target/$dir/portcullis-testserver" "${1:-3000}"
