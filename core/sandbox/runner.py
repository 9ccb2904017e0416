# The Python half of the sandbox protocol, embedded into the C++ binary and
# run as `/usr/bin/python3 -I -B -u -c <this file> <spec-json>`.
#
# Protocol of one execution (core/sandbox/subprocess_executor.cc runs an
# interpreter per question with it; the forking zygote below, which
# core/sandbox/zygote_executor.cc starts per practice, hands each question's
# child the same spec and speaks it over the descriptors it passes):
#   argv[1]  the spec: {"data_dir": str, "tables": {name: [date columns]},
#            "max_rows", "max_charts", "max_chart_bytes", "max_result_bytes",
#            "max_csv_rows", "max_csv_bytes"},
#            data_dir holds either <table>.csv files or, when it has a
#            manifest.json, the columnar form (core/data/columnar_store.h),
#            whose types say which columns are dates.
#            or {"probe": true} to check the interpreter and warm matplotlib's
#            font cache in MPLCONFIGDIR.
#   fd 0     the generated code (UTF-8), read to EOF before anything runs.
#   fd 1, 2  the code's own output, unbuffered, streamed by the caller.
#   fd 3     one JSON document, written once at the end:
#              {"status": "ok", "result": {...}, "answer": str, "charts": [...],
#               "table_csv": {"rows": int, "data": base64},  (table results)
#               "explanation": {...},  (when the code set one, see _explanation)
#               "declined": str}  (when the code set `decline`: no result)
#              {"status": "error", "error": {"type", "message", "line"}}
#              {"status": "fatal", "stage": str, "error": {...}}  (not the code's fault)
#
# Results are capped here, before serialising: serialising a 200 MB frame takes
# about a second and would blow the caller's read limit anyway.
#
# A table result also comes whole (up to max_csv_rows rows and max_csv_bytes)
# as CSV in `table_csv`: the server sends at most ~768 KiB of the table in the
# answer itself (core/sandbox/supervisor.cc) and, when that is not all of it,
# this CSV as the artifact result.csv. Its cells are not cut.
import os
import sys

# Before numpy is imported: a process limit counts threads, and one request
# must not fan out over every core.
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
             "NUMEXPR_NUM_THREADS", "NUMEXPR_MAX_THREADS"):
    os.environ[_var] = "1"
os.environ["MPLBACKEND"] = "Agg"

import base64
import builtins
import datetime
import decimal
import io
import json
import math
import re
import time
import traceback
import types

MAX_MESSAGE_CHARS = 500
# A sentence, not a report.
MAX_ANSWER_CHARS = 20000
# One cell is a value, not a document; keeps a single row from eating the cap.
MAX_CELL_CHARS = 10000
# Wider than any table a person reads; converting more would be slow.
MAX_COLUMNS = 1000


class CodeFailure(Exception):
    """A problem with what the code produced, reported like an exception."""

    def __init__(self, type_name, message):
        super().__init__(message)
        self.type_name = type_name


def _short(text, limit=MAX_MESSAGE_CHARS):
    text = str(text)
    return text if len(text) <= limit else text[:limit - 1] + "\u2026"


def _error_doc(exc):
    if isinstance(exc, CodeFailure):
        return {"type": exc.type_name, "message": _short(exc), "line": 0}
    line = 0
    if isinstance(exc, SyntaxError) and exc.filename == "<generated>":
        line = exc.lineno or 0
    for frame in traceback.extract_tb(exc.__traceback__):
        if frame.filename == "<generated>":
            line = frame.lineno or 0  # the innermost frame in the code wins
    if isinstance(exc, SyntaxError):
        message = exc.msg or "invalid syntax"
    elif isinstance(exc, SystemExit):
        message = "the code called exit(); set `result` instead"
    else:
        message = str(exc)
    type_name = "MemoryError" if isinstance(exc, MemoryError) else type(exc).__name__
    return {"type": type_name, "message": _short(message), "line": int(line)}


# pandas and numpy, imported by _import_libraries() inside a try, so that a
# broken installation is reported through the protocol, not as a crash.
pd = None
np = None


def _import_libraries():
    global pd, np
    import numpy
    import pandas
    np, pd = numpy, pandas


# ---------------------------------------------------------------- loading ---

# The columnar form (core/data/columnar_store.h): numpy arrays per column, no
# parsing. Built to give the same frames as the CSV path below: object columns
# of str with NaN for nulls, datetime64[ns] with NaT, int64 (float64 when a
# value is missing, as read_csv does), float64.
_NS_PER_UNIT = {"date": 86400 * 10**9, "datetime": 10**9}
# The datetime64[ns] range, in days and seconds; beyond it pd.to_datetime
# (errors="coerce") gives NaT, and so does this.
_LIMIT_UNITS = {"date": 106751, "datetime": 9223372036}


class _DataDir:
    """The practice's folder, opened once; files are opened relative to it.
    In the zygote it is a descriptor the server passed in: the folder is not
    mounted in the sandbox at all, and no path outside it can be named."""

    def __init__(self, fd):
        self.fd = fd

    @classmethod
    def at_path(cls, path):
        return cls(os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC))

    def exists(self, name):
        try:
            os.stat(name, dir_fd=self.fd)
            return True
        except FileNotFoundError:
            return False

    def open(self, name, mode="rb", **kwargs):
        fd = os.open(name, os.O_RDONLY | os.O_CLOEXEC, dir_fd=self.fd)
        return open(fd, mode, **kwargs)

    def close(self):
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1


def _load_npy(data, name):
    with data.open(name) as f:
        return np.load(f, allow_pickle=False)


