"""The files a client needs to reach the emulator, written into --state-dir:

  ca.crt               the cluster CA (what a pod finds in its service-account dir)
  token                the harness's (admin, system:masters) bearer token
  kubeconfig-admin     server, CA data and the admin token
  operator-token       the operator service account's token (RBAC: the chart's Role)
  kubeconfig           server, CA data and the operator's token
  token-NAME, kubeconfig-NAME   a credential minted later (POST /_emulator/tokens)
  client.crt/.key      a client certificate and key signed by the CA (admin)
  kubeconfig-certs     server, CA data and the client certificate and key
  port                 the port the server listens on (written last)

Tokens are rewritten on rotation.

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

    def write_credentials(self, pki: ClusterPKI, server: str, tokens: dict[str, str]) -> None:
        _write(self.path / "ca.crt", pki.ca_pem)
        _write(self.path / "client.crt", pki.client.cert_pem)
        _write(self.path / "client.key", pki.client.key_pem, 0o600)
        _write(self.path / "kubeconfig-certs", kubeconfig(server, pki.ca_pem, {
            "client-certificate-data": _b64(pki.client.cert_pem),
            "client-key-data": _b64(pki.client.key_pem)}), 0o600)
        for credential, token in tokens.items():
            self.write_token(pki, server, credential, token)

    @staticmethod
    def token_files(credential: str) -> tuple[str, str]:
        """The token file and the kubeconfig of a credential."""
        return {"admin": ("token", "kubeconfig-admin"),
                "operator": ("operator-token", "kubeconfig")}.get(credential,
                                                                   (f"token-{credential}", f"kubeconfig-{credential}"))

    def write_token(self, pki: ClusterPKI, server: str, credential: str, token: str) -> tuple[Path, Path]:
        token_name, config_name = self.token_files(credential)
        _write(self.path / token_name, token, 0o600)
        _write(self.path / config_name, kubeconfig(server, pki.ca_pem, {"token": token}), 0o600)
        return self.path / token_name, self.path / config_name

    def write_port(self, port: int) -> None:
        _write(self.path / "port", f"{port}\n")
