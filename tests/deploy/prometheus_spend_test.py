"""A real Prometheus in CI (issue 15 part 4): Debian's /usr/bin/prometheus
runs on a free loopback port with deploy/prometheus/prometheus.yml (its
vet-analytics job pointed at a demo server's metrics port, scraped and
evaluated every second, a temporary storage folder), vetctl asks the demo
server questions, and the demo practice's spend read back through
Prometheus's HTTP query API equals what the server's own /metrics says.

Sandbox time is charged ($0.1 a second, --sandbox_cost_per_second) so that
planner answers cost something: the offline planner itself is free. The
alert rules are loaded too, and each must evaluate without error against
the live series. Every process started here is stopped, pass or fail.
About 8 s: the server's start and stop (3 s) and Prometheus's first scrape
(5 s after it starts).
"""

import json
import math
import os
import shutil
import tempfile
import time
import urllib.parse
import unittest

import yaml

import deploytest as dt

JOB = "vet-analytics"
QUESTIONS = ["What was our revenue last month?", "How many new clients did we get this year?"]


def derived_config(metrics_port, rules_dir):
    """deploy/'s prometheus.yml with only the vet-analytics job, its targets
    the test server, a 1 s interval, and rule files by absolute path."""
    with open(os.path.join(dt.DEPLOY_DIR, "prometheus", "prometheus.yml")) as f:
        config = yaml.safe_load(f)
    config["global"]["scrape_interval"] = "1s"
    config["global"]["evaluation_interval"] = "1s"
    config["rule_files"] = [os.path.join(rules_dir, r) for r in config["rule_files"]]
    jobs = [j for j in config["scrape_configs"] if j["job_name"] == JOB]
    if len(jobs) != 1:
        raise AssertionError(f"deploy/prometheus/prometheus.yml: {len(jobs)} jobs named {JOB}")
    job = jobs[0]
    job["static_configs"] = [{"targets": [f"127.0.0.1:{metrics_port}"]}]
    config["scrape_configs"] = [job]
    return config


class Prometheus:
    """/usr/bin/prometheus with `config` on a free loopback port."""

    def __init__(self, folder, config):
        path = os.path.join(folder, "prometheus.yml")
        with open(path, "w") as f:
            yaml.safe_dump(config, f)
        for attempt in range(2):  # the free port may be taken in between
            self.port = dt.free_port()
            self.child = dt.Child(
                [dt.PROMETHEUS_BIN, f"--config.file={path}",
                 f"--storage.tsdb.path={os.path.join(folder, 'data')}",
                 f"--web.listen-address=127.0.0.1:{self.port}",
                 "--log.level=warn"],
                env={"HOME": folder}, name="prometheus")
            try:
                self.wait_until(lambda: dt.http_get(self.url("/-/ready")) is not None, 30,
                                "ready")
                return
            except AssertionError:
                self.child.stop()
                if attempt == 1 or "address already in use" not in self.child.output():
                    raise

    def url(self, path):
        return f"http://127.0.0.1:{self.port}{path}"

    def api(self, path, **params):
        body = json.loads(dt.http_get(self.url(path + "?" + urllib.parse.urlencode(params))))
        if body.get("status") != "success":
            raise AssertionError(f"Prometheus {path} {params}: {body}")
        return body["data"]

    def query(self, expr):
        """The instant vector of `expr`, as [(labels, float)]."""
        data = self.api("/api/v1/query", query=expr)
        return [(r["metric"], float(r["value"][1])) for r in data["result"]]

    def wait_until(self, condition, timeout, what):
        """Polls `condition` (a callable; exceptions count as false) until it
        holds; fails naming `what`, with the last error and the output."""
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            if self.child.proc.poll() is not None:
                break
            try:
                if condition():
                    return
            except Exception as e:  # not up yet, or not scraped yet
                last = e
            time.sleep(0.2)
        raise AssertionError(f"Prometheus: not {what} within {timeout}s (last: {last}); "
                             f"its output:\n{self.child.output()}")

    def stop(self):
        self.child.stop()


class PrometheusSpendTest(unittest.TestCase):

    def setUp(self):
        self.folder = tempfile.mkdtemp(prefix="vet-prometheus-")
        self.addCleanup(shutil.rmtree, self.folder, True)
        self.server = dt.Server(os.path.join(self.folder, "state"),
                                extra_args=["--sandbox_cost_per_second=0.1"])
        self.addCleanup(self.server.stop)
        self.prometheus = Prometheus(
            self.folder, derived_config(self.server.metrics_port,
                                        os.path.join(dt.DEPLOY_DIR, "prometheus")))
        self.addCleanup(self.prometheus.stop)

    def test_demo_spend_read_through_prometheus_equals_the_servers_metrics(self):
        p = self.prometheus
        # Asked while Prometheus starts scraping (its first scrape waits for
        # service discovery's first update, about 5 s).
        for question in QUESTIONS:
            r = dt.vetctl(self.server.addr, "ask", f"--out_dir={self.folder}/artifacts", question)
            self.assertEqual(r.returncode, 0, f"vetctl ask {question!r}:\n{r.stdout}{r.stderr}")

        # What the server says now: questions are over, so it stays put.
        metrics = dt.Exposition(self.server.metrics_text())
        spent = metrics.value("vet_spend_usd_total", practice="demo")
        gauge = metrics.value("vet_budget_spent_usd", practice="demo")
        answered = metrics.value("vet_questions_total", practice="demo", status="OK")
        self.assertGreater(spent, 0, "sandbox time was not charged: the test proves nothing")
        self.assertTrue(math.isclose(spent, gauge, rel_tol=1e-9),
                        f"/metrics: vet_spend_usd_total {spent} vs vet_budget_spent_usd {gauge}")
        self.assertEqual(answered, len(QUESTIONS))

        queries = {
            f'up{{job="{JOB}"}}': 1,
            'sum(vet_spend_usd_total{practice="demo"})': spent,
            'max(vet_budget_spent_usd{practice="demo"})': gauge,
            'sum(vet_questions_total{practice="demo",status="OK"})': answered,
        }
        seen = {}

        def prometheus_agrees():
            for expr, want in queries.items():
                got = p.query(expr)
                seen[expr] = got
                if len(got) != 1 or not math.isclose(got[0][1], want, rel_tol=1e-9):
                    return False
            return True

        try:
            p.wait_until(prometheus_agrees, 20, "agreeing with the server's /metrics")
        except AssertionError as e:
            self.fail(f"{e}\nwanted {queries}\nPrometheus last answered {seen}")

        # The alert rules of deploy/ evaluate against the real series.
        def rules_evaluated():
            groups = p.api("/api/v1/rules")["groups"]
            rules = [r for g in groups for r in g["rules"]]
            return rules and all(r.get("lastEvaluation", "").startswith("2") and
                                 not r["lastEvaluation"].startswith("0001") for r in rules)

        p.wait_until(rules_evaluated, 10, "evaluating every rule")
        broken = [(r["name"], r.get("lastError")) for g in p.api("/api/v1/rules")["groups"]
                  for r in g["rules"] if r["health"] != "ok"]
        self.assertEqual(broken, [], "alert rules that fail to evaluate")


if __name__ == "__main__":
    unittest.main()