def _load_columnar_column(data, base, column):
    values = _load_npy(data, base + ".npy")
    valid = None
    if column["has_nulls"]:
        valid = _load_npy(data, base + ".valid.npy").astype(bool)
    storage, kind = column["storage"], column["type"]
    if storage == "dict":
        with data.open(base + ".dict", "r", encoding="utf-8", errors="replace") as f:
            dictionary = np.asarray(json.load(f) + [np.nan], dtype=object)
        # Nulls are stored as -1: the NaN appended last.
        return dictionary[values]
    if storage == "float64":
        return values
    if kind in _NS_PER_UNIT:
        limit = _LIMIT_UNITS[kind]
        out = values * _NS_PER_UNIT[kind]
        bad = (values < -limit) | (values > limit)
        if valid is not None:
            bad |= ~valid
        if bad.any():
            out[bad] = np.iinfo(np.int64).min  # NaT
        return out.view("datetime64[ns]")
    if valid is not None and not valid.all():
        out = values.astype(np.float64)
        out[~valid] = np.nan
        return out
    return values


def _load_columnar(data, names):
    with data.open("manifest.json", "r", encoding="utf-8") as f:
        manifest = json.load(f)
    tables = {}
    for table in manifest["tables"]:
        name = table["name"]
        if name not in names:
            continue
        columns = {}
        for column in table["columns"]:
            columns[column["name"]] = _load_columnar_column(
                data, name + "/" + column["name"], column)
        tables[name] = pd.DataFrame(columns, index=pd.RangeIndex(table["rows"]))
    return tables


def _load_tables(data, table_spec):
    if data.exists("manifest.json"):
        return _load_columnar(data, table_spec)
    tables = {}
    for name, date_columns in table_spec.items():
        path = name + ".csv"
        if not data.exists(path):
            continue
        with data.open(path) as f:
            header = pd.read_csv(f, nrows=0, encoding="utf-8-sig").columns
        # Ids stay strings: "0042" is not 42, and a join on a float id fails.
        dtypes = {c: str for c in header
                  if c.endswith("_id") or c in ("invoice_id", "item_code")}
        with data.open(path) as f:
            frame = pd.read_csv(f, dtype=dtypes, encoding="utf-8-sig",
                                encoding_errors="replace")
        for column in date_columns:
            if column in frame.columns:
                frame[column] = pd.to_datetime(frame[column], errors="coerce")
        tables[name] = frame
    return tables


class _LazyPyplot(types.ModuleType):
    """`plt` in the namespace; importing pyplot costs 0.2-0.5 s, so only code
    that draws pays for it."""

    def __getattr__(self, name):
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as real
        return getattr(real, name)


# ----------------------------------------------------------- serialising ---

def _is_null(value):
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    try:
        if isinstance(value, (float, np.floating)):
            return math.isnan(value)
        if isinstance(value, np.datetime64):
            return np.isnat(value)
    except (TypeError, ValueError):
        return False
    return False


def _finite_or_none(value):
    value = float(value)
    return value if math.isfinite(value) else None


def _text(value):
    text = str(value)
    return text if len(text) <= MAX_CELL_CHARS else text[:MAX_CELL_CHARS - 1] + "\u2026"


def _datetime_column(series):
    if getattr(series.dt, "tz", None) is not None:
        series = series.dt.tz_localize(None)  # keep the practice's wall time
    present = series.dropna()
    # All at midnight: a date (invoiced_on, or a month from dt.to_timestamp()).
    is_date = len(present) > 0 and bool((present == present.dt.normalize()).all())
    fmt = "%Y-%m-%d" if is_date else "%Y-%m-%dT%H:%M:%S"
    values = [None if _is_null(v) else v for v in series.dt.strftime(fmt).tolist()]
    return ("date" if is_date else "datetime"), values


def _object_column(values):
    present = [v for v in values if not _is_null(v)]

    def all_of(predicate):
        return bool(present) and all(predicate(v) for v in present)

    is_bool = lambda v: isinstance(v, (bool, np.bool_))
    if all_of(is_bool):
        return "bool", [None if _is_null(v) else bool(v) for v in values]
    if all_of(lambda v: isinstance(v, (int, np.integer)) and not is_bool(v)):
        return "integer", [None if _is_null(v) else int(v) for v in values]
    if all_of(lambda v: isinstance(v, (int, float, decimal.Decimal, np.integer, np.floating))
              and not is_bool(v)):
        return "number", [None if _is_null(v) else _finite_or_none(v) for v in values]
    if all_of(lambda v: isinstance(v, (datetime.datetime, np.datetime64))):
        return _datetime_column(pd.Series(pd.to_datetime(values, errors="coerce")))
    if all_of(lambda v: isinstance(v, datetime.date)):
        return "date", [None if _is_null(v) else v.isoformat() for v in values]
    return "text", [None if _is_null(v) else _text(v) for v in values]


def _cut_cells(kind, series):
    """Per value of a column of this kind: 1 where _text cut it, else 0."""
    if kind != "text":
        return [0] * len(series)
    return [int(not _is_null(v) and len(str(v)) > MAX_CELL_CHARS)
            for v in series.astype(object)]


def _column(series):
    """(type, cells) for one column of at most max_rows values."""
    kind = series.dtype
    api = pd.api.types
    if api.is_bool_dtype(kind):
        return "bool", [None if _is_null(v) else bool(v) for v in series.astype(object)]
    if api.is_integer_dtype(kind):
        return "integer", [None if _is_null(v) else int(v) for v in series.astype(object)]
    if api.is_float_dtype(kind):
        return "number", [None if _is_null(v) else _finite_or_none(v)
                          for v in series.astype(object)]
    if api.is_datetime64_any_dtype(kind):
        return _datetime_column(series)
    # object, string, category, period, timedelta...: look at the values.
    return _object_column(series.astype(object).tolist())


