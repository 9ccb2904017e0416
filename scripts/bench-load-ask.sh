#!/usr/bin/env bash
# Load on the real Ask API with `vetctl bench`, against servers started here
# on a loopback port, and the fake model (fake-openai-server) where a model
# is needed. Prints a markdown table. Scenarios (issue 12):
#   a  planner questions (the demo practice) at 1/8/32/128 streams
#   b  model-path questions (--planner off, the fake model answering after
#      800 ms) at 1/32/128/256 streams
#   c  two practices: one flooding the sandbox with CPU-heavy questions (6
#      streams, programs that spin 2 s), one asking a simple question; the
#      victim's p95 alone and under the flood
#   d  the server's RSS at rest and its peak under 128 streams (VmRSS of its
#      pid, sampled every 0.2 s; the sandbox workers are other processes)
# Usage: scripts/bench-load-ask.sh [scenarios, default "a b c d"]
# Environment: BUILD_DIR (default build), DURATION (measured seconds per
# run, default 15), WARMUP (default 3), BENCH_PORT (default 50098).
# Builds what it needs (vetctl, the server, the fake model) with -j2.
set -euo pipefail
cd "$(dirname "$0")/.."
SCENARIOS=${1:-"a b c d"}
BUILD=${BUILD_DIR:-build}
DURATION=${DURATION:-15}
WARMUP=${WARMUP:-3}
PORT=${BENCH_PORT:-50098}
cmake --build "$BUILD" --target vetctl vet-analytics-server fake-openai-server -j2 >/dev/null
BIN=$(realpath "$BUILD")/bin
STATE=$(mktemp -d /tmp/vet-bench-load.XXXXXX)
SERVER=""
FAKE=""
SAMPLER=""
stop() {
  local pid
  for pid in $SAMPLER $SERVER $FAKE; do kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done
  SERVER=""; FAKE=""; SAMPLER=""
}
trap 'stop; rm -rf "$STATE"' EXIT

vetctl() { "$BIN/vetctl" --addr 127.0.0.1:$PORT "$@"; }

# start_server NAME [server flags...]: a fresh state directory each time.
start_server() {
  local name=$1; shift
  "$BIN/vet-analytics-server" --listen 127.0.0.1:$PORT --metrics_listen= \
    --state_dir "$STATE/$name" --budget_limit 100000 "$@" >"$STATE/$name.log" 2>&1 &
  SERVER=$!
  # Any answer but "unreachable" (exit 8) means it is up: a server without
  # the demo practice answers NOT_FOUND.
  local rc=8
  while [ "$rc" = 8 ]; do
    if ! kill -0 "$SERVER" 2>/dev/null; then cat "$STATE/$name.log" >&2; exit 1; fi
    sleep 0.2
    rc=0; vetctl --timeout 2 budget >/dev/null 2>&1 || rc=$?
  done
}
stop_server() { kill "$SERVER"; wait "$SERVER" 2>/dev/null || true; SERVER=""; }

start_fake_model() {
  "$BIN/fake-openai-server" --delay 800ms --spin 2s >"$STATE/fake.out" 2>&1 &
  FAKE=$!
  until grep -q 'listening on' "$STATE/fake.out" 2>/dev/null; do sleep 0.1; done
  MODEL_URL="http://127.0.0.1:$(awk '/listening on/ {print $3}' "$STATE/fake.out")/v1"
}

rss_kib() { awk "/^$1:/ {print \$2}" "/proc/$SERVER/status"; }
start_rss_sampler() {
  local pid=$SERVER
  (while kill -0 "$pid" 2>/dev/null; do awk '/^VmRSS:/ {print $2}' "/proc/$pid/status"; sleep 0.2; done) \
    >"$STATE/rss" 2>/dev/null &
  SAMPLER=$!
}
stop_rss_sampler() { kill "$SAMPLER" 2>/dev/null || true; wait "$SAMPLER" 2>/dev/null || true; SAMPLER=""; }
mib() { awk -v k="$1" 'BEGIN {printf "%.0f MiB", k / 1024}'; }

# row LABEL JSON_FILE: one table row from `vetctl bench --json`.
row() {
  /usr/bin/python3 - "$1" "$2" <<'EOF'
import json, sys
label, path = sys.argv[1], sys.argv[2]
try:
    r = json.load(open(path))
except Exception as e:
    print(f"| {label} | (no report: {open(path).read().strip()[:80] or e}) |||||||||")
    sys.exit(0)
lat, fe = r["latencyMs"], r["firstEventMs"]
errors = "; ".join(f'{e["code"]} {e["count"]} ("{e["example"][:60]}")' for e in r["errors"]) or "none"
print(f'| {label} | {r["streams"]} | {r["questionsPerSecond"]:.1f} | {r["ok"]}/{r["questions"]} '
      f'| {lat["p50"]:.0f} | {lat["p95"]:.0f} | {lat["p99"]:.0f} | {fe["p50"]:.0f} | {fe["p95"]:.0f} '
      f'| {r["cancelledAtEnd"]} | {errors} |')
EOF
}

