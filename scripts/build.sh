#!/usr/bin/env bash
# Configures and builds vet-analytics into ./build (or $BUILD_DIR) with ccache.
# Extra arguments go to CMake's configure step. A folder configured with
# -DVET_SANITIZE=... or -DVET_COVERAGE=ON goes back to a plain build unless
# given again.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${BUILD_DIR:-build}
JOBS=${JOBS:-$(nproc)}
cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DVET_SANITIZE= -DVET_COVERAGE=OFF "$@"
cmake --build "$BUILD_DIR" -j"$JOBS"
