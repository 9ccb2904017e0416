#!/bin/sh
# Measures the sandbox: a monthly-revenue groupby on the demo practice's
# invoice lines through the warm zygote executor, against a cold python3 and
# the unisolated one-interpreter-per-question executor, all in one run; then
# executions per second with 1, 2 and 4 clients.
# Usage: scripts/bench-sandbox.sh [invoice_lines=200000] [build_dir=build] [work_dir]
# Run as root to measure with every layer (sandbox user, cgroups).
set -eu
lines=${1:-200000}
build=${2:-build}
work=${3:-$(mktemp -d /tmp/vet-bench-sandbox.XXXXXX)}

cmake --build "$build" --target columnar_bench sandbox_bench -j2 >/dev/null
rm -rf "$work/csv" "$work/columnar"
echo "== machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(uname -r)"
echo "== building $lines invoice lines in $work"
"$build/core/data/columnar_bench" "$work" "$lines" >/dev/null
echo "== groupby: warm zygote vs cold"
"$build/core/sandbox/sandbox_bench" "$work/columnar" "$work/csv"
