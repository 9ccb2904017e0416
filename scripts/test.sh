#!/usr/bin/env bash
# The README's test command: installs what is needed, builds with warnings as
# errors, and runs the whole test suite. Exits non-zero when a test fails.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
BUILD_DIR=${BUILD_DIR:-build} bash scripts/build.sh -DVET_WERROR=ON
cd "${BUILD_DIR:-build}"
ctest --output-on-failure --timeout 600 -j"${JOBS:-$(nproc)}"