# bench LABEL OUT [vetctl bench flags...]
bench() {
  local label=$1 out=$2; shift 2
  vetctl --json bench --duration "$DURATION" --warmup "$WARMUP" "$@" >"$out" 2>"$out.err" || true
  [ -s "$out" ] || cp "$out.err" "$out"
  row "$label" "$out"
}

PLANNER_QUESTIONS=$STATE/planner-questions.txt
cat >"$PLANNER_QUESTIONS" <<'EOF'
What was our revenue last month?
What was our revenue trend last quarter?
What was our no-show rate by vet this year?
EOF

echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(. /etc/os-release; echo "$PRETTY_NAME"), kernel $(uname -r)"
echo "tree: $(git rev-parse --short HEAD 2>/dev/null || echo unknown), $(date -u '+%Y-%m-%d %H:%M UTC'); ${DURATION} s measured after ${WARMUP} s of warm-up per run"
echo
echo "| scenario | streams | questions/s | answered/counted | p50 ms | p95 ms | p99 ms | first event p50 ms | first event p95 ms | cancelled at end | errors |"
echo "|---|---|---|---|---|---|---|---|---|---|---|"
MEMORY=()

if [[ " $SCENARIOS " == *" a "* || " $SCENARIOS " == *" d "* ]]; then
  start_server planner --demo
  MEMORY+=("| planner (demo), at rest | $(mib "$(rss_kib VmRSS)") |")
  if [[ " $SCENARIOS " == *" a "* ]]; then
    for n in 1 8 32; do
      bench "a: planner mix" "$STATE/a$n.json" --streams "$n" --questions_file "$PLANNER_QUESTIONS"
    done
  fi
  start_rss_sampler
  bench "a: planner mix" "$STATE/a128.json" --streams 128 --questions_file "$PLANNER_QUESTIONS"
  stop_rss_sampler
  MEMORY+=("| planner (demo), 128 streams: peak VmRSS sampled / VmHWM | $(mib "$(sort -n "$STATE/rss" | tail -1)") / $(mib "$(rss_kib VmHWM)") |")
  stop_server
fi

if [[ " $SCENARIOS " == *" b "* || " $SCENARIOS " == *" c "* ]]; then
  start_fake_model
fi

if [[ " $SCENARIOS " == *" b "* ]]; then
  start_server model --demo --planner off --openai_base_url "$MODEL_URL"
  MEMORY+=("| model path (planner off), at rest | $(mib "$(rss_kib VmRSS)") |")
  for n in ${B_STREAMS:-1 32 64 128 256}; do
    [ "$n" = 128 ] && start_rss_sampler
    bench "b: model path (800 ms model)" "$STATE/b$n.json" --streams "$n" \
      --question "How many dogs did we see last month?"
    if [ "$n" = 128 ]; then
      stop_rss_sampler
      MEMORY+=("| model path, 128 streams: peak VmRSS sampled | $(mib "$(sort -n "$STATE/rss" | tail -1)") |")
    fi
  done
  MEMORY+=("| model path, after 256 streams: VmHWM | $(mib "$(rss_kib VmHWM)") |")
  stop_server
fi

if [[ " $SCENARIOS " == *" c "* ]]; then
  cat >"$STATE/practices.json" <<'EOF'
{"practices": [
  {"id": "flood", "name": "Flooding practice", "api_key": "flood-key-0123"},
  {"id": "victim", "name": "Victim practice", "api_key": "victim-key-0123"}
]}
EOF
  start_server fairness --practices "$STATE/practices.json" --openai_base_url "$MODEL_URL"
  "$BIN/vetctl" demo-data "$STATE/exports" >/dev/null 2>&1
  vetctl --practice flood --api_key flood-key-0123 import "$STATE/exports" >/dev/null
  vetctl --practice victim --api_key victim-key-0123 import "$STATE/exports" >/dev/null
  VICTIM=(--practice victim --api_key victim-key-0123 --streams 1 --question "What was our revenue last month?")
  bench "c: victim alone" "$STATE/c-alone.json" "${VICTIM[@]}"
  # The flood runs 2 s longer on both sides, so the victim's window is inside it.
  vetctl --json bench --practice flood --api_key flood-key-0123 --streams 6 \
    --question "cpu-heavy: spin the sandbox" --warmup "$WARMUP" --duration $((DURATION + 4)) \
    >"$STATE/c-flood.json" 2>"$STATE/c-flood.json.err" &
  FLOOD=$!
  sleep 2
  bench "c: victim under the flood" "$STATE/c-victim.json" "${VICTIM[@]}"
  wait "$FLOOD" || true
  [ -s "$STATE/c-flood.json" ] || cp "$STATE/c-flood.json.err" "$STATE/c-flood.json"
  row "c: flood (cpu-heavy, 2 s programs)" "$STATE/c-flood.json"
  stop_server
fi

if [ ${#MEMORY[@]} -gt 0 ]; then
  echo
  echo "| server memory (d) | |"
  echo "|---|---|"
  printf '%s\n' "${MEMORY[@]}"
fi
