"""Two pods on loopback with a static peer list, speaking HTTPS to clients and
to each other: certificate checks between peers are off by default (pods
present the public name's certificate) and on with --peer-tls-verify."""

import os

import requests

from .server import TigProcess, free_port, make_certificate


def start_pair(tmp_path, *extra):
    key, cert = make_certificate(tmp_path, "tig.example.com")
    ports = [free_port(), free_port()]
    peers = ",".join(f"127.0.0.1:{port}" for port in ports)
    return [TigProcess("--tls-key", str(key), "--tls-cert", str(cert), "--peers", peers, "--peer-refresh", "1s",
                       *extra, scheme="https", port=port).start() for port in ports]


def test_peers_reach_each_other_over_https(tmp_path):
    first, second = start_pair(tmp_path)
    try:
        body = os.urandom(300_000)
        path = requests.put(first.url, data=body, verify=False).text
        name = path.lstrip("/")
        # Stored once, at its home (either pod): the write crossed over HTTPS
        # when the home is the other one.
        holders = [pod for pod in (first, second) if name in pod.block_files()]
        assert len(holders) == 1, [pod.block_files() for pod in (first, second)]
        [asker] = [pod for pod in (first, second) if pod is not holders[0]]
        assert requests.get(asker.url + path, verify=False).content == body
        assert name not in asker.block_files(), "answered by the peer, not copied"
    finally:
        first.stop()
        second.stop()


def test_peer_certificates_are_checked_when_asked(tmp_path):
    # The certificate names tig.example.com, not 127.0.0.1, and no CA vouches
    # for it: a verifying pod cannot trust its peer, so it finds nothing there.
    holder, asker = start_pair(tmp_path, "--peer-tls-verify")
    try:
        path = requests.put(holder.url, data=b"behind an untrusted certificate", verify=False).text
        assert requests.get(asker.url + path, verify=False).status_code == 404
        assert requests.get(holder.url + path, verify=False).status_code == 200
    finally:
        holder.stop()
        asker.stop()
