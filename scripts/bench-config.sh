#!/usr/bin/env bash
# Benchmark: scan a generated tree of N MCP client configs (default 2000) with the release build,
# against reading the same files with `cat` (the I/O floor), in the same run. Reports files per
# second, the ratio to the floor, and peak memory. Not a test: nothing here asserts on time.
set -euo pipefail
cd "$(dirname "$0")/.."
count=${1:-2000}
runs=${RUNS:-10}
tree=$(mktemp -d)
trap 'rm -rf "$tree"' EXIT
python3 scripts/gen-config-tree.py "$tree" "$count"
cargo build --release --quiet
bin=$PWD/target/release/portcullis
files=$(find "$tree" -type f | wc -l)
lines=$(find "$tree" -type f -exec cat {} + | wc -l)
echo "tree: $files files, $lines lines"

median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
time_runs() {
  for _ in $(seq "$runs"); do
    /usr/bin/env TIMEFORMAT=%R bash -c "time ($* >/dev/null 2>&1 || true)" 2>&1 | tail -1
  done | median
}
scan_s=$(time_runs "$bin" scan "$tree" --no-user-configs --format json)
cat_s=$(time_runs "find $tree -type f -exec cat {} +")
/usr/bin/time -f %M -o "$tree.rss" "$bin" scan "$tree" --no-user-configs --format json >/dev/null 2>&1 || true
rss_kb=$(tail -1 "$tree.rss"); rm -f "$tree.rss"
awk -v f="$files" -v s="$scan_s" -v c="$cat_s" -v m="$rss_kb" 'BEGIN {
  printf "portcullis scan: median %.3f s over the runs, %.0f files/s\n", s, f / s
  printf "cat (I/O floor): median %.3f s; scan/cat ratio %.1f\n", c, s / c
  printf "peak memory: %.1f MiB\n", m / 1024
}'