def _index_is_meaningful(index, of_series):
    if isinstance(index, pd.MultiIndex) or any(n is not None for n in index.names):
        return True
    if isinstance(index, pd.RangeIndex):
        return False
    if not pd.api.types.is_integer_dtype(index.dtype):
        return True  # labels, dates, value_counts() of a category: data
    # On a DataFrame an unnamed integer index is the source table's row
    # labels, left by filtering or sorting. On a Series it may be data
    # (value_counts() of an integer column) and cannot be told apart from
    # labels: an extra column is better than lost values.
    return of_series


def _column_name(label):
    if isinstance(label, tuple):  # MultiIndex columns: ("amount", "sum")
        return "_".join(str(p) for p in label if str(p) != "")
    return str(label)


def _named_columns(head, of_series):
    """[(unique name, series)]: the meaningful index levels, then the columns."""
    named_columns = []
    if _index_is_meaningful(head.index, of_series):
        levels = head.index.nlevels
        for i in range(levels):
            name = head.index.names[i]
            if name is None:
                name = "index" if levels == 1 else "level_%d" % i
            named_columns.append((_column_name(name),
                                  pd.Series(head.index.get_level_values(i))))
    for i, label in enumerate(head.columns):
        named_columns.append((_column_name(label), head.iloc[:, i].reset_index(drop=True)))
    unique_columns, seen = [], set()
    for name, series in named_columns:
        unique, n = name, 1
        while unique in seen:
            n += 1
            unique = "%s_%d" % (name, n)
        seen.add(unique)
        unique_columns.append((unique, series))
    return unique_columns


def _table(obj, max_rows, max_csv_rows=0):
    """The table document of at most max_rows rows. Two members are taken
    out before it is serialised: "_cut_per_row", the cells _text cut in each
    row, and, with max_csv_rows, "_csv_source", the columns of up to that
    many rows for _csv."""
    of_series = isinstance(obj, pd.Series)
    if of_series:
        obj = obj.to_frame(name=_column_name(obj.name) if obj.name is not None else "value")
    if obj.shape[1] > MAX_COLUMNS:
        raise CodeFailure("ResultTooLarge",
                          "the result has %d columns; at most %d are allowed"
                          % (obj.shape[1], MAX_COLUMNS))
    total_rows = len(obj)
    named_columns = _named_columns(obj.iloc[:max(max_rows, max_csv_rows)], of_series)
    head_rows = min(max_rows, total_rows)
    columns, cells, cut_per_row = [], [], [0] * head_rows
    for name, series in named_columns:
        head = series.iloc[:max_rows]
        kind, values = _column(head)
        cut_per_row = [a + b for a, b in zip(cut_per_row, _cut_cells(kind, head))]
        columns.append({"name": name, "type": kind})
        cells.append(values)
    rows = [list(r) for r in zip(*cells)] if cells else [[] for _ in range(head_rows)]
    doc = {"kind": "table", "columns": columns, "rows": rows, "total_rows": int(total_rows),
           "_cut_per_row": cut_per_row}
    if max_csv_rows > 0:
        doc["_csv_source"] = named_columns
    return doc


def _csv_series(series):
    """A column as _csv writes it: dates and datetimes formatted as in the
    table document (decided over the whole column, not per piece)."""
    if pd.api.types.is_datetime64_any_dtype(series.dtype):
        _, values = _datetime_column(series)
        return pd.Series(values, dtype=object)
    return series


def _csv(named_columns, max_rows, max_bytes):
    """(UTF-8 bytes, rows): the columns as CSV, header first, then as many
    rows as max_rows and max_bytes allow, whole rows only. A byte-order mark
    first, so that spreadsheet programs read accented names right; CRLF line
    ends (RFC 4180); nulls are empty; cells are never cut."""
    frame = pd.DataFrame({i: _csv_series(series.iloc[:max_rows])
                          for i, (_, series) in enumerate(named_columns)})
    frame.columns = [name for name, _ in named_columns]

    def encode(piece, header):
        return piece.to_csv(index=False, header=header,
                            lineterminator="\r\n").encode("utf-8", "replace")

    parts = [b"\xef\xbb\xbf", encode(frame.iloc[:0], True)]
    size = len(parts[0]) + len(parts[1])
    rows, step = 0, 1000
    # Pieces of `step` rows; a piece that would pass max_bytes is retried
    # in halves, so the cut falls on a row without formatting row by row.
    while rows < len(frame):
        piece = encode(frame.iloc[rows:rows + step], False)
        if size + len(piece) <= max_bytes:
            parts.append(piece)
            size += len(piece)
            rows = min(len(frame), rows + step)
        elif step > 1:
            step //= 2
        else:
            break
    return b"".join(parts), rows


def _scalar_number(value):
    value = float(value)
    return value  # NaN and infinities travel as JSON NaN/Infinity


