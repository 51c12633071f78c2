"""The kind driver: a Cluster (e2e/scenarios/cluster.py) on a real Kubernetes
cluster, through kubectl.

- url(pod): a `kubectl port-forward pod/<pod>` tunnel, opened on first use.
- service_url(): a local balancer over the tunnels of the ready,
  non-terminating pods, refreshed twice a second. (A port-forward to the
  Service would pin one pod for its whole life and break when that pod goes.)
- kill(SIGKILL): `kubectl delete pod --grace-period=0 --force`;
  kill(SIGTERM): `kubectl delete pod` (graceful: preStop, then SIGTERM, drain).
- rolling_restart(): `kubectl rollout restart` + `kubectl rollout status`.
- add_pod(): `kubectl scale` to one more replica.
"""

from __future__ import annotations

import base64

import json
import re
import signal
import subprocess
import threading

from e2e.scenarios.balancer import Balancer
from e2e.scenarios.cluster import peer_proof
from e2e.scenarios.opconfig import OperatorConfig, parse_duration
from e2e.scenarios.poll import wait_until
from e2e.scenarios.tig import metric_sum

FORWARDING = re.compile(r"Forwarding from 127\.0\.0\.1:(\d+)")
REFRESH_EVERY = 0.5
ROLLOUT_TIMEOUT = 300
ADMIN_PORT = 9090  # the chart's serve.adminPort


class Kubectl:
    def __init__(self, namespace: str) -> None:
        self.namespace = namespace

    def __call__(self, *args: str, timeout: float = 120) -> str:
        done = subprocess.run(["kubectl", "-n", self.namespace, *args], capture_output=True, text=True,
                              timeout=timeout)
        if done.returncode != 0:
            raise RuntimeError(f"kubectl {' '.join(args)}: {done.stderr.strip()}")
        return done.stdout

    def json(self, *args: str) -> dict:
        return json.loads(self(*args, "-o", "json"))


