#!/usr/bin/env bash
# Line and branch coverage of core/, server/ and clients/ (tests, test fakes,
# fuzz targets and benchmarks left out), read from a -DVET_COVERAGE=ON build
# with gcovr. Prints every file's line and branch coverage, the files under
# 85% of lines, and last one total per top folder ("core/ 95.2%"); fails when a
# folder is under its floor (COVERAGE_FLOORS, raised as tests are added, so
# coverage only goes up). Writes <build dir>/coverage/ (index.html, the
# per-file HTML, summary.json, coverage.txt).
#
#   bash scripts/coverage.sh                 # builds ./build-cov, runs ctest, reports
#   bash scripts/coverage.sh --report DIR    # reports what DIR's tests counted
#                                            # (scripts/test.sh: ./build-asan)
#   COVERAGE_FLOORS="core/=95 server/=93 clients/=90" bash scripts/coverage.sh
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
FLOORS=${COVERAGE_FLOORS:-core/=95 server/=94.4 clients/=97.2}
JOBS=${JOBS:-$(nproc)}

if [ "${1:-}" = "--report" ]; then
  BUILD_DIR=${2:?"--report needs the build folder"}
else
  BUILD_DIR=${COVERAGE_BUILD_DIR:-build-cov}
  t0=$SECONDS
  cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DVET_SANITIZE= \
    -DVET_COVERAGE=ON >/dev/null
  cmake --build "$BUILD_DIR" -j"$JOBS"
  echo "coverage: built in $((SECONDS - t0)) s"
  # Counts from an earlier run would add to this one's.
  find "$BUILD_DIR" -name '*.gcda' -delete
  t0=$SECONDS
  (cd "$BUILD_DIR" && ctest --output-on-failure --timeout 1800 -j"$JOBS")
  echo "coverage: tests ran in $((SECONDS - t0)) s"
fi
if ! find "$BUILD_DIR" -name '*.gcda' -print -quit | grep -q .; then
  echo "coverage: no counts in $BUILD_DIR: configure it with -DVET_COVERAGE=ON and run its tests" >&2
  exit 2
fi

t0=$SECONDS
OUT=$BUILD_DIR/coverage
rm -rf "$OUT" && mkdir -p "$OUT"
# Branches: those only an exception can take, and those the compiler proves
# unreachable, are left out (every call that may throw would add one).
# The build folder is where to search, not --object-directory: gcovr then
# runs gcov from where each object was compiled, which is what resolves the
# relative source paths a ccache with base_dir (or CCACHE_BASEDIR) records;
# with --object-directory it found no source and reported nothing.
# gcov writes its .gcov files into the working folder and gcovr removes them
# when done, but not when it stops on an error: clean up whatever happens.
trap 'rm -f "$ROOT"/*.gcov' EXIT
gcovr --root "$ROOT" -j "$JOBS" \
  --filter 'core/' --filter 'server/' --filter 'clients/' \
  --exclude '.*_test\.cc$' --exclude '.*_bench\.cc$' --exclude '.*/testing/.*' \
  --exclude 'clients/examples/.*' \
  --exclude-throw-branches --exclude-unreachable-branches \
  --gcov-ignore-parse-errors \
  --txt "$OUT/coverage.txt" --json-summary-pretty --json-summary "$OUT/summary.json" \
  --html-details "$OUT/index.html" --print-summary "$BUILD_DIR" >/dev/null

set +e
/usr/bin/python3 - "$OUT/summary.json" "$FLOORS" <<'EOF'
import json, sys

summary = json.load(open(sys.argv[1]))
floors = dict(f.split("=") for f in sys.argv[2].split())
files = sorted(summary["files"], key=lambda f: f["filename"])

def pct(covered, total):
    return 100.0 * covered / total if total else 100.0

print(f"{'file':<52} {'lines':>15} {'branches':>15}")
for f in files:
    print(f"{f['filename']:<52} {f['line_covered']:>6}/{f['line_total']:<5} "
          f"{pct(f['line_covered'], f['line_total']):5.1f}%"
          f" {pct(f['branch_covered'], f['branch_total']):6.1f}%")

under = [f for f in files if pct(f["line_covered"], f["line_total"]) < 85.0]
print()
print(f"files under 85% of lines: {len(under)}")
for f in under:
    print(f"  {f['filename']:<50} {pct(f['line_covered'], f['line_total']):5.1f}% "
          f"({f['line_total'] - f['line_covered']} lines not run)")

print()
failed = []
for folder in ("core/", "server/", "clients/"):
    mine = [f for f in files if f["filename"].startswith(folder)]
    if not mine:
        # Nothing read is not 100%: gcovr found no sources for the counts.
        failed.append(folder)
        print(f"{folder} no file measured: gcovr read no counts for it")
        continue
    lines = pct(sum(f["line_covered"] for f in mine), sum(f["line_total"] for f in mine))
    branches = pct(sum(f["branch_covered"] for f in mine), sum(f["branch_total"] for f in mine))
    floor = float(floors.get(folder, 0))
    mark = "" if lines >= floor else f"  UNDER its floor of {floor}%"
    if mark:
        failed.append(folder)
    print(f"{folder} {lines:.1f}% of lines, {branches:.1f}% of branches{mark}")
for folder in ("core/", "server/", "clients/"):
    mine = [f for f in files if f["filename"].startswith(folder)]
    if not mine:
        print(f"{folder} -")
        continue
    print(f"{folder} {pct(sum(f['line_covered'] for f in mine), sum(f['line_total'] for f in mine)):.1f}%")
sys.exit(1 if failed else 0)
EOF
status=$?
set -e
echo "coverage: report in $OUT/index.html ($((SECONDS - t0)) s)"
exit $status
