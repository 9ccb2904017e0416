"""Every metric the alert rules and the Grafana dashboard read is one the
server exports: the names, and the labels their selectors match and group
by, checked against the /metrics of a real vet-analytics-server --demo
started on loopback (deploytest.Server), so that a renamed metric or label
cannot leave an alert that never fires or a panel that stays empty.

What Prometheus adds itself is allowed: `up`, and the target labels job and
instance. A failure names the file, the alert or panel, and the metric or
label. About 2 s, most of it the server's start.
"""

import json
import os
import shutil
import tempfile
import unittest

import yaml

import deploytest as dt

# Series and labels Prometheus makes, not the server.
SCRAPE_SERIES = {"up"}
TARGET_LABELS = {"job", "instance"}


def rule_queries():
    """(where, expr) of every rule in deploy/prometheus/alerts.yml."""
    with open(os.path.join(dt.DEPLOY_DIR, "prometheus", "alerts.yml")) as f:
        rules = yaml.safe_load(f)
    return [(f"alerts.yml {g['name']}/{r.get('alert') or r.get('record')}", r["expr"])
            for g in rules["groups"] for r in g["rules"]]


def dashboard_queries():
    """(where, expr) of every panel target and query variable of each
    dashboard in deploy/grafana/dashboards/."""
    out = []
    folder = os.path.join(dt.DEPLOY_DIR, "grafana", "dashboards")
    for name in sorted(os.listdir(folder)):
        with open(os.path.join(folder, name)) as f:
            dash = json.load(f)
        for p in dash["panels"]:
            for t in p.get("targets", []):
                out.append((f"{name} panel '{p['title']}' {t['refId']}", t["expr"]))
        for var in dash.get("templating", {}).get("list", []):
            if var.get("type") == "query":
                query = var["query"]["query"] if isinstance(var["query"], dict) else var["query"]
                # label_values(metric, label): the metric must carry the label.
                inner = query.strip()
                if inner.startswith("label_values(") and inner.endswith(")"):
                    metric, label = [s.strip() for s in inner[len("label_values("):-1].split(",")]
                    inner = f"sum by ({label}) ({metric})"
                out.append((f"{name} variable ${var['name']}", inner))
    return out


class DeployMetricsTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.state_dir = tempfile.mkdtemp(prefix="vet-deploy-metrics-")
        try:
            # Configured as deployed, with a model (never called): the model's
            # series (tokens, soft-cap downgrades) exist only then.
            cls.server = dt.Server(cls.state_dir, model=dt.Server.UNREACHABLE_MODEL)
            cls.exposition = dt.Exposition(cls.server.metrics_text())
        except BaseException:
            shutil.rmtree(cls.state_dir, ignore_errors=True)
            raise

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()
        shutil.rmtree(cls.state_dir, ignore_errors=True)

    def check(self, queries):
        names = self.exposition.series_names() | SCRAPE_SERIES
        problems = []
        for where, expr in queries:
            q = dt.Query(expr)
            if not q.metrics:
                problems.append(f"{where}: reads no metric: {expr}")
            labels_in_expr = set(TARGET_LABELS)
            for metric in sorted(q.metrics):
                if metric not in names:
                    problems.append(f"{where}: {metric} is not exported by the server")
                    continue
                labels = self.exposition.label_names(metric)
                if metric in SCRAPE_SERIES:
                    labels = set()
                if labels is None:  # announced, no series yet: labels unknown
                    labels_in_expr = None
                    continue
                if labels_in_expr is not None:
                    labels_in_expr |= labels
                for label in sorted(q.matched_labels.get(metric, set()) - labels - TARGET_LABELS):
                    problems.append(f"{where}: {metric} has no label {label!r} (it has "
                                    f"{sorted(labels)})")
            if labels_in_expr is not None:
                for label in sorted(q.grouping_labels - labels_in_expr):
                    problems.append(f"{where}: groups by {label!r}, a label none of "
                                    f"{sorted(q.metrics)} has")
        self.assertEqual(problems, [], "\n" + "\n".join(problems))

    def test_the_query_parser_finds_metrics_and_labels(self):
        # The checks below are only as good as this: a parser that found
        # nothing would pass them all.
        q = dt.Query('sum by (practice, le) (rate(vet_x_bucket{status=~"A|B", job="j"}[5m]))'
                     ' / on (practice) group_left max(vet_y offset 1h) > 0.5 and up == 1')
        self.assertEqual(q.metrics, {"vet_x_bucket", "vet_y", "up"})
        self.assertEqual(q.matched_labels, {"vet_x_bucket": {"status", "job"}})
        self.assertEqual(q.grouping_labels, {"practice", "le"})
        self.assertGreater(len(self.exposition.series_names()), 30)

    def test_every_alert_reads_metrics_the_server_exports(self):
        queries = rule_queries()
        self.assertGreaterEqual(len(queries), 5)
        self.check(queries)

    def test_every_dashboard_panel_reads_metrics_the_server_exports(self):
        queries = dashboard_queries()
        self.assertGreaterEqual(len(queries), 15)
        self.check(queries)

    def test_a_renamed_metric_or_label_is_caught(self):
        with self.assertRaises(AssertionError) as raised:
            self.check([("here", 'sum by (clinic) (vet_questions_total{state="OK"})'),
                        ("there", "rate(vet_spend_dollars_total[5m])")])
        message = str(raised.exception)
        self.assertIn("here: vet_questions_total has no label 'state'", message)
        self.assertIn("here: groups by 'clinic'", message)
        self.assertIn("there: vet_spend_dollars_total is not exported by the server", message)


if __name__ == "__main__":
    unittest.main()
