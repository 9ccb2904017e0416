"""deploy/ as CI can check it without Docker, Kubernetes or Envoy: every
YAML and JSON file parses; the Envoy configuration routes gRPC to the
replicas of docker-compose.yml by a ring hash on the header clients send,
health-checked through the gRPC health service the server registers;
compose, Prometheus, Grafana and the Kubernetes manifests agree with each
other and with the server (ports, service names, probe services, secrets);
promtool accepts the Prometheus configuration and rules and the alert unit
tests pass; the Dockerfile's build packages are install-deps.sh's.

A failure names the file and the field that is wrong. No process but
promtool is started; runs in about a second.
"""

import glob
import json
import os
import re
import subprocess
import unittest

import yaml

import deploytest as dt

D = dt.DEPLOY_DIR


def load_yaml(path):
    with open(path) as f:
        return yaml.safe_load(f)


def load_all(path):
    with open(path) as f:
        return [d for d in yaml.safe_load_all(f) if d is not None]


def source(path):
    with open(os.path.join(dt.SOURCE_DIR, path)) as f:
        return f.read()


def server_health_service():
    """The service name server/server.cc reports SERVING for."""
    m = re.search(r'kServiceName\[\]\s*=\s*"([^"]+)"', source("server/server.cc"))
    assert m, "server/server.cc: no kServiceName"
    return m.group(1)


def compose():
    return load_yaml(os.path.join(D, "docker-compose.yml"))


def replicas(services):
    """Compose services that run the server (built from deploy/Dockerfile)."""
    return sorted(n for n, s in services.items()
                  if (s.get("build") or {}).get("dockerfile") == "deploy/Dockerfile")


def env_port(env, name):
    return int(str(env[name]).rsplit(":", 1)[1])


class EveryFileParsesTest(unittest.TestCase):

    def test_every_yaml_and_json_file_in_deploy_parses(self):
        files = sorted(glob.glob(os.path.join(D, "**", "*.y*ml"), recursive=True))
        self.assertGreaterEqual(len(files), 10, files)
        for path in files:
            with self.subTest(path=os.path.relpath(path, dt.SOURCE_DIR)):
                docs = load_all(path)
                self.assertTrue(docs, f"{path}: no document")
                for doc in docs:
                    self.assertIsInstance(doc, dict, f"{path}: a document is not a mapping")
        for path in glob.glob(os.path.join(D, "**", "*.json"), recursive=True):
            with self.subTest(path=os.path.relpath(path, dt.SOURCE_DIR)):
                with open(path) as f:
                    json.load(f)


