"""pytest fixtures. Enable them in a conftest.py with

    pytest_plugins = ["e2e.kubeapi.fixtures"]

- `kubeapi_server` (session): one emulator on a background thread.
- `kubeapi` (per test): the same emulator after a reset (no objects but the
  default namespaces, no faults, empty request log, no watches) and with
  the default settings (config.py: controllers on, RBAC on, 0.1 s informer
  lag, no auto-kubelet, 60 s bookmarks, ...).
"""

from __future__ import annotations

import pytest

from .client import RunningEmulator, start_thread
from .config import EmulatorConfig

DEFAULT_SETTINGS = {k: v for k, v in EmulatorConfig().to_json().items() if k != "nodeName"}


@pytest.fixture(scope="session")
def kubeapi_server(tmp_path_factory) -> RunningEmulator:
    kube = start_thread(tmp_path_factory.mktemp("kubeapi"))
    yield kube
    kube.stop()


@pytest.fixture
def kubeapi(kubeapi_server: RunningEmulator) -> RunningEmulator:
    kubeapi_server.reset()
    kubeapi_server.configure(**DEFAULT_SETTINGS)
    return kubeapi_server
