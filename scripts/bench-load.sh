#!/bin/sh
# Measures how long the sandbox takes to load a practice's tables from CSV
# and from the columnar form (core/data/columnar_store.h).
# Usage: scripts/bench-load.sh [invoice_lines=5000000] [build_dir] [work_dir]
# Needs about 2 GB in work_dir and 6 GB of memory at 5M lines.
set -eu
lines=${1:-5000000}
build=${2:-build}
work=${3:-$(mktemp -d /tmp/vet-bench-load.XXXXXX)}
here=$(cd "$(dirname "$0")/.." && pwd)

cmake --build "$build" --target columnar_bench -j2 >/dev/null
rm -rf "$work/csv" "$work/columnar"
echo "== building $lines invoice lines in $work"
"$build/core/data/columnar_bench" "$work" "$lines"
du -sh "$work/csv/invoice_lines.csv" "$work/columnar/invoice_lines"
echo "== loading (the sandbox's interpreter, /usr/bin/python3)"
/usr/bin/python3 "$here/scripts/bench_load.py" "$work/csv" "$work/columnar" 3
