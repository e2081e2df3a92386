#!/usr/bin/env bash
# Benchmark: scan a large TypeScript/JavaScript tree with the release build, against parsing the
# same files with tree-sitter and nothing else, in the same run. The tree is npm package
# tarballs fetched with `npm pack` (the TypeScript compiler's sources are one huge file each,
# so a spread of packages is used instead: the MCP SDK, a few MCP servers, and libraries of
# ordinary size). Reports files and lines per second and the ratio. Not a test.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${RUNS:-5}
packages=${PACKAGES:-"@modelcontextprotocol/sdk @modelcontextprotocol/server-filesystem @modelcontextprotocol/server-memory @modelcontextprotocol/server-everything @modelcontextprotocol/server-sequential-thinking zod express axios pg ws commander undici @octokit/rest eslint"}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
tree="$work/tree"
mkdir -p "$tree"
for p in $packages; do
  (cd "$work" && npm pack --silent "$p" 2>/dev/null) || { echo "npm pack $p failed" >&2; continue; }
done
for t in "$work"/*.tgz; do
  d="$tree/$(basename "$t" .tgz)"
  mkdir -p "$d" && tar xzf "$t" -C "$d"
done
cargo build --release --quiet -p portcullis -p portcullis_dev
list() { find "$tree" -type f \( -name '*.ts' -o -name '*.mts' -o -name '*.cts' -o -name '*.tsx' -o -name '*.js' -o -name '*.mjs' -o -name '*.cjs' -o -name '*.jsx' \) ! -name '*.d.ts' ! -name '*.d.mts' ! -name '*.d.cts'; }
files=$(list | wc -l)
lines=$(list | xargs cat | wc -l)
echo "tree: $files TypeScript/JavaScript files, $lines lines ($(echo $packages | wc -w) packages)"

median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
time_runs() {
  for _ in $(seq "$runs"); do
    /usr/bin/env TIMEFORMAT=%R bash -c "time ($* >/dev/null 2>&1 || true)" 2>&1 | tail -1
  done | median
}
scan_s=$(time_runs target/release/portcullis scan "$tree" --no-user-configs --format json)
parse_s=$(time_runs target/release/portcullis_dev parse-only "$tree")
/usr/bin/time -f %M -o "$work/rss" target/release/portcullis scan "$tree" --no-user-configs --format json >/dev/null 2>&1 || true
awk -v f="$files" -v l="$lines" -v s="$scan_s" -v p="$parse_s" -v m="$(tail -1 "$work/rss")" 'BEGIN {
  printf "portcullis scan:      median %.2f s, %.0f files/s, %.0f lines/s, peak %.0f MiB\n", s, f / s, l / s, m / 1024
  printf "tree-sitter parse:    median %.2f s, %.0f files/s, %.0f lines/s\n", p, f / p, l / p
  printf "scan / parse ratio:   %.2f\n", s / p
}'
