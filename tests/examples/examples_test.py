"""Runs each client example in clients/examples/ against the demo server and
checks what it printed: the answer, the follow-up in the same session, the
error's reason (and, for Python, an import and a refused one).

One class per example; ctest runs each as its own test (label examples).
Each class starts its own demo server on loopback ports it picks itself
(tests/deploy/deploytest.py) and stops it however the class ends.
"""

import importlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "deploy"))
import deploytest  # noqa: E402
import grpc  # noqa: E402
from google.protobuf import descriptor_pb2  # noqa: E402

EXAMPLES = os.path.join(deploytest.SOURCE_DIR, "clients", "examples")
PROTO_DIR = os.path.join(deploytest.SOURCE_DIR, "proto")
PYTHON = "/usr/bin/python3"
# The demo's answers to the examples' two questions (tests/planner checks
# the figures; here only that an answer of that shape arrived).
ANSWER = re.compile(r"answer: Revenue last quarter \(\d{4}-\d\d-\d\d to \d{4}-\d\d-\d\d\) was \$")
FOLLOW_UP = re.compile(r"answer: Revenue in Q\d \d{4} ")


def run(argv, timeout=120, **kwargs):
    """Runs an example; its stdout and stderr, or a failure naming both."""
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, **kwargs)
    return proc.returncode, proc.stdout, proc.stderr