def _result_doc(value, unit, max_rows, max_csv_rows=0):
    if isinstance(value, dict) and "type" in value and "value" in value:
        unit = value.get("unit", unit)
        kind = value["type"]
        inner = value["value"]
        if kind == "number":
            if isinstance(inner, (bool, np.bool_)) or not isinstance(
                    inner, (int, float, decimal.Decimal, np.integer, np.floating)):
                raise CodeFailure("BadResult", "result['value'] must be a number "
                                  "when result['type'] is 'number', not %s"
                                  % type(inner).__name__)
            doc = {"kind": "number", "number": _scalar_number(inner)}
        elif kind == "text":
            doc = {"kind": "text", "text": str(inner)}
        elif kind == "table":
            if not isinstance(inner, (pd.DataFrame, pd.Series)):
                inner = pd.DataFrame(inner)
            doc = _table(inner, max_rows, max_csv_rows)
        else:
            raise CodeFailure("BadResult", "result['type'] must be 'number', 'text' "
                              "or 'table', not %r" % (kind,))
    elif isinstance(value, (pd.DataFrame, pd.Series)):
        doc = _table(value, max_rows, max_csv_rows)
    elif isinstance(value, pd.Index):
        doc = _table(value.to_series(index=None).reset_index(drop=True), max_rows, max_csv_rows)
    elif isinstance(value, (bool, np.bool_)):
        doc = {"kind": "text", "text": str(bool(value))}
    elif isinstance(value, (int, float, decimal.Decimal, np.integer, np.floating)):
        doc = {"kind": "number", "number": _scalar_number(value)}
    elif isinstance(value, str):
        doc = {"kind": "text", "text": value}
    elif isinstance(value, (datetime.date, pd.Timestamp)):
        doc = {"kind": "text", "text": value.isoformat()}
    elif isinstance(value, dict):
        series = pd.Series(value, name="value", dtype=object)
        series.index.name = "name"
        doc = _table(series, max_rows, max_csv_rows)
    elif isinstance(value, (list, tuple, np.ndarray)):
        if len(value) and all(isinstance(v, dict) for v in value):
            doc = _table(pd.DataFrame(list(value)), max_rows, max_csv_rows)
        elif isinstance(value, np.ndarray) and value.ndim == 2:
            doc = _table(pd.DataFrame(value), max_rows, max_csv_rows)
        else:
            doc = _table(pd.Series(list(value), name="value"), max_rows, max_csv_rows)
    else:
        doc = {"kind": "text", "text": str(value)}
    # `unit` may be a variable the code used for something else: only a
    # string counts.
    if isinstance(unit, str) and unit:
        doc["unit"] = _short(unit, 64)
    return doc


EXPLANATION_TEXTS = ("metric", "definition", "counted")
EXPLANATION_LISTS = ("filters", "excluded", "notes")
EXPLANATION_PERIODS = ("period", "compared")
MAX_EXPLANATION_CHARS = 300
MAX_EXPLANATION_ITEMS = 20


def _explanation(value):
    """The code's `explanation`, kept to what the protocol carries: strings
    for metric, definition and counted; lists of strings for filters,
    excluded and notes; {"start", "end", "text"} for period and compared.
    Anything else in it (or an `explanation` that is not a dict: a model may
    use the name for its own purpose) is left out, never an error."""
    if not isinstance(value, dict):
        return None
    out = {}
    for key in EXPLANATION_TEXTS:
        if isinstance(value.get(key), str) and value[key]:
            out[key] = _short(value[key], MAX_EXPLANATION_CHARS)
    for key in EXPLANATION_LISTS:
        items = value.get(key)
        if isinstance(items, (list, tuple)):
            kept = [_short(v, MAX_EXPLANATION_CHARS) for v in items if isinstance(v, str) and v]
            if kept:
                out[key] = kept[:MAX_EXPLANATION_ITEMS]
    for key in EXPLANATION_PERIODS:
        period = value.get(key)
        if isinstance(period, dict):
            kept = {k: _short(period[k], MAX_EXPLANATION_CHARS)
                    for k in ("start", "end", "text") if isinstance(period.get(k), str)}
            if kept:
                out[key] = kept
    return out or None


_MONTH = re.compile(r"^[0-9]{4}-[0-9]{2}$")


def _apply_units(doc, units):
    """A table's columns take their units from the code's `units`
    ({column: unit}); a date column whose unit is "month" holds months, and
    its cells are written YYYY-MM."""
    if doc.get("kind") != "table" or not isinstance(units, dict):
        return
    for i, column in enumerate(doc["columns"]):
        unit = units.get(column["name"])
        if not isinstance(unit, str) or not unit:
            continue
        column["unit"] = _short(unit, 32)
        if unit != "month":
            continue
        if column["type"] in ("date", "datetime"):
            column["type"] = "month"
            for row in doc["rows"]:
                if isinstance(row[i], str):
                    row[i] = row[i][:7]
        elif column["type"] == "text" and all(
                row[i] is None or (isinstance(row[i], str) and _MONTH.match(row[i]))
                for row in doc["rows"]):
            column["type"] = "month"


def _dumps(doc):
    return json.dumps(doc, ensure_ascii=False, allow_nan=True, separators=(",", ":"))