class EnvoyTest(unittest.TestCase):

    def setUp(self):
        self.envoy = load_yaml(os.path.join(D, "envoy", "envoy.yaml"))
        self.clusters = {c["name"]: c for c in self.envoy["static_resources"]["clusters"]}

    def routes(self):
        """(listener name, route) for every route of every HTTP listener."""
        out = []
        listeners = self.envoy["static_resources"]["listeners"]
        self.assertTrue(listeners, "envoy.yaml: no listeners")
        for listener in listeners:
            for chain in listener["filter_chains"]:
                for f in chain["filters"]:
                    self.assertEqual(f["name"], "envoy.filters.network.http_connection_manager",
                                     f"listener {listener['name']}")
                    hcm = f["typed_config"]
                    self.assertEqual(
                        hcm["@type"], "type.googleapis.com/envoy.extensions.filters.network."
                        "http_connection_manager.v3.HttpConnectionManager")
                    self.assertIn("http2_protocol_options", hcm,
                                  f"listener {listener['name']}: gRPC clients need HTTP/2")
                    routers = [h for h in hcm["http_filters"] if h["name"] == "envoy.filters.http.router"]
                    self.assertEqual(len(routers), 1, f"listener {listener['name']}: one router filter")
                    self.assertEqual(hcm["http_filters"][-1]["name"], "envoy.filters.http.router",
                                     "the router must be the last HTTP filter")
                    self.assertEqual(routers[0]["typed_config"]["@type"],
                                     "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router")
                    for vhost in hcm["route_config"]["virtual_hosts"]:
                        for route in vhost["routes"]:
                            out.append((listener["name"], route))
        return out

    def test_every_route_hashes_on_the_header_clients_send_to_a_ring_hash_cluster(self):
        # The practice header vetctl sends on every call, then the key
        # header every client sends (one key per practice, so it names the
        # practice too) for clients that send only that.
        clients = source("clients/vetctl.cc")
        m = re.search(r'AddMetadata\("([^"]+)", inv\.practice\)', clients)
        self.assertTrue(m, "clients/vetctl.cc: no AddMetadata(<header>, inv.practice)")
        practice_header = m.group(1)
        m = re.search(r'AddMetadata\("([^"]+)", inv\.api_key\)', clients)
        self.assertTrue(m, "clients/vetctl.cc: no AddMetadata(<header>, inv.api_key)")
        header = m.group(1)
        self.assertIn(f'"{header}"', source("server/analytics_service.cc"),
                      f"server/analytics_service.cc does not read {header}")
        routes = self.routes()
        self.assertTrue(routes, "envoy.yaml: no routes")
        for listener, route in routes:
            where = f"envoy.yaml listener {listener} route {route['match']}"
            action = route["route"]
            self.assertIn(action["cluster"], self.clusters, f"{where}: unknown cluster")
            self.assertEqual(self.clusters[action["cluster"]]["lb_policy"], "RING_HASH", where)
            headers = [p["header"]["header_name"] for p in action.get("hash_policy", [])
                       if "header" in p]
            self.assertEqual(headers, [practice_header, header], f"{where}: hash_policy")
            self.assertTrue(action["hash_policy"][0].get("terminal"),
                            f"{where}: the practice's hash must decide when the header is there")
            # Ask streams for as long as a question takes: no route timeout.
            self.assertEqual(action.get("timeout"), "0s", f"{where}: timeout")

    def test_clusters_speak_http2_and_health_check_the_servers_grpc_service(self):
        service = server_health_service()
        self.assertIn("EnableDefaultHealthCheckService(true)", source("server/server.cc"))
        for name, c in self.clusters.items():
            with self.subTest(cluster=name):
                opts = c["typed_extension_protocol_options"][
                    "envoy.extensions.upstreams.http.v3.HttpProtocolOptions"]
                self.assertEqual(opts["@type"], "type.googleapis.com/envoy.extensions."
                                 "upstreams.http.v3.HttpProtocolOptions")
                self.assertIn("http2_protocol_options", opts["explicit_http_config"])
                self.assertIn("ring_hash_lb_config", c)
                checks = c["health_checks"]
                self.assertEqual(len(checks), 1)
                for field in ("timeout", "interval", "unhealthy_threshold", "healthy_threshold"):
                    self.assertIn(field, checks[0], f"cluster {name}: health check {field}")
                self.assertEqual(checks[0]["grpc_health_check"]["service_name"], service)
                self.assertEqual(c["load_assignment"]["cluster_name"], name)

    def test_upstream_hosts_are_the_compose_replicas_on_their_grpc_port(self):
        services = compose()["services"]
        expected = {(r, env_port(services[r]["environment"], "VET_LISTEN"))
                    for r in replicas(services)}
        self.assertGreaterEqual(len(expected), 2, "docker-compose.yml: fewer than two replicas")
        hosts = set()
        for c in self.clusters.values():
            for group in c["load_assignment"]["endpoints"]:
                for e in group["lb_endpoints"]:
                    sa = e["endpoint"]["address"]["socket_address"]
                    hosts.add((sa["address"], sa["port_value"]))
        self.assertEqual(hosts, expected, "envoy.yaml endpoints vs docker-compose.yml replicas")