class ExampleTest(unittest.TestCase):
    """Starts the demo server (gRPC and the HTTP gateway) once per class."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="vet-examples-")
        cls.addClassCleanup(shutil.rmtree, cls.tmp, ignore_errors=True)
        cls.server = deploytest.Server(os.path.join(cls.tmp, "state"),
                                       extra_args=["--http_listen=127.0.0.1:0"])
        cls.addClassCleanup(cls.server.stop)
        gateway = re.search(r"web console on http://127\.0\.0\.1:(\d+)/", cls.server.child.output())
        if not gateway:
            raise AssertionError(f"no gateway port in the server's log:\n{cls.server.child.output()}")
        cls.http = f"http://127.0.0.1:{gateway.group(1)}"

    def check_run(self, argv, expect_rc=0, **kwargs):
        rc, out, err = run(argv, **kwargs)
        self.assertEqual(rc, expect_rc, f"{argv[0]} exited {rc}\nstdout:\n{out}\nstderr:\n{err}")
        return out

    def check_conversation(self, out):
        """The answer, then the follow-up in the session the first started."""
        self.assertRegex(out, ANSWER)
        self.assertRegex(out, FOLLOW_UP)
        sessions = re.findall(r"session ([0-9a-f]{32}) turn (\d)", out)
        self.assertEqual(len(sessions), 2, f"expected two session_started lines:\n{out}")
        self.assertEqual(sessions[0][0], sessions[1][0], f"the follow-up ran in another session:\n{out}")
        self.assertEqual([s[1] for s in sessions], ["1", "2"], out)
        self.assertIn("reason: SESSION_NOT_FOUND", out)


class PythonExampleTest(ExampleTest):
    def setUp(self):
        # Stubs generated at test time, as the README says; never committed.
        self.gen = os.path.join(self.tmp, "gen")
        os.makedirs(self.gen, exist_ok=True)
        self.check_run([PYTHON, "-m", "grpc_tools.protoc", f"-I{PROTO_DIR}",
                        f"--python_out={self.gen}", f"--grpc_python_out={self.gen}",
                        "vetanalytics/v1/analytics.proto", "google/rpc/status.proto",
                        "google/rpc/error_details.proto"])
        self.env = {**os.environ, "PYTHONPATH": self.gen}

    def example(self, name):
        return [PYTHON, os.path.join(EXAMPLES, "python", name), "--addr", self.server.addr]

    def test_1_ask_and_follow_up(self):
        out = self.check_run(self.example("ask.py"), env=self.env)
        self.check_conversation(out)
        self.assertIn("(resumed)", out)

    def test_2_import(self):
        exports = os.path.join(self.tmp, "exports")
        deploytest.vetctl(self.server.addr, "demo-data", exports, "--lines=300")
        out = self.check_run(self.example("import_csv.py") + [exports], env=self.env)
        self.assertRegex(out, r"(imported|unchanged): dataset version [0-9a-f]+")
        self.assertRegex(out, r"invoice_lines: \d+ rows")

        # A client whose status is not one of the allowed values: refused,
        # the reason and the file:line:column printed.
        broken = os.path.join(self.tmp, "broken")
        shutil.copytree(exports, broken)
        path = os.path.join(broken, "clients.csv")
        with open(path) as f:
            lines = f.read().splitlines()
        lines[2] = lines[2].rsplit(",", 1)[0] + ",not-a-status"
        with open(path, "w") as f:
            f.write("\n".join(lines) + "\n")
        out = self.check_run(self.example("import_csv.py") + [broken], expect_rc=2, env=self.env)
        self.assertIn("reason: IMPORT_INVALID", out)
        self.assertIn("clients.csv:3:status:", out)


class NodeExampleTest(ExampleTest):
    def test_ask_and_follow_up(self):
        folder = os.path.join(EXAMPLES, "node")
        for tool in ("node", "npm"):
            self.assertTrue(shutil.which(tool), f"{tool} is missing (Node 20: scripts/install-deps.sh)")
        if not os.path.isdir(os.path.join(folder, "node_modules", "@grpc", "grpc-js")):
            self.check_run(["npm", "ci", "--no-audit", "--no-fund"], cwd=folder, timeout=300)
        out = self.check_run(["node", "ask.mjs", f"--addr={self.server.addr}"], cwd=folder)
        self.check_conversation(out)


class CurlExampleTest(ExampleTest):
    def test_ask_follow_up_and_budget(self):
        out = self.check_run([os.path.join(EXAMPLES, "curl", "ask.sh"), self.http])
        self.check_conversation(out)
        self.assertRegex(out, r"spent \$[\d.]+ of \$10 this month, resets \d{4}-")


class GoExampleTest(ExampleTest):
    def test_ask_and_follow_up(self):
        out_dir = os.path.join(self.tmp, "go")
        # A cache kept between runs (the build tree's) makes the build seconds.
        env = {**os.environ}
        if os.environ.get("VET_GO_CACHE"):
            env["GOCACHE"] = os.environ["VET_GO_CACHE"]
        self.check_run([os.path.join(EXAMPLES, "go", "build.sh"), out_dir], env=env, timeout=300)
        out = self.check_run([os.path.join(out_dir, "bin", "ask"), "-addr", self.server.addr])
        self.check_conversation(out)


class ReflectionTest(ExampleTest):
    """Server reflection as grpcurl uses it, both versions: the services, the
    API's file with its options and comments, an unknown symbol."""

    def reflect(self, version, requests):
        # Generated under its own file name: the stubs' module path must not
        # be grpc.reflection..., which grpcio's `grpc` package would shadow.
        gen = os.path.join(self.tmp, "gen-reflection")
        os.makedirs(gen, exist_ok=True)
        shutil.copy(f"/usr/share/grpc-proto/grpc/reflection/{version}/reflection.proto",
                    os.path.join(gen, f"reflection_{version}.proto"))
        self.check_run([PYTHON, "-m", "grpc_tools.protoc", f"-I{gen}", f"--python_out={gen}",
                        f"--grpc_python_out={gen}", f"reflection_{version}.proto"])
        sys.path.insert(0, gen)
        try:
            pb = importlib.import_module(f"reflection_{version}_pb2")
            pb_grpc = importlib.import_module(f"reflection_{version}_pb2_grpc")
        finally:
            sys.path.remove(gen)
        with grpc.insecure_channel(self.server.addr) as channel:
            stub = pb_grpc.ServerReflectionStub(channel)
            return list(stub.ServerReflectionInfo(
                iter([pb.ServerReflectionRequest(**r) for r in requests]), timeout=30))

    def check_version(self, version):
        listed, api, unknown = self.reflect(version, [
            {"list_services": ""},
            {"file_containing_symbol": "vetanalytics.v1.AnalyticsService"},
            {"file_containing_symbol": "vetanalytics.v1.NoSuchThing"}])
        self.assertEqual(
            sorted(s.name for s in listed.list_services_response.service),
            ["grpc.health.v1.Health", "grpc.reflection.v1.ServerReflection",
             "grpc.reflection.v1alpha.ServerReflection", "vetanalytics.v1.AnalyticsService"])
        files = {}
        for blob in api.file_descriptor_response.file_descriptor_proto:
            f = descriptor_pb2.FileDescriptorProto.FromString(blob)
            files[f.name] = f
        # The file and what it imports, so a client can build it at once.
        self.assertIn("google/protobuf/timestamp.proto", files, sorted(files))
        analytics = files["vetanalytics/v1/analytics.proto"]
        self.assertEqual(analytics.options.java_package, "com.vetanalytics.v1")
        self.assertEqual(analytics.options.csharp_namespace, "VetAnalytics.V1")
        self.assertTrue(analytics.options.go_package.endswith(";vetanalyticsv1"))
        # The comment grpcurl describe prints above rpc Ask: path 6 (service)
        # 0, 2 (method) 0.
        comments = {tuple(loc.path): loc.leading_comments
                    for loc in analytics.source_code_info.location}
        self.assertIn("Answers one question.", comments.get((6, 0, 2, 0), ""),
                      f"no comment on rpc Ask in what {version} reflection served")
        self.assertEqual(unknown.error_response.error_code, 5)  # NOT_FOUND
        self.assertEqual(unknown.original_request.file_containing_symbol,
                         "vetanalytics.v1.NoSuchThing")

    def test_v1(self):
        self.check_version("v1")

    def test_v1alpha(self):
        self.check_version("v1alpha")


if __name__ == "__main__":
    unittest.main()
