"""The files a client needs to reach the emulator, written into --state-dir:

  ca.crt               the cluster CA (what a pod finds in its service-account dir)
  token                the current bearer token (rewritten on rotation)
  client.crt/.key      a client certificate and key signed by the CA
  kubeconfig           server, CA data and token
  kubeconfig-certs     server, CA data and the client certificate and key
  port                 the port the server listens on (written last)

Every file is replaced atomically (write, then rename), so a client that
re-reads the token while it rotates sees the old or the new one, never half.
"""

from __future__ import annotations

import base64
import os
from pathlib import Path

from .certs import ClusterPKI


def _write(path: Path, data: bytes | str, mode: int = 0o644) -> None:
    data = data.encode() if isinstance(data, str) else data
    temporary = path.with_name(f".{path.name}.tmp")
    with open(temporary, "wb") as handle:
        handle.write(data)
    os.chmod(temporary, mode)
    os.replace(temporary, path)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def kubeconfig(server: str, ca_pem: bytes, user: dict[str, str]) -> str:
    user_lines = "\n".join(f"    {key}: {value}" for key, value in user.items())
    return f"""apiVersion: v1
kind: Config
clusters:
- name: kubeapi-emulator
  cluster:
    server: {server}
    certificate-authority-data: {_b64(ca_pem)}
contexts:
- name: kubeapi-emulator
  context:
    cluster: kubeapi-emulator
    user: kubeapi-emulator
    namespace: default
current-context: kubeapi-emulator
preferences: {{}}
users:
- name: kubeapi-emulator
  user:
{user_lines}
"""


class StateDir:
    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        self.path.mkdir(parents=True, exist_ok=True)

    def write_credentials(self, pki: ClusterPKI, server: str, token: str) -> None:
        _write(self.path / "ca.crt", pki.ca_pem)
        _write(self.path / "client.crt", pki.client.cert_pem)
        _write(self.path / "client.key", pki.client.key_pem, 0o600)
        _write(self.path / "kubeconfig-certs", kubeconfig(server, pki.ca_pem, {
            "client-certificate-data": _b64(pki.client.cert_pem),
            "client-key-data": _b64(pki.client.key_pem)}), 0o600)
        self.write_token(pki, server, token)

    def write_token(self, pki: ClusterPKI, server: str, token: str) -> None:
        _write(self.path / "token", token, 0o600)
        _write(self.path / "kubeconfig", kubeconfig(server, pki.ca_pem, {"token": token}), 0o600)

    def write_port(self, port: int) -> None:
        _write(self.path / "port", f"{port}\n")