class ComposeTest(unittest.TestCase):

    def setUp(self):
        self.services = compose()["services"]
        self.volumes = compose()["volumes"]

    def test_two_replicas_each_with_its_own_state_volume_sharing_postgres(self):
        names = replicas(self.services)
        self.assertGreaterEqual(len(names), 2, names)
        state_volumes = []
        for r in names:
            env = self.services[r]["environment"]
            state_dir = env["VET_STATE_DIR"]
            mounts = [v.split(":") for v in self.services[r]["volumes"]]
            state = [m[0] for m in mounts if m[1] == state_dir]
            self.assertEqual(len(state), 1, f"{r}: one volume at {state_dir}")
            self.assertIn(state[0], self.volumes, f"{r}: {state[0]} is not a named volume")
            state_volumes.append(state[0])
            self.assertRegex(env["VET_DATABASE_URL"], r"^postgres://[^@]+@postgres:5432/",
                             f"{r}: VET_DATABASE_URL")
            self.assertIn("postgres", self.services[r]["depends_on"])
            self.assertEqual(self.services[r]["group_add"], ["10002"], f"{r}: vet-sandbox's group")
            self.assertIn("seccomp=unconfined", self.services[r]["security_opt"])
        self.assertEqual(len(set(state_volumes)), len(state_volumes),
                         f"replicas share a state volume: {state_volumes}")
        for other in ("postgres", "envoy", "prometheus", "grafana"):
            self.assertIn(other, self.services)

    def test_prometheus_scrapes_every_replica_on_its_metrics_port(self):
        config = load_yaml(os.path.join(D, "prometheus", "prometheus.yml"))
        jobs = {j["job_name"]: j for j in config["scrape_configs"]}
        targets = {t for sc in jobs["vet-analytics"]["static_configs"] for t in sc["targets"]}
        expected = {f"{r}:{env_port(self.services[r]['environment'], 'VET_METRICS_LISTEN')}"
                    for r in replicas(self.services)}
        self.assertEqual(targets, expected, "prometheus.yml vet-analytics targets")
        envoy_admin = load_yaml(os.path.join(D, "envoy", "envoy.yaml"))["admin"]
        port = envoy_admin["address"]["socket_address"]["port_value"]
        self.assertEqual({t for sc in jobs["envoy"]["static_configs"] for t in sc["targets"]},
                         {f"envoy:{port}"})

    def test_every_file_a_service_mounts_exists(self):
        for name, s in self.services.items():
            for v in s.get("volumes", []):
                src = re.sub(r"\$\{[A-Z_]+:-([^}]*)\}", r"\1", v.split(":")[0])
                if src.startswith("."):
                    with self.subTest(service=name, volume=v):
                        self.assertTrue(os.path.exists(os.path.join(D, src)), f"{name}: {src}")

    def test_grafana_datasource_is_the_compose_prometheus_and_the_one_panels_name(self):
        ds = load_yaml(os.path.join(D, "grafana", "provisioning", "datasources", "prometheus.yml"))
        [source_] = ds["datasources"]
        self.assertEqual(source_["url"], "http://prometheus:9090")
        provider = load_yaml(os.path.join(D, "grafana", "provisioning", "dashboards",
                                          "vet-analytics.yml"))["providers"][0]
        mounts = dict(v.split(":")[:2] for v in self.services["grafana"]["volumes"])
        self.assertEqual(mounts.get("./grafana/dashboards"), provider["options"]["path"])
        with open(os.path.join(D, "grafana", "dashboards", "vet-analytics.json")) as f:
            dash = json.load(f)
        ids = [p["id"] for p in dash["panels"]]
        self.assertEqual(len(ids), len(set(ids)), "dashboard: panel ids repeat")
        for p in dash["panels"]:
            if p["type"] == "row":
                continue
            with self.subTest(panel=p["title"]):
                self.assertEqual(p["datasource"]["uid"], source_["uid"])
                self.assertTrue(p["targets"])
                for t in p["targets"]:
                    self.assertTrue(t["expr"].strip())


