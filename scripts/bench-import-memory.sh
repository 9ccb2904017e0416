#!/bin/sh
# Peak resident memory of one import (ImportStaging + CommitImport, the path
# ImportDataset takes) for ordinary and hostile uploads; see
# docs/BENCHMARKS.md, "Import memory".
# Usage: scripts/bench-import-memory.sh [work_dir] [bench_binary...]
# With no binary, builds and runs build/core/data/import_memory_bench. Give
# two binaries (one built before a change, one after) to compare them on the
# same data in the same run. Set BOMB_1G=1 to add a 1 GiB record of commas,
# CASES="demo5m bomb1g" to run only some cases.
# Needs about 2.5 GB in work_dir (3.5 GB with BOMB_1G).
set -eu
work=${1:-$(mktemp -d /tmp/vet-bench-import.XXXXXX)}
[ $# -gt 0 ] && shift
if [ $# -eq 0 ]; then
  cmake --build build --target import_memory_bench -j2 >/dev/null
  set -- build/core/data/import_memory_bench
fi
gen=$1
mkdir -p "$work"

# The data: the demo practice at 5M invoice lines, and at 60k with a hostile
# clients.csv appended.
[ -f "$work/demo5m/invoice_lines.csv" ] || "$gen" demo "$work/demo5m" 5000000
[ -f "$work/small/invoice_lines.csv" ] || "$gen" demo "$work/small" 60000
hostile() {  # name, then a command writing what to append to clients.csv
  name=$1
  shift
  [ -f "$work/$name/clients.csv" ] && return 0
  rm -rf "$work/$name.tmp"
  cp -r "$work/small" "$work/$name.tmp"
  "$@" >>"$work/$name.tmp/clients.csv"
  mv "$work/$name.tmp" "$work/$name"
}
commas() { head -c "$1" /dev/zero | tr '\0' ','; echo; }
tiny_rows() { yes x | head -n "$1"; }
distinct_ids() { seq 1 "$1" | sed 's/^/x/'; }
hostile bomb200m commas 209715200     # one record of 200 MiB of commas
hostile tiny64m tiny_rows 33554432    # 32M malformed lines "x"
hostile ids60m distinct_ids 7000000   # 7M malformed lines, distinct ids
cases="demo5m bomb200m tiny64m ids60m"
if [ "${BOMB_1G:-0}" = 1 ]; then
  hostile bomb1g commas 1073741824
  cases="$cases bomb1g"
fi
cases=${CASES:-$cases}

printf '%-10s %-40s %10s %10s  %s\n' case binary "peak MiB" seconds status
for c in $cases; do
  for bin in "$@"; do
    root="$work/root.$$"
    rm -rf "$root"
    mkdir -p "$root"
    out=$(/usr/bin/time -f 'TIME %M %e' "$bin" import "$work/$c" "$root" 2>&1 || true)
    rm -rf "$root"
    kib=$(echo "$out" | sed -n 's/^TIME \([0-9]*\) .*/\1/p')
    secs=$(echo "$out" | sed -n 's/^TIME [0-9]* \(.*\)/\1/p')
    status=$(echo "$out" | sed -n 's/^status: *//p' | cut -c1-60)
    detail=$(echo "$out" | grep -m1 '^clients line' | cut -c1-110 || true)
    printf '%-10s %-40s %10s %10s  %s\n' "$c" "$bin" "$((kib / 1024))" "$secs" "$status"
    [ -n "$detail" ] && printf '%-10s   %s\n' "" "$detail"
  done
done
