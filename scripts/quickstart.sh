#!/usr/bin/env bash
# The README's first command: installs what is needed, builds, starts the
# server on its embedded defaults (demo practice, offline planner, no API key,
# no network) and asks it a question with vetctl. The server keeps running in
# the background; the script prints how to stop it.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/build.sh
BIN=$PWD/build/bin
STATE_DIR=${VET_STATE_DIR:-$PWD/build/state}
LISTEN=${VET_LISTEN:-127.0.0.1:50051}
LOG=$STATE_DIR/server.log
mkdir -p "$STATE_DIR"

if "$BIN/vetctl" --addr "$LISTEN" --timeout 2 budget >/dev/null 2>&1; then
  echo "quickstart: a server already answers on $LISTEN; using it"
else
  echo "quickstart: starting vet-analytics-server --demo on $LISTEN (log: $LOG)"
  nohup "$BIN/vet-analytics-server" --demo --listen "$LISTEN" --state_dir "$STATE_DIR" \
    >"$LOG" 2>&1 &
  PID=$!
  for _ in $(seq 1 600); do
    if "$BIN/vetctl" --addr "$LISTEN" --timeout 2 budget >/dev/null 2>&1; then break; fi
    if ! kill -0 "$PID" 2>/dev/null; then
      echo "quickstart: the server exited; its log:" >&2
      cat "$LOG" >&2
      exit 1
    fi
    sleep 0.2
  done
  echo "quickstart: server running (pid $PID); stop it with: kill $PID"
fi

"$BIN/vetctl" --addr "$LISTEN" --practice demo ask "What was our revenue trend last quarter?"
