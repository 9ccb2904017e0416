#!/bin/sh
# Measures fairness between practices in the sandbox: a quiet practice's
# trivial question while another practice floods it with 6 CPU-bound
# questions in a loop (core/sandbox/bench/fairness_bench.cc). Runs the
# defaults (3 of 5 slots per practice, cpu cgroups with the sandbox weighing
# as 5 processes), then turns alone (5 of 5), then the defaults without
# cgroups.
# Usage: scripts/bench-fairness.sh [seconds=40] [build_dir=build] [work_dir]
# Run as root to measure with every layer (sandbox user, cgroups).
set -eu
seconds=${1:-40}
build=${2:-build}
work=${3:-$(mktemp -d /tmp/vet-bench-fairness.XXXXXX)}

cmake --build "$build" --target columnar_bench fairness_bench -j2 >/dev/null
rm -rf "$work/csv" "$work/columnar"
echo "== machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(uname -r)"
"$build/core/data/columnar_bench" "$work" 20000 >/dev/null
"$build/core/sandbox/fairness_bench" "$work/columnar" "$seconds" 3 1
"$build/core/sandbox/fairness_bench" "$work/columnar" "$seconds" 5 1
"$build/core/sandbox/fairness_bench" "$work/columnar" "$seconds" 3 0
