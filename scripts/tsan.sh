#!/usr/bin/env bash
# ThreadSanitizer over the concurrency-heavy suites: builds only their test
# binaries with -DVET_SANITIZE=thread into ./build-tsan (or $TSAN_BUILD_DIR)
# and runs each; any report fails it (TSAN_OPTIONS halt_on_error=1).
#
# Debian's Abseil is built without TSan, so TSan would not see absl::Mutex
# (which the project and gRPC use) lock and unlock, and would report a race
# on everything it guards. So the script first builds Debian's own Abseil
# source (apt-get source abseil, the installed version: same headers, same
# options, same sonames) with -fsanitize=thread, once, into
# <build dir>/absl/lib, and runs the tests with that on LD_LIBRARY_PATH.
#   TSAN_TESTS="common_test session_locks_test" bash scripts/tsan.sh
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
BUILD_DIR=${TSAN_BUILD_DIR:-build-tsan}
JOBS=${JOBS:-$(nproc)}
# The worker pool and cancellation (common_test), admission and the
# pipeline's cancellation, the budget stores under concurrency, the
# executors' queues, limiter and fair scheduler, session claims and locks,
# the replicated dataset cache, the batch tracer, and the Ask reactor through
# the real server.
DEFAULT_TESTS="common_test admission_test pipeline_test pipeline_concurrency_test
  budget_store_test sandbox_test fair_scheduler_test zygote_executor_test executor_conformance_test
  session_locks_test session_store_test data_shared_test telemetry_test
  ask_integration_test"
read -r -a tests <<< "$(echo ${TSAN_TESTS:-$DEFAULT_TESTS})"
start=$SECONDS

# 1. Abseil with TSan, once per installed version.
ABSL=$ROOT/$BUILD_DIR/absl
version=$(dpkg-query -W -f='${Version}' libabsl-dev)
if [ "$(cat "$ABSL/lib/.version" 2>/dev/null)" != "$version" ]; then
  rm -rf "$ABSL" && mkdir -p "$ABSL/apt/lists/partial" "$ABSL/apt/sources.list.d"
  # The source packages from the mirrors this machine installs from: each
  # of its package sources as a source-package one.
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] && sed 's/^Types:.*/Types: deb-src/' "$f" > "$ABSL/apt/sources.list.d/${f##*/}"
  done
  { grep -hE '^deb ' /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null || true; } |
    sed 's/^deb /deb-src /' > "$ABSL/apt/sources.list"
  # A mirror that answers 503 or stalls is retried, and the whole fetch is
  # bounded: a gate that cannot get its source fails saying so, never hangs.
  apt=(-o Dir::Etc::SourceList="$ABSL/apt/sources.list"
       -o Dir::Etc::SourceParts="$ABSL/apt/sources.list.d"
       -o Dir::State::Lists="$ABSL/apt/lists" -o Dir::Cache="$ABSL/apt/cache"
       -o Acquire::http::Timeout=30 -o Acquire::https::Timeout=30 -o Acquire::Retries=5)
  fetched=no
  for attempt in 1 2 3; do
    if timeout 600 apt-get "${apt[@]}" update -qq &&
       (cd "$ABSL" && timeout 600 apt-get "${apt[@]}" source --download-only -qq "abseil=$version"); then
      fetched=yes
      break
    fi
    echo "tsan: fetching Abseil's source failed (attempt $attempt of 3)"
    sleep 10
  done
  if [ "$fetched" != yes ]; then
    echo "tsan: could not fetch the source of abseil=$version from this machine's package" \
         "mirrors (deb-src of: $(grep -h '^URIs:' "$ABSL"/apt/sources.list.d/* 2>/dev/null |
         tr '\n' ' ')$(cut -d' ' -f2 "$ABSL/apt/sources.list" | tr '\n' ' '))"
    exit 1
  fi
  (cd "$ABSL" && dpkg-source -x abseil_*.dsc src >/dev/null)
  # Debian's own flags (debian/rules), plus TSan; line tables only, as in
  # the project's checking builds (cmake/VetSanitize.cmake).
  cmake -S "$ABSL/src" -B "$ABSL/build" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCMAKE_CXX_STANDARD=17 -DBUILD_SHARED_LIBS=ON -DBUILD_TESTING=OFF \
    -DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_CXX_FLAGS="-fsanitize=thread" \
    -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O2 -g1 -DNDEBUG" >/dev/null
  cmake --build "$ABSL/build" -j"$JOBS"
  mkdir -p "$ABSL/lib"
  find "$ABSL/build" -name 'libabsl_*.so*' -exec cp -a {} "$ABSL/lib/" \;
  echo "$version" > "$ABSL/lib/.version"
  echo "tsan: Abseil $version with TSan built in $((SECONDS - start)) s"
fi

# 2. The chosen suites with TSan.
build_start=$SECONDS
cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DVET_SANITIZE=thread >/dev/null
cmake --build "$BUILD_DIR" -j"$JOBS" --target "${tests[@]}"
echo "tsan: built ${#tests[@]} test binaries in $((SECONDS - build_start)) s"

# 3. Run them (from the source folder, as ctest does).
export LD_LIBRARY_PATH="$ABSL/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
export TSAN_OPTIONS=${TSAN_OPTIONS:-halt_on_error=1:second_deadlock_stack=1:suppressions=$ROOT/tests/sanitizers/tsan.supp}
run_start=$SECONDS
failed=()
for t in "${tests[@]}"; do
  bin=$(find "$BUILD_DIR" -type f -name "$t" -perm -u+x | head -1)
  log="$ROOT/$BUILD_DIR/tsan-$t.log"
  t0=$SECONDS
  if timeout 1200 "$bin" > "$log" 2>&1; then
    echo "tsan: $t ok ($(grep -m1 -o '\[  PASSED  \] [0-9]* tests' "$log"), $((SECONDS - t0)) s)"
  else
    echo "tsan: $t FAILED ($((SECONDS - t0)) s); first report in $log:"
    grep -m1 -A30 "WARNING: ThreadSanitizer\|\[  FAILED  \]" "$log" || tail -30 "$log"
    failed+=("$t")
  fi
done
echo "tsan: ran ${#tests[@]} binaries in $((SECONDS - run_start)) s; total $((SECONDS - start)) s"
if [ ${#failed[@]} -ne 0 ]; then
  echo "tsan: FAILED: ${failed[*]}"
  exit 1
fi
