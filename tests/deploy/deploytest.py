"""Helpers of the deploy/ suites: where things are, the built server and
vetctl as child processes, free loopback ports, /metrics parsing, and the
metric names a PromQL expression reads.

The server is started the way tests/integration/server_process_test.cc
starts it: on port 0 for gRPC and metrics, its ports read from its
"listening on 127.0.0.1:PORT; ...; metrics on port N" line once it logs
"is ready" (no port chosen here can be taken by someone else in between).
Every child gets SIGKILL if this process dies (PR_SET_PDEATHSIG), and
Stop() is registered as a cleanup by whoever starts one.
"""

import ctypes
import os
import re
import signal
import socket
import subprocess
import threading
import time
import urllib.request

SOURCE_DIR = os.environ.get(
    "VET_SOURCE_DIR", os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..")))
DEPLOY_DIR = os.path.join(SOURCE_DIR, "deploy")
SERVER_BIN = os.environ.get("VET_SERVER_BIN", os.path.join(SOURCE_DIR, "build/bin/vet-analytics-server"))
VETCTL_BIN = os.environ.get("VETCTL_BIN", os.path.join(SOURCE_DIR, "build/bin/vetctl"))
PROMETHEUS_BIN = "/usr/bin/prometheus"
PROMTOOL_BIN = "/usr/bin/promtool"

_PR_SET_PDEATHSIG = 1


def _die_with_parent():
    ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


def free_port():
    """A loopback port free right now, for a program that cannot take port 0
    and report it (Prometheus); callers retry once if it was taken since."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _environment(changes):
    """This process's environment with `changes`; a None value unsets."""
    env = dict(os.environ)
    for name, value in (changes or {}).items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    return env


class Child:
    """A child process whose stderr (merged with stdout) a thread collects."""

    def __init__(self, argv, env=None, name=None):
        self.name = name or os.path.basename(argv[0])
        self._cv = threading.Condition()
        self._output = []
        self.proc = subprocess.Popen(
            argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            env=_environment(env), preexec_fn=_die_with_parent)
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self):
        for line in iter(self.proc.stdout.readline, b""):
            with self._cv:
                self._output.append(line.decode("utf-8", "replace"))
                self._cv.notify_all()
        with self._cv:
            self._cv.notify_all()

    def output(self):
        with self._cv:
            return "".join(self._output)

    def wait_for_output(self, text, timeout):
        """Everything printed so far once it contains `text`; raises with the
        output if the process exits or `timeout` seconds pass first."""
        deadline = time.monotonic() + timeout
        with self._cv:
            while True:
                out = "".join(self._output)
                if text in out:
                    return out
                left = deadline - time.monotonic()
                if self.proc.poll() is not None and not self._reader.is_alive():
                    raise AssertionError(
                        f"{self.name} exited ({self.proc.returncode}) before printing "
                        f"{text!r}; its output:\n{out}")
                if left <= 0:
                    raise AssertionError(
                        f"{self.name} did not print {text!r} within {timeout}s; its output:\n{out}")
                self._cv.wait(min(left, 0.5))

    def stop(self, grace=10):
        """SIGTERM, then SIGKILL after `grace` seconds; idempotent."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(grace)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._reader.join(5)
        self.proc.stdout.close()


class Server:
    """vet-analytics-server --demo on loopback ports it picks itself."""

    # A model endpoint nothing listens on (the discard port): configures the
    # model path, and its metric series, without a model being called; the
    # offline planner answers the demo's questions first.
    UNREACHABLE_MODEL = {"OPENAI_BASE_URL": "http://127.0.0.1:9/v1", "OPENAI_API_KEY": "sk-test",
                         "OPENAI_MODEL": "gpt-5.2"}

    def __init__(self, state_dir, extra_args=(), model=None):
        argv = [SERVER_BIN, "--demo", f"--state_dir={state_dir}", "--listen=127.0.0.1:0",
                "--metrics_listen=127.0.0.1:0", "--demo_invoice_lines=5000",
                "--budget_store=memory", "--shutdown_grace=2s", *extra_args]
        # Nothing from the environment or a .env: no model unless `model`.
        env = {"OPENAI_API_KEY": None, "OPENAI_BASE_URL": None, "OPENAI_MODEL": None,
               "VET_DATABASE_URL": None, "VET_ENV_FILE": os.path.join(state_dir, "no.env"),
               **(model or {})}
        self.child = Child(argv, env=env, name="vet-analytics-server")
        out = self.child.wait_for_output("is ready", timeout=60)
        listening = re.search(r"listening on 127\.0\.0\.1:(\d+);", out)
        metrics = re.search(r"metrics on port (\d+)", out)
        if not listening or not metrics:
            self.child.stop()
            raise AssertionError(f"no gRPC or metrics port in the server's log:\n{out}")
        self.addr = f"127.0.0.1:{listening.group(1)}"
        self.metrics_port = int(metrics.group(1))

    def metrics_text(self):
        return http_get(f"http://127.0.0.1:{self.metrics_port}/metrics")

    def stop(self):
        self.child.stop()


# Loopback only: never through a proxy the environment may name.
_LOOPBACK = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def http_get(url, timeout=10):
    with _LOOPBACK.open(url, timeout=timeout) as r:
        return r.read().decode("utf-8")


def vetctl(addr, *args, timeout=60):
    """Runs vetctl against `addr` as the demo practice; returns its result."""
    env = dict(os.environ, VET_ADDR=addr, VET_API_KEY="demo-key")
    return subprocess.run([VETCTL_BIN, "--no_color", *args], env=env, capture_output=True,
                          text=True, timeout=timeout, preexec_fn=_die_with_parent)


# --- Prometheus text format --------------------------------------------------

_SAMPLE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)")
_LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:\\.|[^"\\])*)"')


class Exposition:
    """A parsed /metrics page: families by # TYPE, and samples."""

    def __init__(self, text):
        self.types = {}  # family -> counter, gauge, histogram, ...
        self.samples = []  # (name, {label: value}, float)
        for line in text.splitlines():
            if line.startswith("# TYPE "):
                _, _, family, kind = line.split(None, 3)
                self.types[family] = kind.strip()
            elif line and not line.startswith("#"):
                m = _SAMPLE.match(line)
                if m:
                    labels = dict(_LABEL.findall(m.group(3) or ""))
                    self.samples.append((m.group(1), labels, float(m.group(4))))

    def series_names(self):
        """Every name a query can select: each sample's, and those a family
        announces without series yet (a histogram's _bucket, _sum, _count)."""
        names = {name for name, _, _ in self.samples}
        for family, kind in self.types.items():
            if kind in ("histogram", "summary"):
                names |= {family + "_sum", family + "_count"}
                if kind == "histogram":
                    names.add(family + "_bucket")
            else:
                names.add(family)
        return names

    def label_names(self, name):
        """Label names of `name`'s series; None if it has no series."""
        found = [set(labels) for n, labels, _ in self.samples if n == name]
        return set().union(*found) if found else None

    def value(self, name, **labels):
        """Sum of the samples of `name` whose labels include `labels`."""
        matching = [v for n, l, v in self.samples
                    if n == name and all(l.get(k) == w for k, w in labels.items())]
        if not matching:
            raise AssertionError(f"no sample {name}{labels} in /metrics")
        return sum(matching)


