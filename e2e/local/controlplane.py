"""The control plane of the operator scenario: the Kubernetes API emulator
(e2e/kubeapi, written by another part of the project) and the tig-operator,
each a child process with a log file, plus the tig Deployment they act on."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import threading
from pathlib import Path

from e2e.scenarios.opconfig import OperatorConfig

from .cluster import LocalCluster
from .kube import KubeAPI

STARTUP_TIMEOUT = 30.0
LISTENING = re.compile(r"kubeapi listening on (https://\S+)")


def _tail(path: Path, lines: int = 200) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except FileNotFoundError:
        return ""


def _stop(process: subprocess.Popen, timeout: float = 10.0) -> None:
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


class Emulator:
    """`python3 -m e2e.kubeapi --state-dir DIR`: HTTPS, credentials in DIR."""

    def __init__(self, state_dir: Path, repo: Path) -> None:
        self.state_dir = state_dir
        self.log_path = state_dir.parent / "kubeapi.log"
        state_dir.mkdir(parents=True)
        log = open(self.log_path, "w")
        self._process = subprocess.Popen([sys.executable, "-m", "e2e.kubeapi", "--state-dir", str(state_dir)],
                                         cwd=repo, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                         stderr=log, text=True, start_new_session=True)
        found = threading.Event()
        server: list[str] = []

        def copy_output() -> None:  # to the log, noting the address line
            for line in self._process.stdout:
                log.write(line)
                log.flush()
                if not found.is_set() and (match := LISTENING.search(line)):
                    server.append(match.group(1))
                    found.set()
            found.set()
            log.close()

        threading.Thread(target=copy_output, daemon=True).start()
        try:
            if not found.wait(STARTUP_TIMEOUT) or not server:
                raise RuntimeError(f"the API emulator did not start:\n{self.log()}")
        except BaseException:  # also Ctrl-C: never leave the process behind
            _stop(self._process)
            raise
        self.api = KubeAPI(server[0], state_dir / "token", state_dir / "ca.crt")

    @property
    def kubeconfig(self) -> Path:
        return self.state_dir / "kubeconfig"

    def log(self) -> str:
        return _tail(self.log_path)

    def stop(self) -> None:
        _stop(self._process)


class Operator:
    """tig-operator on the host, against the emulator, with a test config."""

    def __init__(self, binary: str, kubeconfig: Path, config: OperatorConfig, directory: Path) -> None:
        config_path = directory / "operator.yaml"
        config_path.write_text(config.to_yaml())
        self.log_path = directory / "operator.log"
        with socket.socket() as probe:  # a free port for its own /metrics and /healthz
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        with open(self.log_path, "wb") as log:
            self._process = subprocess.Popen(
                [binary, "--kubeconfig", str(kubeconfig), "--config", str(config_path),
                 "--listen", f"127.0.0.1:{port}", "--log-level", "debug"],
                env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "POD_NAME": "tig-operator-e2e",
                     "POD_NAMESPACE": config.namespace},
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)

    def log(self) -> str:
        return _tail(self.log_path)

    def stop(self) -> None:
        _stop(self._process)


def create_deployment(api: KubeAPI, config: OperatorConfig, replicas: int) -> None:
    """The tig Deployment the operator scales; its pods carry the selector's labels."""
    labels = dict(part.split("=", 1) for part in config.selector.split(","))
    api.create(f"/apis/apps/v1/namespaces/{config.namespace}/deployments", {
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": config.deployment, "namespace": config.namespace, "labels": labels},
        "spec": {"replicas": replicas, "selector": {"matchLabels": labels},
                 "template": {"metadata": {"labels": labels},
                              "spec": {"terminationGracePeriodSeconds": 60,
                                       "containers": [{"name": "tig", "image": "tig:e2e",
                                                       "ports": [{"containerPort": config.metricsPort}]}]}}}})


class DeploymentCluster(LocalCluster):
    """A LocalCluster whose pods the kubelet runs for the emulator's Deployment:
    the desired replica count is the Deployment's."""

    def __init__(self, *args, api: KubeAPI, config: OperatorConfig, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._deployment = f"/apis/apps/v1/namespaces/{config.namespace}/deployments/{config.deployment}"
        self._api = api

    def replicas(self) -> int:
        return self._api.get(self._deployment)["spec"]["replicas"]
