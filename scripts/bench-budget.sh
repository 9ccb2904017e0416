#!/bin/sh
# What the budget check costs a question on each store: Reserve + Commit
# pairs with 1 and 8 clients, on the in-memory guard, SQLite (in a temporary
# folder; WAL, synchronous=FULL) and a throwaway PostgreSQL 15.
# Usage: scripts/bench-budget.sh [pairs=2000] [build_dir=build]
set -eu
pairs=${1:-2000}
build=${2:-build}
work=$(mktemp -d /tmp/vet-bench-budget.XXXXXX)
trap 'rm -rf "$work"' EXIT
cmake --build "$build" --target budget_bench -j2 >/dev/null
echo "== machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(uname -r)"
echo "== storage under $work: $(df -T "$work" | awk 'NR==2 {print $2}')"
"$build/core/budget/budget_bench" "$pairs" "$work"