class PortForward:
    def __init__(self, namespace: str, target: str, port: int) -> None:
        self._process = subprocess.Popen(
            ["kubectl", "-n", namespace, "port-forward", "--address", "127.0.0.1", target, f":{port}"],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        line = self._process.stdout.readline()
        match = FORWARDING.search(line)
        if not match:
            self._process.kill()
            raise RuntimeError(f"kubectl port-forward {target}: {line.strip()}")
        self.port = int(match.group(1))
        # Keep reading so kubectl never blocks on a full pipe.
        threading.Thread(target=lambda: [None for _ in self._process.stdout], daemon=True).start()

    @property
    def alive(self) -> bool:
        return self._process.poll() is None

    def close(self) -> None:
        self._process.terminate()
        self._process.wait()


def _is_ready(pod: dict) -> bool:
    return any(c["type"] == "Ready" and c["status"] == "True"
               for c in (pod.get("status") or {}).get("conditions") or [])


def _flag(args: list[str], name: str, default: str) -> str:
    return args[args.index(name) + 1] if name in args[:-1] else default


class KindCluster:
    def __init__(self, namespace: str, deployment: str) -> None:
        self.kubectl = Kubectl(namespace)
        self.deployment = deployment
        spec = self.kubectl.json("get", "deployment", deployment)["spec"]
        self._selector = ",".join(f"{k}={v}" for k, v in spec["selector"]["matchLabels"].items())
        container = spec["template"]["spec"]["containers"][0]
        self._port = container["ports"][0]["containerPort"]
        args = container.get("args") or []
        self._peer_refresh = parse_duration(_flag(args, "--peer-refresh", "5s"))
        self._drain_timeout = parse_duration(_flag(args, "--drain-timeout", "25s"))
        self._secret = self._cluster_secret(spec["template"]["spec"])
        self._lock = threading.Lock()
        self._forwards: dict[str, PortForward] = {}
        self._balancer = Balancer()
        self._stop = threading.Event()
        self._refresh()
        threading.Thread(target=self._keep_service_fresh, daemon=True).start()

    def _cluster_secret(self, pod_spec: dict) -> bytes | None:
        """The cluster secret the chart mounts (TIG_CLUSTER_SECRET_FILE), read
        from its Secret, so the scenarios can send requests as a peer does."""
        for volume in pod_spec.get("volumes", []):
            name = (volume.get("secret") or {}).get("secretName")
            if name:
                data = self.kubectl.json("get", "secret", name).get("data", {})
                if "secret" in data:
                    return base64.b64decode(data["secret"]).rstrip()
        return None

    def peer_headers(self, method: str, uri: str) -> dict[str, str]:
        assert self._secret is not None, "the chart mounts no cluster secret"
        return peer_proof(self._secret, method, uri)

    def operator_config(self) -> OperatorConfig:
        """The config the chart gave the operator (ConfigMap <deployment>-operator)."""
        data = self.kubectl.json("get", "configmap", f"{self.deployment}-operator")["data"]
        return OperatorConfig.from_yaml(data["config.yaml"])

    # -- pods and tunnels ----------------------------------------------------

    def _list(self) -> list[dict]:
        items = self.kubectl.json("get", "pods", "-l", self._selector)["items"]
        return sorted(items, key=lambda p: (p["metadata"]["creationTimestamp"], p["metadata"]["name"]))

    def _forward(self, pod: str, port: int | None = None) -> PortForward:
        key = pod if port is None else f"{pod}:{port}"
        with self._lock:
            forward = self._forwards.get(key)
            if forward is None or not forward.alive:
                forward = self._forwards[key] = PortForward(self.kubectl.namespace, f"pod/{pod}", port or self._port)
            return forward

    def _refresh(self) -> None:
        serving = self.pods()
        self._balancer.set_backends([("127.0.0.1", self._forward(pod).port) for pod in serving])
        with self._lock:
            for key in {key for key in self._forwards if key.split(":")[0] not in serving}:
                self._forwards.pop(key).close()

    def _keep_service_fresh(self) -> None:
        while not self._stop.wait(REFRESH_EVERY):
            try:
                self._refresh()
            except Exception as error:  # noqa: BLE001 - a slow API server; next round retries
                print(f"service refresh: {error}", flush=True)

    # -- the Cluster interface -------------------------------------------------

    def pods(self) -> list[str]:
        return [p["metadata"]["name"] for p in self._list()
                if _is_ready(p) and not p["metadata"].get("deletionTimestamp")]

    def terminating(self) -> list[str]:
        return [p["metadata"]["name"] for p in self._list() if p["metadata"].get("deletionTimestamp")]

    def url(self, pod: str) -> str:
        return f"http://127.0.0.1:{self._forward(pod).port}"

    def member(self, pod: str) -> str:
        [listed] = [p for p in self._list() if p["metadata"]["name"] == pod]
        return f"{listed['status']['podIP']}:{self._port}"

    def admin_url(self, pod: str) -> str:
        return f"http://127.0.0.1:{self._forward(pod, ADMIN_PORT).port}"

    def service_url(self) -> str:
        return self._balancer.url

    def kill(self, pod: str, sig: signal.Signals) -> None:
        if sig == signal.SIGTERM:
            self.kubectl("delete", "pod", pod, "--wait=false")
        else:
            self.kubectl("delete", "pod", pod, "--grace-period=0", "--force", "--wait=false")
            self.wait_gone(pod, 60)
        self._refresh()

    def wait_gone(self, pod: str, timeout: float) -> None:
        self.kubectl("wait", "--for=delete", f"pod/{pod}", f"--timeout={int(timeout)}s", timeout=timeout + 10)

    def add_pod(self) -> str:
        before = set(self.pods())
        self.kubectl("scale", f"deployment/{self.deployment}", f"--replicas={self.replicas() + 1}")
        new = wait_until("a new ready pod", lambda: set(self.pods()) - before, timeout=ROLLOUT_TIMEOUT)
        self._refresh()
        return sorted(new)[0]

    def rolling_restart(self) -> None:
        self.kubectl("rollout", "restart", f"deployment/{self.deployment}")
        self.kubectl("rollout", "status", f"deployment/{self.deployment}", f"--timeout={ROLLOUT_TIMEOUT}s",
                     timeout=ROLLOUT_TIMEOUT + 10)
        wait_until("old pods gone", lambda: not self.terminating(), timeout=self._drain_timeout + 60)
        self._refresh()

    def replicas(self) -> int:
        return self.kubectl.json("get", "deployment", self.deployment)["spec"]["replicas"]

    def logs(self, pod: str) -> str:
        try:
            return self.kubectl("logs", pod, "--tail=200")
        except RuntimeError as error:
            return str(error)

    def peer_refresh(self) -> float:
        return self._peer_refresh

    def drain_timeout(self) -> float:
        return self._drain_timeout

    def settle(self) -> None:
        self.kubectl("rollout", "status", f"deployment/{self.deployment}", f"--timeout={ROLLOUT_TIMEOUT}s",
                     timeout=ROLLOUT_TIMEOUT + 10)
        wait_until("every replica ready, none terminating",
                   lambda: len(self.pods()) == self.replicas() and not self.terminating(),
                   timeout=self._drain_timeout + 60)
        self._refresh()

        def converged() -> bool:
            ready = self.pods()
            return all(metric_sum(self.admin_url(pod), "tig_peers") == len(ready) - 1 for pod in ready)
        wait_until("every pod knows its peers", converged, timeout=3 * self._peer_refresh + 30)

    def report(self) -> str:
        return "\n".join(f"=== pod {p['metadata']['name']} ===\n{self.logs(p['metadata']['name'])}"
                         for p in self._list())

    def close(self) -> None:
        self._stop.set()
        self._balancer.close()
        with self._lock:
            for forward in self._forwards.values():
                forward.close()
            self._forwards.clear()