class PromtoolTest(unittest.TestCase):

    def promtool(self, *args):
        r = subprocess.run([dt.PROMTOOL_BIN, *args], cwd=os.path.join(D, "prometheus"),
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(r.returncode, 0, f"promtool {' '.join(args)}:\n{r.stdout}{r.stderr}")

    def test_check_config(self):
        self.promtool("check", "config", "prometheus.yml")

    def test_check_rules(self):
        self.promtool("check", "rules", "alerts.yml")

    def test_alert_unit_tests(self):
        self.promtool("test", "rules", "alerts_test.yml")

    def test_every_alert_has_a_unit_test(self):
        rules = load_yaml(os.path.join(D, "prometheus", "alerts.yml"))
        alerts = {r["alert"] for g in rules["groups"] for r in g["rules"] if "alert" in r}
        tests = load_yaml(os.path.join(D, "prometheus", "alerts_test.yml"))
        fired = {t["alertname"] for case in tests["tests"] for t in case["alert_rule_test"]
                 if t["exp_alerts"]}
        self.assertEqual(alerts - fired, set(), "alerts never shown firing in alerts_test.yml")


class KubernetesTest(unittest.TestCase):

    def setUp(self):
        k = os.path.join(D, "k8s")
        kustomization = load_yaml(os.path.join(k, "kustomization.yaml"))
        self.objects = {}
        for name in kustomization["resources"]:
            for doc in load_all(os.path.join(k, name)):
                for field in ("apiVersion", "kind", "metadata"):
                    self.assertIn(field, doc, f"k8s/{name}")
                self.objects[(doc["kind"], doc["metadata"]["name"])] = doc
        listed = set(kustomization["resources"])
        on_disk = {os.path.basename(p) for p in glob.glob(os.path.join(k, "*.yaml"))}
        self.assertEqual(on_disk - listed - {"kustomization.yaml"}, set(),
                         "k8s manifests left out of kustomization.yaml")
        self.deployment = self.objects[("Deployment", "vet-analytics")]
        self.pod = self.deployment["spec"]["template"]
        [self.container] = self.pod["spec"]["containers"]

    def test_every_kind_the_issue_names_is_there(self):
        kinds = {kind for kind, _ in self.objects}
        for kind in ("Deployment", "Service", "ConfigMap", "Secret", "HorizontalPodAutoscaler",
                     "PodDisruptionBudget", "NetworkPolicy"):
            self.assertIn(kind, kinds)

    def test_probes_ask_the_grpc_health_service_on_the_grpc_port(self):
        ports = {p["name"]: p["containerPort"] for p in self.container["ports"]}
        env = self.objects[("ConfigMap", "vet-analytics-env")]["data"]
        self.assertEqual(ports["grpc"], env_port(env, "VET_LISTEN"))
        self.assertEqual(ports["metrics"], env_port(env, "VET_METRICS_LISTEN"))
        for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
            self.assertEqual(self.container[probe]["grpc"]["port"], ports["grpc"], probe)
        self.assertEqual(self.container["readinessProbe"]["grpc"]["service"],
                         server_health_service())
        annotations = self.pod["metadata"]["annotations"]
        self.assertEqual(int(annotations["prometheus.io/port"]), ports["metrics"])

    def test_selectors_match_the_pods(self):
        labels = self.pod["metadata"]["labels"]
        selectors = {"Deployment": self.deployment["spec"]["selector"]["matchLabels"]}
        for (kind, name), obj in self.objects.items():
            if kind == "Service":
                selectors[f"Service {name}"] = obj["spec"]["selector"]
            elif kind == "PodDisruptionBudget":
                selectors[f"PDB {name}"] = obj["spec"]["selector"]["matchLabels"]
            elif kind == "NetworkPolicy":
                selectors[f"NetworkPolicy {name}"] = obj["spec"]["podSelector"]["matchLabels"]
        for what, sel in selectors.items():
            self.assertLessEqual(sel.items(), labels.items(), what)
        hpa = self.objects[("HorizontalPodAutoscaler", "vet-analytics")]["spec"]
        self.assertEqual((hpa["scaleTargetRef"]["kind"], hpa["scaleTargetRef"]["name"]),
                         ("Deployment", "vet-analytics"))
        self.assertGreaterEqual(hpa["minReplicas"], 2)
        pdb = self.objects[("PodDisruptionBudget", "vet-analytics")]["spec"]
        self.assertLess(pdb["minAvailable"], hpa["minReplicas"], "a PDB no drain can satisfy")

    def test_secrets_and_config_maps_the_pod_uses_exist_with_those_keys(self):
        secret = self.objects[("Secret", "vet-analytics-secrets")]["stringData"]
        for e in self.container["env"]:
            ref = e["valueFrom"]["secretKeyRef"]
            self.assertIn(("Secret", ref["name"]), self.objects)
            self.assertIn(ref["key"], secret, e["name"])
        self.assertEqual({e["name"] for e in self.container["env"]},
                         {"OPENAI_API_KEY", "VET_DATABASE_URL"})
        mounts = {m["name"]: m["mountPath"] for m in self.container["volumeMounts"]}
        volumes = {v["name"]: v for v in self.pod["spec"]["volumes"]}
        practices_map = volumes["practices"]["configMap"]["name"]
        data = self.objects[("ConfigMap", practices_map)]["data"]
        env = self.objects[("ConfigMap", "vet-analytics-env")]["data"]
        path = env["VET_PRACTICES"]
        self.assertEqual(os.path.dirname(path), mounts["practices"])
        practices = json.loads(data[os.path.basename(path)])["practices"]
        for p in practices:
            self.assertRegex(p["api_key_sha256"], r"^[0-9a-f]{64}$", "a key, not its hash")
        self.assertEqual(mounts["state"], env["VET_STATE_DIR"])

    def test_pod_runs_as_the_images_user_with_what_bubblewrap_needs(self):
        dockerfile = source("deploy/Dockerfile")
        uid = re.findall(r"^USER (\d+)", dockerfile, re.M)
        ctx = self.pod["spec"]["securityContext"]
        self.assertEqual(uid, [str(ctx["runAsUser"])], "Deployment runAsUser vs Dockerfile USER")
        self.assertIn(f"--uid {ctx['runAsUser']}", dockerfile)
        self.assertIn(f"--gid {ctx['supplementalGroups'][0]} vet-sandbox", dockerfile)
        sc = self.container["securityContext"]
        self.assertEqual(sorted(sc["capabilities"]["add"]), ["SETGID", "SETUID"])
        self.assertEqual(sc["capabilities"]["drop"], ["ALL"])
        self.assertTrue(sc["allowPrivilegeEscalation"], "file capabilities need it")
        self.assertEqual(sc["seccompProfile"]["type"], "Unconfined")
        self.assertEqual(sc["procMount"], "Unmasked")
        self.assertFalse(self.pod["spec"]["hostUsers"], "procMount: Unmasked needs hostUsers: false")

    def test_the_grace_period_covers_the_pause_and_the_drain(self):
        env = self.objects[("ConfigMap", "vet-analytics-env")]["data"]
        drain = int(env["VET_SHUTDOWN_GRACE"].rstrip("s"))
        pause = int(self.container["lifecycle"]["preStop"]["exec"]["command"][-1])
        grace = self.pod["spec"]["terminationGracePeriodSeconds"]
        self.assertGreater(grace, pause + drain,
                           f"terminationGracePeriodSeconds {grace} <= preStop {pause} + drain {drain}")

    def test_network_policy_lets_out_only_dns_postgres_and_the_model(self):
        policy = self.objects[("NetworkPolicy", "vet-analytics")]["spec"]
        self.assertIn("Egress", policy["policyTypes"])
        ports = sorted((p["port"], p["protocol"]) for rule in policy["egress"]
                       for p in rule["ports"])
        self.assertEqual(ports, [(53, "TCP"), (53, "UDP"), (443, "TCP"), (5432, "TCP")])
        for rule in policy["egress"]:
            self.assertTrue(rule.get("to"), "an egress rule to anywhere")


class DockerfileTest(unittest.TestCase):

    def setUp(self):
        text = source("deploy/Dockerfile").replace("\\\n", " ")
        self.stages = re.split(r"^FROM ", text, flags=re.M)[1:]

    @staticmethod
    def installed(stage):
        pkgs = []
        for m in re.finditer(r"apt-get install ([^&\n]*)", stage):
            pkgs += [w for w in m.group(1).split() if not w.startswith("-")]
        return pkgs

    def test_two_stages_on_bookworm_slim_the_last_non_root(self):
        self.assertGreaterEqual(len(self.stages), 2)
        for stage in self.stages:
            self.assertTrue(stage.startswith("debian:bookworm-slim "), stage.splitlines()[0])
        users = re.findall(r"^USER (\S+)", self.stages[-1], re.M)
        self.assertTrue(users and users[-1] not in ("root", "0"), f"runtime USER: {users}")

    def test_build_packages_are_install_deps_packages_and_runtime_has_no_build_tools(self):
        script = source("scripts/install-deps.sh")
        listed = set(re.sub(r"#[^\n]*", "", re.search(r"PACKAGES=\((.*?)\n\)", script, re.S)
                            .group(1)).split())
        build = self.installed(self.stages[0])
        self.assertTrue(build)
        self.assertEqual(set(build) - listed, set(),
                         "Dockerfile build-stage packages missing from scripts/install-deps.sh")
        runtime = self.installed(self.stages[-1])
        for p in ("python3", "python3-pandas", "python3-numpy", "python3-matplotlib", "bubblewrap"):
            self.assertIn(p, runtime)
        self.assertEqual([p for p in runtime if p.endswith("-dev") or p in
                          ("build-essential", "cmake", "ccache", "git")], [],
                         "build tools in the runtime stage")


if __name__ == "__main__":
    unittest.main()
