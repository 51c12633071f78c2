"""Fixtures of the local e2e suite: one harness run per pytest session (its
id names everything it creates), clusters made per test or per module, and
pod logs attached to every failed test's report."""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path

import pytest

pytest.register_assert_rewrite("e2e.scenarios")

from e2e.scenarios.opconfig import OperatorConfig  # noqa: E402 - after the assert rewrite registration

from . import cleanup  # noqa: E402
from .cluster import LocalCluster  # noqa: E402
from .controlplane import DeploymentCluster, Emulator, Operator, create_deployment  # noqa: E402
from .kubelet import Kubelet  # noqa: E402
from .names import Run, global_lock  # noqa: E402
from .pods import ServeOptions  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
TIG_BIN = os.environ.get("TIG_BIN", str(REPO / ".build/debug/tig"))
TIG_OPERATOR_BIN = os.environ.get("TIG_OPERATOR_BIN", str(REPO / ".build/debug/tig-operator"))
STANDIN = (sys.executable, str(Path(__file__).with_name("standin.py")))


class Clusters:
    """Makes clusters for one scope and closes them at its end."""

    def __init__(self, run: Run) -> None:
        self._run = run
        self.made: list[LocalCluster] = []
        self.extra_reports: list = []  # callables adding text to a failure report (control plane logs)

    def start(self, size: int, command: tuple[str, ...], **options) -> LocalCluster:
        cluster = LocalCluster(self._run, ServeOptions(command=command, **options))
        self.made.append(cluster)
        cluster.start_pods(size)
        return cluster

    def report(self) -> str:
        return "\n".join([cluster.report() for cluster in self.made] + [extra() for extra in self.extra_reports])

    def close(self) -> None:
        for cluster in self.made:
            cluster.close()


@pytest.fixture(scope="session")
def run():
    if os.geteuid() != 0:
        pytest.fail("e2e/local needs root (network namespaces, a bridge, dnsmasq)")
    # A SIGTERM to pytest tears down like Ctrl-C does.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    for run_id, leftovers in cleanup.clean().items():
        print(f"removed leftovers of dead run {run_id}: {leftovers}")
    with global_lock():
        current = Run()
    yield current
    cleanup.clean_run(current.id)  # anything a failed teardown left behind
    current.close()


@pytest.fixture(scope="session")
def tig():
    """The tig command."""
    if not os.access(TIG_BIN, os.X_OK):
        pytest.fail(f"no tig executable at {TIG_BIN} (build it, or set TIG_BIN)")
    return (TIG_BIN,)


class ControlPlanes:
    """Deployments run by the kubelet for the API emulator, and operators
    acting on them. Stopped before the clusters' pods are removed."""

    def __init__(self, run: Run, clusters: Clusters) -> None:
        self._run = run
        self._clusters = clusters
        self._stops: list = []  # in the order they must run

    def start(self, command: tuple[str, ...], config: OperatorConfig, replicas: int,
              **options) -> tuple[DeploymentCluster, Emulator, Kubelet]:
        directory = self._run.dir / f"controlplane{self._run.number()}"
        directory.mkdir()
        emulator = Emulator(directory / "kubeapi", REPO)
        self._stops.append(emulator.stop)
        self._clusters.extra_reports.append(lambda: f"=== kubeapi emulator ===\n{emulator.log()}")
        create_deployment(emulator.api, config, replicas)
        cluster = DeploymentCluster(self._run, ServeOptions(command=command, **options),
                                    api=emulator.api, config=config)
        self._clusters.made.append(cluster)
        kubelet = Kubelet(emulator.api, cluster, config.namespace, config.selector).start()
        self._stops.insert(0, kubelet.stop)
        self._clusters.extra_reports.append(lambda: "=== kubelet errors ===\n" + "\n".join(kubelet.errors))
        return cluster, emulator, kubelet

    def operator(self, emulator: Emulator, config: OperatorConfig) -> Operator:
        if not os.access(TIG_OPERATOR_BIN, os.X_OK):
            pytest.skip(f"no tig-operator executable at {TIG_OPERATOR_BIN} (build it, or set TIG_OPERATOR_BIN)")
        operator = Operator(TIG_OPERATOR_BIN, emulator.kubeconfig, config, emulator.state_dir.parent)
        self._stops.insert(0, operator.stop)
        self._clusters.extra_reports.append(lambda: f"=== tig-operator ===\n{operator.log()}")
        return operator

    def close(self) -> None:
        for stop in self._stops:
            stop()


@pytest.fixture
def control_planes(run, clusters):
    if not (REPO / "e2e/kubeapi/__main__.py").exists():
        pytest.skip("the Kubernetes API emulator (e2e/kubeapi) is not there yet")
    made = ControlPlanes(run, clusters)
    yield made
    made.close()


@pytest.fixture
def clusters(run):
    made = Clusters(run)
    yield made
    made.close()


@pytest.fixture(scope="module")
def module_clusters(run):
    made = Clusters(run)
    yield made
    made.close()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.failed:
        for value in getattr(item, "funcargs", {}).values():
            if isinstance(value, Clusters):
                report.sections.append(("pod logs", value.report()))
    return report
