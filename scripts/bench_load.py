"""Times loading a practice's tables the way the sandbox does (runner.py's own
_load_tables), from CSV and from the columnar form, in this interpreter.
Usage: /usr/bin/python3 scripts/bench_load.py <csv_dir> <columnar_dir> [runs]
Run by scripts/bench-load.sh."""
import json
import os
import statistics
import subprocess
import sys
import time

RUNNER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..",
                      "core", "sandbox", "runner.py")


def load_runner():
    source = open(RUNNER, encoding="utf-8").read()
    assert source.rstrip().endswith("main()"), "runner.py must end with main()"
    namespace = {"__name__": "runner_bench"}
    exec(compile(source.rstrip()[:-len("main()")], RUNNER, "exec"), namespace)
    namespace["_import_libraries"]()
    return namespace


def timed(runs, fn):
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        value = fn()
        times.append(time.perf_counter() - start)
    return value, times


def report(label, times):
    print("%-42s min %7.3f s  median %7.3f s  (%s)" % (
        label, min(times), statistics.median(times),
        ", ".join("%.3f" % t for t in times)))


def main():
    csv_dir, columnar_dir = sys.argv[1], sys.argv[2]
    runs = int(sys.argv[3]) if len(sys.argv) > 3 else 3
    _, times = timed(runs, lambda: subprocess.run(
        [sys.executable, "-c", "import pandas"], check=True))
    report("baseline: python3 -c 'import pandas'", times)

    runner = load_runner()
    manifest = json.load(open(os.path.join(columnar_dir, "manifest.json")))
    spec = {t["name"]: [c["name"] for c in t["columns"]
                        if c["type"] in ("date", "datetime")]
            for t in manifest["tables"]}
    rows = {t["name"]: t["rows"] for t in manifest["tables"]}
    lines_only = {"invoice_lines": spec["invoice_lines"]}
    print("invoice_lines: %d rows" % rows["invoice_lines"])

    load = runner["_load_tables"]
    from_csv, times = timed(runs, lambda: load(csv_dir, lines_only))
    report("invoice_lines from CSV (read_csv)", times)
    from_columnar, times = timed(runs, lambda: load(columnar_dir, lines_only))
    report("invoice_lines from columnar (np.load)", times)
    _, times = timed(runs, lambda: load(csv_dir, spec))
    report("all five tables from CSV", times)
    _, times = timed(runs, lambda: load(columnar_dir, spec))
    report("all five tables from columnar", times)

    import pandas as pd
    a, b = from_csv["invoice_lines"], from_columnar["invoice_lines"]
    pd.testing.assert_frame_equal(a, b[a.columns], check_exact=True)
    print("invoice_lines frames equal (dtypes and values): yes")


main()
