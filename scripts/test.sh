#!/usr/bin/env bash
# The README's test command, and CI's (.ci/run): installs what is needed, then
# runs the quality gates in turn, each printing what it took (docs/QUALITY.md):
#   suite  builds everything with warnings as errors and AddressSanitizer +
#          UndefinedBehaviorSanitizer (./build-asan) and runs every test
#          under them, the fuzz regression inputs included;
#   fuzz   each libFuzzer target for FUZZ_SECONDS (10) seconds (scripts/fuzz.sh);
#   tsan   ThreadSanitizer over the concurrency-heavy suites (scripts/tsan.sh):
#          not run by default, it would take CI past its 60 minutes on 2
#          cores (docs/QUALITY.md has the numbers).
# Exits non-zero at the first gate that fails.
#   VET_GATES="suite fuzz tsan" bash scripts/test.sh   # all three
#   VET_GATES=suite bash scripts/test.sh               # the suite only
#   VET_SANITIZE= bash scripts/test.sh             # the suite without sanitizers (./build)
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh

SANITIZE=${VET_SANITIZE-address,undefined}
if [ -n "$SANITIZE" ]; then DEFAULT_BUILD_DIR=build-asan; else DEFAULT_BUILD_DIR=build; fi
BUILD_DIR=${BUILD_DIR:-$DEFAULT_BUILD_DIR}
GATES=${VET_GATES:-suite fuzz}
export FUZZ_SECONDS=${FUZZ_SECONDS:-10}

suite() {
  local t0=$SECONDS
  BUILD_DIR=$BUILD_DIR bash scripts/build.sh -DVET_WERROR=ON -DVET_SANITIZE="$SANITIZE"
  echo "test.sh: suite build took $((SECONDS - t0)) s"
  (cd "$BUILD_DIR" && ctest --output-on-failure --timeout 1800 -j"${JOBS:-$(nproc)}")
}

start=$SECONDS
for gate in $GATES; do
  t0=$SECONDS
  echo "test.sh: gate $gate"
  case $gate in
    suite) suite ;;
    tsan) bash scripts/tsan.sh ;;
    fuzz) bash scripts/fuzz.sh ;;
    *) echo "test.sh: unknown gate $gate (suite, fuzz, tsan)"; exit 2 ;;
  esac
  echo "test.sh: gate $gate passed in $((SECONDS - t0)) s"
done
echo "test.sh: all gates ($GATES) passed in $((SECONDS - start)) s"
