#!/usr/bin/env bash
# The static gate: every C++ file of the tree in the house format
# (clang-format, .clang-format; clients/ has its own), then clang-tidy
# (.clang-tidy: bugprone-*, performance-*, the readability-* the house agrees
# with) clean on every .cc file of core/, server/, clients/ and tests/, headers
# included through them. Needs a configured and built folder for the compile
# commands and the generated headers (default ./build; scripts/test.sh passes
# the suite's).
#   bash scripts/lint.sh [BUILD_DIR]
#   LINT_FILES="core/data/csv.cc server/wire.cc" bash scripts/lint.sh   # some files
#   bash scripts/format.sh --check   # the format of what a change touched only
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${1:-build}
JOBS=${JOBS:-$(nproc)}
tidy=$(command -v clang-tidy-14 || command -v clang-tidy || true)
formatter=$(command -v clang-format-14 || command -v clang-format || true)
if [ -z "$tidy" ] || [ -z "$formatter" ]; then
  echo "lint: clang-tidy and clang-format are needed (bash scripts/install-deps.sh)" >&2
  exit 2
fi
if [ ! -f "$BUILD_DIR/compile_commands.json" ]; then
  echo "lint: no $BUILD_DIR/compile_commands.json: build first (bash scripts/build.sh)" >&2
  exit 2
fi
start=$SECONDS
status=0

# 1. Format: the whole tree, so a file is never half in the house style.
mapfile -t sources < <(git ls-files '*.cc' '*.h')
unformatted=()
for f in "${sources[@]}"; do
  if ! "$formatter" --dry-run --Werror "$f" >/dev/null 2>&1; then unformatted+=("$f"); fi
done
if [ ${#unformatted[@]} -ne 0 ]; then
  echo "lint: ${#unformatted[@]} files are not in the house format (clang-format -i FILE fixes one):"
  printf '  %s\n' "${unformatted[@]}"
  "$formatter" --dry-run "${unformatted[0]}" 2>&1 | head -20
  status=1
else
  echo "lint: ${#sources[@]} files in the house format ($((SECONDS - start)) s)"
fi

# 2. clang-tidy over every .cc file the build compiles, two at a time per core.
t0=$SECONDS
if [ -n "${LINT_FILES:-}" ]; then
  read -r -a files <<< "$LINT_FILES"
else
  mapfile -t files < <(git ls-files 'core/*.cc' 'server/*.cc' 'clients/*.cc' 'tests/*.cc' |
                       grep -v '^clients/examples/')
fi
# Only files in the compile commands (a fuzz target is not in a g++ build).
mapfile -t files < <(/usr/bin/python3 - "$BUILD_DIR/compile_commands.json" "${files[@]}" <<'EOF'
import json, os, sys
known = {os.path.realpath(e["file"]) for e in json.load(open(sys.argv[1]))}
for f in sys.argv[2:]:
    if os.path.realpath(f) in known:
        print(f)
EOF
)
# The compile commands are g++'s: clang does not know some of its warning
# options (-Wno-maybe-uninitialized in tests/CMakeLists.txt), which is no
# finding of the code's.
log=$BUILD_DIR/clang-tidy.log
: > "$log"
if ! printf '%s\n' "${files[@]}" |
     xargs -P "$JOBS" -n 4 "$tidy" -p "$BUILD_DIR" --quiet \
       --extra-arg=-Wno-unknown-warning-option >>"$log" 2>&1; then
  grep -E "(warning|error): " "$log" | sort -u | head -100
  echo "lint: clang-tidy found the above in ${#files[@]} files (all of it in $log)"
  status=1
else
  echo "lint: clang-tidy clean on ${#files[@]} files ($((SECONDS - t0)) s)"
fi
echo "lint: done in $((SECONDS - start)) s"
exit $status