def _capped_result(doc, max_bytes):
    """Shrinks a result that would serialise past max_bytes; rows go first."""
    size = len(_dumps(doc).encode("utf-8", "replace"))
    if size <= max_bytes:
        return doc
    if doc["kind"] == "text":
        keep = max(0, len(doc["text"]) * max_bytes // size - 1024)
        doc["text"] = doc["text"][:keep] + "\u2026"
        return doc
    if doc["kind"] == "table":
        for _ in range(8):
            keep = int(len(doc["rows"]) * max_bytes / size * 0.9)
            doc["rows"] = doc["rows"][:keep]
            size = len(_dumps(doc).encode("utf-8", "replace"))
            if size <= max_bytes:
                return doc
    raise CodeFailure("ResultTooLarge", "the result is larger than %d bytes even "
                      "when shortened; return fewer or narrower columns" % max_bytes)


def _charts(max_charts, max_chart_bytes):
    if "matplotlib.pyplot" not in sys.modules:
        return []
    plt = sys.modules["matplotlib.pyplot"]
    charts, dropped = [], 0
    for number in plt.get_fignums():
        if len(charts) >= max_charts:
            dropped += 1
            continue
        figure = plt.figure(number)
        png = b""
        for dpi in (100, 50):  # a smaller image beats no image
            buffer = io.BytesIO()
            figure.savefig(buffer, format="png", dpi=dpi)
            png = buffer.getvalue()
            if len(png) <= max_chart_bytes:
                break
        if len(png) > max_chart_bytes:
            dropped += 1
            continue
        charts.append({"name": "chart_%d.png" % (len(charts) + 1),
                       "mime_type": "image/png",
                       "data": base64.b64encode(png).decode("ascii")})
    plt.close("all")
    if dropped:
        sys.stderr.write("note: %d chart(s) dropped (at most %d charts of %d bytes)\n"
                         % (dropped, max_charts, max_chart_bytes))
    return charts


# ------------------------------------------------------------------ main ---

def _probe():
    import matplotlib
    import numpy
    import pandas
    matplotlib.use("Agg")
    import matplotlib.pyplot  # noqa: F401  builds the font cache in MPLCONFIGDIR
    return {"status": "ok", "versions": {
        "python": sys.version.split()[0], "pandas": pandas.__version__,
        "numpy": numpy.__version__, "matplotlib": matplotlib.__version__}}


def _read_code(fd=0):
    chunks = []
    while True:
        chunk = os.read(fd, 1 << 16)
        if not chunk:
            break
        chunks.append(chunk)
    return b"".join(chunks).decode("utf-8", "replace")


def _execute(code, tables, spec):
    """Runs the code against `tables` and returns the result document."""
    namespace = {"__name__": "__main__", "__builtins__": builtins,
                 "pd": pd, "np": np, "plt": _LazyPyplot("matplotlib.pyplot"),
                 "tables": tables}
    namespace.update(tables)
    try:
        exec(compile(code, "<generated>", "exec"), namespace)
    except BaseException as exc:  # SystemExit and KeyboardInterrupt included
        return {"status": "error", "error": _error_doc(exc)}

    sys.stdout.flush()
    sys.stderr.flush()
    # The code found that the data cannot answer the question as asked (a
    # staff name that matches no one): the question is declined with the
    # code's reason rather than answered with a zero.
    decline = namespace.get("decline")
    if isinstance(decline, str) and decline.strip():
        return {"status": "ok", "declined": _short(decline.strip()),
                "result": {"kind": "text", "text": ""}, "answer": "", "charts": []}
    try:
        if namespace.get("result") is None:
            raise CodeFailure(
                "NoResult",
                "the code did not set `result`; assign the final value to a variable "
                "named result: a number, a string, a DataFrame or Series, or "
                "{\"type\": \"number\"|\"text\"|\"table\", \"value\": ..., \"unit\": ...}")
        max_csv_rows = int(spec.get("max_csv_rows", 0))
        result = _result_doc(namespace["result"], namespace.get("unit"),
                             int(spec["max_rows"]), max_csv_rows)
        _apply_units(result, namespace.get("units"))
        csv_source = result.pop("_csv_source", None)
        cut_per_row = result.pop("_cut_per_row", None)
        result = _capped_result(result, int(spec["max_result_bytes"]))
        if cut_per_row is not None:
            # Counted over the rows _capped_result kept.
            result["cut_cells"] = sum(cut_per_row[:len(result["rows"])])
        answer = namespace.get("answer")
        answer = "" if answer is None else _short(answer, MAX_ANSWER_CHARS)
        charts = _charts(int(spec["max_charts"]), int(spec["max_chart_bytes"]))
        doc = {"status": "ok", "result": result, "answer": answer, "charts": charts}
        explanation = _explanation(namespace.get("explanation"))
        if explanation is not None:
            doc["explanation"] = explanation
        if csv_source is not None:
            data, rows = _csv(csv_source, max_csv_rows, int(spec.get("max_csv_bytes", 0)))
            doc["table_csv"] = {"rows": rows, "data": base64.b64encode(data).decode("ascii")}
    except BaseException as exc:
        return {"status": "error", "error": _error_doc(exc)}
    return doc


def _run(spec):
    """One-shot mode: load the tables, run the code from fd 0, exit."""
    code = _read_code()
    try:
        _import_libraries()
        data = _DataDir.at_path(spec["data_dir"])
        try:
            tables = _load_tables(data, spec.get("tables", {}))
        finally:
            data.close()
    except MemoryError as exc:
        return {"status": "error", "error": _error_doc(exc)}
    except Exception as exc:  # the data or the interpreter, not the code
        return {"status": "fatal", "stage": "load", "error": _error_doc(exc)}
    return _execute(code, tables, spec)


def _write_document(fd, doc):
    try:
        data = _dumps(doc).encode("utf-8", "replace")
    except MemoryError as exc:
        data = _dumps({"status": "error", "error": _error_doc(exc)}).encode()
    except BaseException as exc:
        data = _dumps({"status": "fatal", "stage": "runner",
                       "error": _error_doc(exc)}).encode()
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


# ---------------------------------------------------------------- zygote ---
#
# Zygote mode runs inside the practice's bubblewrap sandbox as its PID 1. It
# imports the libraries and loads the practice's tables once, then forks one
# child per execution, so each question starts from the same clean state and
# shares the loaded memory copy-on-write.
#
#   fd 3   control: an AF_UNIX SOCK_SEQPACKET socket to the server; one JSON
#          object per message.
#            zygote -> server  {"type": "ready", "versions", "load_ms", "rss_kb"}
#                              {"type": "fatal", "stage", "error"}
#                              {"type": "exited", "id", "status", "cpu_us"}
#                              {"type": "refused", "id", "error"}
#            server -> zygote  {"type": "run", "id"} with four descriptors
#                              (SCM_RIGHTS): the code (read to EOF), stdout,
#                              stderr and the result pipe, which become the
#                              child's fds 0-3
#                              {"type": "kill", "id"}
#          End of file means the server is gone: every child is killed and
#          the zygote exits, which ends the sandbox.
#   fd 4   the practice's data folder (read-only), closed once loaded.
#
# The zygote is not dumpable, nor are its children. In each child, before the
# code runs: its own session, fds 0-3 only, a fresh scratch folder in the
# sandbox's size-capped /tmp (removed when it ends), rlimits, no_new_privs,
# its own Landlock domain (writes only in the scratch folder; no access to
# other processes' memory), and two seccomp filters (built by the server):
# the base policy and one that lets it signal only itself.
#
# No oom_score_adj: a non-dumpable process cannot write its own, and making
# it dumpable for the write would open a window in which another child could
# open its memory. The worker's memory cgroup makes the OOM killer choose
# within the worker, where the child that allocates is the largest.

_PR_SET_NO_NEW_PRIVS = 38
_PR_SET_SECCOMP = 22
_SECCOMP_MODE_FILTER = 2


class _Seccomp:
    """The server's filter programs, ready to load with prctl in a child."""

    def __init__(self, doc):
        import ctypes

        class SockFprog(ctypes.Structure):
            _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]

        self._ctypes = ctypes
        self._libc = ctypes.CDLL(None, use_errno=True)
        self._libc.prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_void_p,
                                     ctypes.c_ulong, ctypes.c_ulong]
        self._programs = []
        for key in ("base", "signal_self"):
            raw = base64.b64decode(doc[key])
            if not raw or len(raw) % 8:
                raise ValueError("seccomp program %s is malformed" % key)
            buffer = ctypes.create_string_buffer(raw, len(raw))
            self._programs.append((buffer, SockFprog(len(raw) // 8, ctypes.addressof(buffer))))
        self._pid_offset = int(doc["pid_offset"])

    def no_new_privs(self):
        if self._libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, None, 0, 0) != 0:
            raise OSError(self._ctypes.get_errno(), "prctl(PR_SET_NO_NEW_PRIVS)")

    def load(self, pid):
        """In the child: the base policy, then signals to `pid` only."""
        signal_self = self._programs[1][0]
        self._ctypes.memmove(self._ctypes.addressof(signal_self) + self._pid_offset,
                             int(pid).to_bytes(4, "little"), 4)
        self.no_new_privs()
        for _, fprog in self._programs:
            if self._libc.prctl(_PR_SET_SECCOMP, _SECCOMP_MODE_FILTER,
                                self._ctypes.byref(fprog), 0, 0) != 0:
                raise OSError(self._ctypes.get_errno(), "prctl(PR_SET_SECCOMP)")


# Landlock (Linux 5.13+): each child enters its own domain, which (1) lets it
# create, change or remove files only under its scratch folder, and (2)
# keeps it from tracing or opening the memory of any process outside that
# domain: the zygote, the spare child, the other questions' children.
_LANDLOCK_CREATE_RULESET, _LANDLOCK_ADD_RULE, _LANDLOCK_RESTRICT_SELF = 444, 445, 446
_LANDLOCK_RULE_PATH_BENEATH = 1
_LANDLOCK_WRITE_ACCESS_V1 = (
    (1 << 1)      # WRITE_FILE
    | (1 << 4)    # REMOVE_DIR
    | (1 << 5)    # REMOVE_FILE
    | (0x7f << 6))  # MAKE_CHAR, MAKE_DIR, MAKE_REG, MAKE_SOCK, MAKE_FIFO, MAKE_BLOCK, MAKE_SYM
_LANDLOCK_REFER = 1 << 13     # ABI 2
_LANDLOCK_TRUNCATE = 1 << 14  # ABI 3
_LANDLOCK_SCOPE_ALL = 0x3     # ABI 6: abstract unix sockets, signals


class _Landlock:
    def __init__(self):
        import ctypes
        self._ctypes = ctypes
        self._libc = ctypes.CDLL(None, use_errno=True)
        self._libc.syscall.restype = ctypes.c_long
        self.abi = self._libc.syscall(_LANDLOCK_CREATE_RULESET, None,
                                      ctypes.c_size_t(0), ctypes.c_uint32(1))
        if self.abi < 1:
            self.abi = 0
            return
        access = _LANDLOCK_WRITE_ACCESS_V1
        if self.abi >= 2:
            access |= _LANDLOCK_REFER
        if self.abi >= 3:
            access |= _LANDLOCK_TRUNCATE
        self.access = access
        scoped = _LANDLOCK_SCOPE_ALL if self.abi >= 6 else 0
        # struct landlock_ruleset_attr grew with the ABI: pass the size this
        # kernel knows.
        size = 24 if self.abi >= 6 else (16 if self.abi >= 4 else 8)
        self._attr = ctypes.create_string_buffer(
            access.to_bytes(8, "little") + bytes(8) + scoped.to_bytes(8, "little"), 24)
        self._attr_size = size

    def restrict(self, writable_dir):
        """In the child, after no_new_privs: writes only under writable_dir."""
        if not self.abi:
            return
        ctypes, libc = self._ctypes, self._libc
        ruleset = libc.syscall(_LANDLOCK_CREATE_RULESET, self._attr,
                               ctypes.c_size_t(self._attr_size), ctypes.c_uint32(0))
        if ruleset < 0:
            raise OSError(ctypes.get_errno(), "landlock_create_ruleset")
        try:
            folder = os.open(writable_dir, os.O_PATH | os.O_CLOEXEC)
            try:
                # struct landlock_path_beneath_attr { u64 allowed; s32 fd; } packed
                rule = ctypes.create_string_buffer(
                    self.access.to_bytes(8, "little") + folder.to_bytes(4, "little", signed=True), 12)
                if libc.syscall(_LANDLOCK_ADD_RULE, ruleset, _LANDLOCK_RULE_PATH_BENEATH,
                                rule, ctypes.c_uint32(0)) != 0:
                    raise OSError(ctypes.get_errno(), "landlock_add_rule")
            finally:
                os.close(folder)
            if libc.syscall(_LANDLOCK_RESTRICT_SELF, ruleset, ctypes.c_uint32(0)) != 0:
                raise OSError(ctypes.get_errno(), "landlock_restrict_self")
        finally:
            os.close(ruleset)


def _warm_up(tables):
    """One query and one chart, so that the first question in a child does
    not pay for lazy imports, caches and the font list."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    for frame in tables.values():
        for column in frame.columns:
            if pd.api.types.is_datetime64_any_dtype(frame[column]):
                frame.groupby(frame[column].dt.to_period("M")).size()
                break
    figure, axes = plt.subplots()
    axes.plot([1, 2, 3], [1, 4, 9])
    figure.savefig(io.BytesIO(), format="png", dpi=50)
    plt.close("all")


def _send(control, doc):
    control.send(_dumps(doc).encode("utf-8", "replace"))


def _rss_kb():
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def _preparation_steps(tables):
    """What a spare child does while it waits, in small steps.

    A question in a freshly forked child runs about twice as slow as the
    same question run again in one process: every first write to a page
    shared with the zygote copies it, a fault at a time, and reading a text
    column still writes (each reference taken increments the string
    objects' reference counts; a filter takes one per cell); fresh
    allocations fault in new pages too. A spare child pays those costs
    ahead of the question: it takes a reference to every text cell and runs
    a typical query (filter by date, group by month, sum) on each table,
    read-only, so the question finds the pages already its own."""
    # Largest table first: it costs most, and it is the one most asked about
    # (invoice lines); a question arriving early finds it ready.
    for frame in sorted(tables.values(), key=len, reverse=True):
        for column in frame.columns:
            values = frame[column].values
            if values.dtype == object:
                yield values.copy
        dates = [c for c in frame.columns
                 if pd.api.types.is_datetime64_any_dtype(frame[c])]
        numbers = [c for c in frame.columns
                   if pd.api.types.is_float_dtype(frame[c])]
        if not dates or len(frame) == 0:
            continue
        date = frame[dates[0]]
        holder = {}

        def select_rows(frame=frame, date=date, holder=holder):
            holder["rows"] = frame[date >= date.min()]

        def group_by_month(date=dates[0], numbers=numbers, holder=holder):
            rows = holder.pop("rows")
            grouped = rows.groupby(rows[date].dt.to_period("M"))
            (grouped[numbers[0]].sum() if numbers else grouped.size())

        yield select_rows
        yield group_by_month


def _become_child(tables):
    """Start of a child: everything that does not depend on the request.
    `tables` are the ones to prepare for (none for a child forked for a
    waiting request)."""
    os.setsid()
    signal.set_wakeup_fd(-1)
    for sig in (signal.SIGCHLD, signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, signal.SIG_DFL)
    for step in _preparation_steps(tables):
        try:
            step()
        except Exception:
            break  # an optimisation only


def _run_child(spec, tables, seccomp, fds, scratch):
    """Runs one request in this (forked) child; never returns."""
    try:
        for target, fd in enumerate(fds):
            os.dup2(fd, target)
        os.closerange(4, 1 << 16)
    except BaseException:
        os._exit(1)  # no result pipe to report on: the server sees a crash
    try:
        os.chdir(scratch)
        for name in ("HOME", "TMPDIR"):
            os.environ[name] = scratch
        tempfile.tempdir = scratch
        limits = spec["limits"]
        cpu = int(limits["cpu_seconds"])
        for resource_id, soft, hard in (
                (resource.RLIMIT_CPU, cpu, cpu + 1),
                (resource.RLIMIT_AS, limits["address_space_bytes"], limits["address_space_bytes"]),
                (resource.RLIMIT_FSIZE, limits["file_bytes"], limits["file_bytes"]),
                (resource.RLIMIT_NOFILE, limits["open_files"], limits["open_files"]),
                (resource.RLIMIT_NPROC, limits["processes"], limits["processes"]),
                (resource.RLIMIT_CORE, 0, 0)):
            resource.setrlimit(resource_id, (int(soft), int(hard)))
        seccomp.no_new_privs()
        _landlock.restrict(scratch)
        seccomp.load(os.getpid())
    except BaseException as exc:
        _write_document(3, {"status": "fatal", "stage": "child", "error": _error_doc(exc)})
        os._exit(1)
    status = 0
    try:
        doc = _execute(_read_code(0), tables, spec)
        sys.stdout.flush()
        sys.stderr.flush()
        _write_document(3, doc)
    except BaseException:
        status = 1
    os._exit(status)


class _Zygote:
    """The zygote's loop: requests in, forked children out, exits reported.

    One spare child is kept forked ahead of the next request. It is forked
    only while no question runs (after start-up and whenever the last
    running child exits), so preparing it never competes with a question
    for the CPU: it prepares (_preparation_steps), says it is ready, and
    waits on its own socket for the request's descriptors. A question
    arriving while the spare still prepares, or while another question
    already has it, gets a child forked for it at once; a spare still
    preparing goes on doing so for a later question."""

    def __init__(self, spec, tables, seccomp, control):
        self.spec, self.tables, self.seccomp, self.control = spec, tables, seccomp, control
        self.children = {}  # pid -> (request id, scratch folder)
        self.by_id = {}     # request id -> pid
        self.spare = None   # (pid, socket to it)
        self.serial = 0

    def fork_spare(self):
        import socket
        if self.spare is not None or self.children:
            return
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        try:
            pid = os.fork()
        except OSError:
            ours.close()
            theirs.close()
            return
        if pid == 0:
            try:
                ours.close()
                _become_child(self.tables)
                theirs.send(b"ready")
                message, fds, _, _ = socket.recv_fds(theirs, 1 << 16, 4)
            except BaseException:
                os._exit(1)
            if not message or len(fds) != 4:
                os._exit(0)  # retired, or the zygote is gone
            _run_child(self.spec, self.tables, self.seccomp, fds,
                       json.loads(message)["scratch"])
        theirs.close()
        self.spare = (pid, ours)

    def spare_is_ready(self):
        import select
        if self.spare is None:
            return False
        channel = self.spare[1]
        if select.select([channel], [], [], 0)[0]:
            try:
                return channel.recv(16) == b"ready"
            except OSError:
                return False
        return False

    def dispatch(self, request_id, fds, scratch):
        """Hands the request to the spare if it has finished preparing, or
        forks a child for it (the spare goes on preparing for a later
        question); returns the pid."""
        import socket
        if self.spare_is_ready():
            pid, channel = self.spare
            self.spare = None
            try:
                socket.send_fds(channel, [_dumps({"scratch": scratch}).encode()], fds)
                return pid
            except OSError:
                pass  # the spare died: fork afresh
            finally:
                channel.close()
        pid = os.fork()
        if pid == 0:
            try:
                _become_child({})
            except BaseException:
                os._exit(1)
            _run_child(self.spec, self.tables, self.seccomp, fds, scratch)
        return pid

    def reap(self):
        import shutil
        while True:
            try:
                pid, status, usage = os.wait4(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            if self.spare is not None and self.spare[0] == pid:
                self.spare[1].close()
                self.spare = None
            entry = self.children.pop(pid, None)
            if entry is None:
                continue
            request_id, scratch = entry
            self.by_id.pop(request_id, None)
            shutil.rmtree(scratch, ignore_errors=True)
            cpu_us = int((usage.ru_utime + usage.ru_stime) * 1e6)
            _send(self.control, {"type": "exited", "id": request_id,
                                 "status": status, "cpu_us": cpu_us})
            self.fork_spare()

    def handle(self, request, fds):
        import shutil
        request_id = request.get("id")
        if request.get("type") == "kill":
            pid = self.by_id.get(request_id)
            if pid is not None:
                os.kill(pid, signal.SIGKILL)
            return
        if len(fds) != 4:
            for fd in fds:
                os.close(fd)
            _send(self.control, {"type": "refused", "id": request_id,
                                 "error": "expected 4 descriptors, got %d" % len(fds)})
            return
        self.serial += 1
        scratch = "/tmp/run-%d" % self.serial
        try:
            os.mkdir(scratch, 0o700)
            pid = self.dispatch(request_id, fds, scratch)
        except OSError as exc:
            shutil.rmtree(scratch, ignore_errors=True)
            _send(self.control, {"type": "refused", "id": request_id,
                                 "error": "%s: %s" % (type(exc).__name__, exc)})
            return
        finally:
            for fd in fds:
                os.close(fd)
        self.children[pid] = (request_id, scratch)
        self.by_id[request_id] = pid
        self.fork_spare()

    def serve(self):
        import select
        import socket
        wake_read, wake_write = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
        signal.set_wakeup_fd(wake_write)
        signal.signal(signal.SIGCHLD, lambda *_: None)
        self.fork_spare()
        while True:
            try:
                readable, _, _ = select.select([self.control, wake_read], [], [])
            except InterruptedError:
                continue
            if wake_read in readable:
                try:
                    while os.read(wake_read, 512):
                        pass
                except BlockingIOError:
                    pass
            self.reap()
            if self.control not in readable:
                continue
            message, fds, _, _ = socket.recv_fds(self.control, 1 << 16, 4)
            if not message:
                break  # the server is gone
            self.handle(json.loads(message), fds)
        for pid in list(self.children) + ([self.spare[0]] if self.spare else []):
            os.kill(pid, signal.SIGKILL)


def _zygote(spec):
    global resource, signal, tempfile, _landlock
    import ctypes
    import gc
    import resource
    import signal
    import socket
    import tempfile  # 7 ms to import: once here, not in every child
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # Not dumpable, and its children inherit that: no process of the sandbox
    # uid can open /proc/<pid>/mem of the zygote or of another question's
    # child to change the shared tables or run code outside the filters.
    ctypes.CDLL(None).prctl(4, 0, 0, 0, 0)  # PR_SET_DUMPABLE
    control = socket.socket(fileno=int(spec["control_fd"]))
    started = time.monotonic()
    try:
        _import_libraries()
        seccomp = _Seccomp(spec["seccomp"])
        _landlock = _Landlock()
        data = _DataDir(int(spec["data_fd"]))
        try:
            tables = _load_tables(data, spec.get("tables", {}))
        finally:
            data.close()
        _warm_up(tables)
        probe = _probe()
    except BaseException as exc:
        _send(control, {"type": "fatal", "stage": "load", "error": _error_doc(exc)})
        return
    gc.collect()
    gc.freeze()  # the loaded objects stay shared: no collector writes to them
    _send(control, {"type": "ready", "versions": probe["versions"],
                    "landlock_abi": _landlock.abi,
                    "load_ms": int((time.monotonic() - started) * 1000),
                    "rss_kb": _rss_kb()})
    _Zygote(spec, tables, seccomp, control).serve()


def main():
    spec = json.loads(sys.argv[1])
    if spec.get("mode") == "zygote":
        _zygote(spec)
        return
    try:
        doc = _probe() if spec.get("probe") else _run(spec)
    except BaseException as exc:
        doc = {"status": "fatal", "stage": "runner", "error": _error_doc(exc)}
    _write_document(3, doc)


main()
