#!/usr/bin/env bash
# The README's test command, and CI's (.ci/run): installs what is needed, then
# runs the quality gates in turn, each printing what it took
# (docs/DEVELOPING.md has what each checks, costs and how to run it alone):
#   suite     builds everything with warnings as errors, AddressSanitizer +
#             UndefinedBehaviorSanitizer and coverage (./build-asan) and runs
#             every test under them, the fuzz regression inputs included;
#   coverage  line and branch coverage of what the suite ran, per file and per
#             folder, against each folder's floor (scripts/coverage.sh);
#   fuzz      each libFuzzer target for FUZZ_SECONDS (10) seconds (scripts/fuzz.sh);
#   tsan      ThreadSanitizer over the concurrency-heavy suites (scripts/tsan.sh);
#   lint      the house format and clang-tidy on the whole tree (scripts/lint.sh).
# Runs every gate, even after one fails, so one run shows them all; exits
# non-zero if any failed.
#   VET_GATES="suite coverage" bash scripts/test.sh   # some gates only
#   VET_SANITIZE= VET_COVERAGE=OFF bash scripts/test.sh   # the suite plain (./build)
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh

SANITIZE=${VET_SANITIZE-address,undefined}
COVERAGE=${VET_COVERAGE:-ON}
if [ -n "$SANITIZE" ] || [ "$COVERAGE" = ON ]; then
  DEFAULT_BUILD_DIR=build-asan
else
  DEFAULT_BUILD_DIR=build
fi
BUILD_DIR=${BUILD_DIR:-$DEFAULT_BUILD_DIR}
GATES=${VET_GATES:-suite coverage fuzz tsan lint}
export FUZZ_SECONDS=${FUZZ_SECONDS:-10}

suite() {
  local t0=$SECONDS
  if ! BUILD_DIR=$BUILD_DIR bash scripts/build.sh -DVET_WERROR=ON -DVET_SANITIZE="$SANITIZE" \
    -DVET_COVERAGE="$COVERAGE"; then
    built=no
    return 1
  fi
  echo "test.sh: suite build took $((SECONDS - t0)) s"
  # Counts left by an earlier run of this folder would add to this one's.
  find "$BUILD_DIR" -name '*.gcda' -delete
  (cd "$BUILD_DIR" && ctest --output-on-failure --timeout 1800 -j"${JOBS:-$(nproc)}")
}

start=$SECONDS
failed=()
built=yes
for gate in $GATES; do
  t0=$SECONDS
  echo "test.sh: gate $gate"
  # coverage and lint read what the suite built: nothing to read if it failed.
  if [ "$built" = no ] && { [ "$gate" = coverage ] || [ "$gate" = lint ]; }; then
    echo "test.sh: gate $gate skipped: the suite's build failed"
    failed+=("$gate")
    continue
  fi
  case $gate in
    suite) suite ;;
    coverage) bash scripts/coverage.sh --report "$BUILD_DIR" ;;
    fuzz) bash scripts/fuzz.sh ;;
    tsan) bash scripts/tsan.sh ;;
    lint) bash scripts/lint.sh "$BUILD_DIR" ;;
    *) echo "test.sh: unknown gate $gate (suite, coverage, fuzz, tsan, lint)"; exit 2 ;;
  esac && status=0 || status=$?
  if [ "$status" -eq 0 ]; then
    echo "test.sh: gate $gate passed in $((SECONDS - t0)) s"
  else
    echo "test.sh: gate $gate FAILED in $((SECONDS - t0)) s"
    failed+=("$gate")
  fi
done
if [ ${#failed[@]} -ne 0 ]; then
  echo "test.sh: FAILED gates: ${failed[*]} (of $GATES; $((SECONDS - start)) s)"
  exit 1
fi
echo "test.sh: all gates ($GATES) passed in $((SECONDS - start)) s"
