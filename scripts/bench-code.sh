#!/usr/bin/env bash
# Benchmark: scan a large Python tree (Django's sdist from PyPI, ~2,800 files, ~490k lines)
# with the release build, against parsing the same files with tree-sitter and nothing else, in
# the same run. Reports files and lines per second and the ratio. Not a test.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${RUNS:-5}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 -m pip download --quiet --no-deps --no-binary :all: "django==5.2.8" -d "$work" >/dev/null
tar xzf "$work"/django-5.2.8.tar.gz -C "$work"
tree="$work/django-5.2.8"
cargo build --release --quiet -p portcullis -p portcullis_dev
files=$(find "$tree" -name '*.py' | wc -l)
lines=$(find "$tree" -name '*.py' -exec cat {} + | wc -l)
echo "tree: $files Python files, $lines lines"

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
