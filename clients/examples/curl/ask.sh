#!/usr/bin/env bash
# Ask vet-analytics through its HTTP/JSON gateway with curl: a question, a
# follow-up in the same session, the practice's budget, and an error's
# reason. POST /v1/ask answers text/event-stream: one server-sent event per
# AskEvent ("event:" its kind, "data:" the event in proto3 JSON), ending
# with "event: end" or "event: error". jq picks fields out of the JSON.
#
#   vet-analytics-server --demo --http_listen=127.0.0.1:8080
#   clients/examples/curl/ask.sh http://127.0.0.1:8080 [practice] [api key]
set -euo pipefail
base=${1:-http://127.0.0.1:8080}
practice=${2:-demo}
key=${3:-demo-key}
session=""

# ask QUESTION [SESSION]: streams the events, one line each; sets $session.
ask() {
  echo "> $1"
  local body event data
  # jq builds the JSON body, so a question with quotes stays valid JSON.
  body=$(jq -nc --arg p "$practice" --arg q "$1" --arg s "${2:-}" \
    '{practiceId: $p, question: $q, sessionId: $s}')
  # -N: print each event as it arrives instead of buffering the response.
  # A refusal before the first event comes back as a JSON error (HTTP 4xx/5xx,
  # --fail-with-body makes curl exit non-zero after printing it).
  while IFS= read -r line || [ -n "$line" ]; do
    case $line in
      "event: "*) event=${line#event: } ;;
      "data: "*)
        data=${line#data: }
        case $event in
          session_started)
            session=$(jq -r .sessionStarted.sessionId <<<"$data")
            echo "session $session turn $(jq -r .sessionStarted.turn <<<"$data")" ;;
          budget_check) echo "budget: $(jq -r .budgetCheck.message <<<"$data")" ;;
          code_generated) echo "code: $(jq -r .codeGenerated.summary <<<"$data")" ;;
          execution_output) echo "output: $(jq -r .executionOutput.text <<<"$data")" ;;
          artifact) echo "artifact: $(jq -r .artifact.name <<<"$data")" ;;
          final_answer) echo "answer: $(jq -r .finalAnswer.text <<<"$data")" ;;
          end) ;;
          error) echo "error: $(jq -r '.code + ": " + .message' <<<"$data")" >&2; return 1 ;;
          *) echo "$event" ;;
        esac ;;
      ":"*) ;;  # a comment line (": keepalive") while the answer computes
      "{"*) echo "error: $line" >&2; return 1 ;;  # refused before the first event
    esac
  done < <(curl -sSN --fail-with-body -H "x-api-key: $key" -H 'content-type: application/json' \
             "$base/v1/ask" -d "$body")
}

ask "What was our revenue by month last quarter?"
ask "and the quarter before?" "$session"

echo "> budget"
curl -sS --fail-with-body -H "x-api-key: $key" "$base/v1/budget?practice_id=$practice" |
  jq -r '"spent $\(.spentMicros | tonumber / 1e6) of $\(.limitMicros | tonumber / 1e6) this \(.period), resets \(.resetsAt)"'

# Errors are JSON with the gRPC code's HTTP status; details carry the
# google.rpc.ErrorInfo reason a program switches on.
echo "> a session that does not exist"
curl -sS -H "x-api-key: $key" "$base/v1/sessions/no-such-session?practice_id=$practice" |
  jq -r '"error: \(.code): \(.message)\n  reason: \(.details[] | select(."@type" | endswith("ErrorInfo")) | .reason)"'
