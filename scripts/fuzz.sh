#!/usr/bin/env bash
# Builds the libFuzzer targets (tests/fuzz/) with clang, AddressSanitizer and
# UndefinedBehaviorSanitizer into ./build-fuzz (or $FUZZ_BUILD_DIR), only the
# libraries they link, and runs each from its seed corpus for FUZZ_SECONDS
# (default 20) seconds. Exits non-zero if any target crashed, leaked, hit a
# sanitizer report or a timeout; the input that did it is in
# <build dir>/fuzz-artifacts/<target>/: fix the bug, then copy the input to
# tests/fuzz/regressions/<target>/ so the normal test suite replays it.
#   FUZZ_SECONDS=300 bash scripts/fuzz.sh            # longer runs
#   FUZZ_TARGETS="csv sse" bash scripts/fuzz.sh      # some targets only
# Inputs the fuzzer finds go to <build dir>/fuzz-corpus/<target>/ (kept between
# runs, never committed); the committed seeds in tests/fuzz/corpus/ are read only.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${FUZZ_BUILD_DIR:-build-fuzz}
FUZZ_SECONDS=${FUZZ_SECONDS:-20}
JOBS=${JOBS:-$(nproc)}
ALL_TARGETS="csv column_mapping import practices dotenv openai_reply sse extract_code
             runner_protocol question_parser check_wire"
read -r -a targets <<< "$(echo ${FUZZ_TARGETS:-$ALL_TARGETS})"

start=$SECONDS
cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_CXX_COMPILER=clang++ -DVET_FUZZ=ON -DVET_SANITIZE=address,undefined >/dev/null
cmake --build "$BUILD_DIR" -j"$JOBS" --target "${targets[@]/%/_fuzz}"
echo "fuzz: built ${#targets[@]} targets in $((SECONDS - start)) s"

export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1:suppressions=$PWD/tests/sanitizers/ubsan.supp}
failed=()
for t in "${targets[@]}"; do
  corpus="$BUILD_DIR/fuzz-corpus/$t"
  artifacts="$BUILD_DIR/fuzz-artifacts/$t"
  mkdir -p "$corpus" "$artifacts"
  seeds=(tests/fuzz/corpus/"$t")
  if [ -d "tests/fuzz/regressions/$t" ]; then seeds+=("tests/fuzz/regressions/$t"); fi
  log="$BUILD_DIR/fuzz-$t.log"
  # -timeout: one input taking 10 s is a hang worth a report. -max_len: the
  # parsers are line or token oriented; 64 KiB reaches every limit they have
  # at the sizes the fuzz targets set.
  if "$BUILD_DIR/tests/fuzz/${t}_fuzz" -max_total_time="$FUZZ_SECONDS" -timeout=10 \
       -max_len=65536 -rss_limit_mb=2048 -print_final_stats=1 \
       -artifact_prefix="$artifacts/" "$corpus" "${seeds[@]}" > "$log" 2>&1; then
    echo "fuzz: $t ok ($(grep -m1 -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$') runs," \
         "$(grep -o 'cov: [0-9]*' "$log" | tail -1))"
  else
    echo "fuzz: $t FAILED; last lines of $log:"
    tail -40 "$log"
    ls "$artifacts"
    failed+=("$t")
  fi
done
echo "fuzz: ${#targets[@]} targets, ${FUZZ_SECONDS} s each, done in $((SECONDS - start)) s"
if [ ${#failed[@]} -ne 0 ]; then
  echo "fuzz: FAILED: ${failed[*]}"
  exit 1
fi
