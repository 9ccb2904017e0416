#!/bin/sh
# What replicas sharing practice data through PostgreSQL cost: publishing an
# imported version, a replica's first question fetching it, the check after
# a restart, against copying the folder locally (same run). A throwaway
# PostgreSQL 15 on loopback.
# Usage: scripts/bench-shared-data.sh [invoice_lines=200000] [build_dir=build]
set -eu
lines=${1:-200000}
build=${2:-build}
work=$(mktemp -d /tmp/vet-bench-shared.XXXXXX)
trap 'rm -rf "$work"' EXIT
cmake --build "$build" --target shared_data_bench -j2 >/dev/null
echo "== machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(uname -r)"
echo "== storage under $work: $(df -T "$work" | awk 'NR==2 {print $2}')"
"$build/core/data/shared_data_bench" "$lines" "$work/run"
