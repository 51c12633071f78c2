"""The emulator's own tests use its pytest fixtures (see fixtures.py)."""

from e2e.kubeapi.fixtures import kubeapi, kubeapi_server  # noqa: F401  (pytest discovers them by name)
