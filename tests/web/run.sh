#!/usr/bin/env bash
# ctest's web_console_test: installs playwright-core from the committed
# package-lock.json when needed (npm ci; CI has the npm registry), then runs
# console.test.mjs against the built server. Fails, never skips, when node,
# npm or chromium is missing.
set -euo pipefail
server_bin=$1
fake_model_bin=$2
here=$(cd "$(dirname "$0")" && pwd)
for tool in node npm; do
  command -v "$tool" >/dev/null || { echo "web console test: FAILED: $tool is missing (Node 20)" >&2; exit 1; }
done
chromium_bin=${CHROMIUM:-/usr/bin/chromium}
[ -x "$chromium_bin" ] || { echo "web console test: FAILED: no chromium at $chromium_bin (scripts/install-deps.sh installs it)" >&2; exit 1; }
cd "$here"
if [ ! -d node_modules/playwright-core ]; then
  npm ci --no-audit --no-fund
fi
exec node console.test.mjs "$server_bin" "$fake_model_bin" "$here/../.."
