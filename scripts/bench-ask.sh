#!/usr/bin/env bash
# Measures end-to-end question latency against a demo server started here,
# with the cold-start costs it is made of as the baseline, in the same run.
# Usage: scripts/bench-ask.sh [N questions per kind, default 20]
# Needs a build in ./build (scripts/build.sh) or in $BUILD_DIR.
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-20}
BIN=$(realpath "${BUILD_DIR:-build}")/bin
STATE=$(mktemp -d)
PORT=${BENCH_PORT:-50099}
trap 'kill $PID 2>/dev/null || true; wait $PID 2>/dev/null || true; rm -rf "$STATE"' EXIT

"$BIN/vet-analytics-server" --demo --listen 127.0.0.1:$PORT --metrics_listen= \
  --state_dir "$STATE" >"$STATE/server.log" 2>&1 &
PID=$!
until "$BIN/vetctl" --addr 127.0.0.1:$PORT --timeout 2 budget >/dev/null 2>&1; do
  if ! kill -0 "$PID" 2>/dev/null; then cat "$STATE/server.log" >&2; exit 1; fi
  sleep 0.2
done

# Prints "label p50 p95 min max" in milliseconds for N runs of a command.
measure() {
  local label=$1; shift
  local times=()
  for _ in $(seq "$N"); do
    local t0=$(date +%s%N)
    "$@" >/dev/null 2>&1 || true  # a declined question exits non-zero
    local t1=$(date +%s%N)
    times+=($(( (t1 - t0) / 1000000 )))
  done
  printf '%s\n' "${times[@]}" | /usr/bin/python3 -c '
import sys, statistics
v = sorted(int(x) for x in sys.stdin)
p95 = v[min(len(v) - 1, int(round(0.95 * (len(v) - 1))))]
print(f"%-44s n=%-3d p50=%5d ms  p95=%5d ms  min=%5d ms  max=%5d ms" % (sys.argv[1], len(v), statistics.median(v), p95, v[0], v[-1]))
' "$label"
}

# The same demo exports as CSV, for the cold-read baseline (the server
# itself loads its imported columnar form).
DATA=$STATE/exports
"$BIN/vetctl" demo-data "$DATA" >/dev/null 2>&1
echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -r)"
echo "demo data: $(($(wc -l < "$DATA/invoice_lines.csv") - 1)) invoice lines (the server loads them from the columnar form)"
echo "baseline (a cold interpreter: what every question paid before the warm sandbox):"
measure "python3 -c 'import pandas'" /usr/bin/python3 -c 'import pandas'
measure "python3: import pandas + read 5 CSVs" /usr/bin/python3 -c "
import pandas as pd
for t in ['clients','patients','staff','appointments','invoice_lines']:
    pd.read_csv('$DATA/' + t + '.csv')"
echo "end to end (vetctl ask --json, new session each time):"
measure "revenue last month (number)" "$BIN/vetctl" --addr 127.0.0.1:$PORT --json ask "What was our revenue last month?"
measure "revenue trend last quarter (table + chart)" "$BIN/vetctl" --addr 127.0.0.1:$PORT --json ask "What was our revenue trend last quarter?"
measure "no-show rate by vet this year (table)" "$BIN/vetctl" --addr 127.0.0.1:$PORT --json ask "What was our no-show rate by vet this year?"
measure "declined question (no sandbox)" "$BIN/vetctl" --addr 127.0.0.1:$PORT --json ask "what is the weather"