# --- PromQL ------------------------------------------------------------------

_KEYWORDS = {"by", "without", "on", "ignoring", "group_left", "group_right", "and", "or",
             "unless", "bool", "offset", "inf", "nan", "atan2"}
_STRINGS = re.compile(r'"(?:\\.|[^"\\])*"|\'(?:\\.|[^\'\\])*\'|`[^`]*`')
_GROUPING = re.compile(r"\b(by|without|on|ignoring|group_left|group_right)\s*\(([^)]*)\)")
_SELECTOR = re.compile(r"([a-zA-Z_:][a-zA-Z0-9_:]*)?\s*\{([^}]*)\}")
_MATCHER = re.compile(r"([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)")
_NAME = re.compile(r"(?<![\w.$])([a-zA-Z_:][a-zA-Z0-9_:]*)(\s*\()?")


class Query:
    """What a PromQL expression reads: metric names, the label names its
    selectors match on (per metric), and the labels it groups by."""

    def __init__(self, expr):
        self.expr = expr
        text = _STRINGS.sub('""', expr)
        self.matched_labels = {}  # metric -> {label}
        for m in _SELECTOR.finditer(text):
            if m.group(1):
                self.matched_labels.setdefault(m.group(1), set()).update(
                    l for l, _ in _MATCHER.findall(m.group(2)))
        text = _SELECTOR.sub(lambda m: (m.group(1) or "") + " ", text)
        text = re.sub(r"\[[^\]]*\]", " ", text)
        self.grouping_labels = set()
        for m in _GROUPING.finditer(text):
            self.grouping_labels |= {l.strip() for l in m.group(2).split(",") if l.strip()}
        text = _GROUPING.sub(" ", text)
        self.metrics = {m.group(1) for m in _NAME.finditer(text)
                        if not m.group(2) and m.group(1).lower() not in _KEYWORDS}
