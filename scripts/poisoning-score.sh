#!/usr/bin/env bash
# Measures the tool-metadata rules (PC3xx) on labelled tool definitions: detection per attack
# type and per source, false alarms on benign rows, the risky-schema group counted apart, with
# and without empty-name rows, and the misses and false alarms by id.
#
# Usage: scripts/poisoning-score.sh [FILE.jsonl...]
# Default: the shared dev set (../shared/data/poisoning-dev.jsonl, when present; it may not be
# passed on, so it is not in this repository) and corpus/tools/hard-cases.jsonl.
set -euo pipefail
cd "$(dirname "$0")/.."
files=("$@")
if [ ${#files[@]} -eq 0 ]; then
    for f in ../shared/data/poisoning-dev.jsonl corpus/tools/hard-cases.jsonl; do
        [ -f "$f" ] && files+=("$f")
    done
fi
exec cargo run -q -p portcullis_dev -- poisoning "${files[@]}"
