"""TLS certificates that rotate (issue 14): the Secret is mounted as a
directory, and the kubelet updates it by swapping the `..data` link to a new
timestamped directory. New connections get the new pair, an open connection
keeps working, and a pair that does not load is logged and the old kept."""

import http.client
import os
import socket
import ssl
import subprocess
from pathlib import Path

import requests

from .server import TIG_BIN, TigProcess, make_certificate, poll


def kubelet_mount(root: Path, key: Path, cert: Path, generation: int) -> None:
    """Lays `key` and `cert` out as the kubelet does for a Secret volume:
    root/..<gen>/tls.{crt,key}, root/..data -> ..<gen>, root/tls.crt ->
    ..data/tls.crt; an update renames a new ..data link over the old one."""
    version = root / f"..{generation}"
    version.mkdir()
    (version / "tls.crt").write_bytes(cert.read_bytes())
    (version / "tls.key").write_bytes(key.read_bytes())
    link = root / "..data_tmp"
    link.symlink_to(version.name)
    os.replace(link, root / "..data")
    for name in ("tls.crt", "tls.key"):
        if not (root / name).is_symlink():
            (root / name).symlink_to(f"..data/{name}")


def served_certificate(port: int) -> bytes:
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    with socket.create_connection(("127.0.0.1", port), timeout=5) as raw:
        with context.wrap_socket(raw) as tls:
            return tls.getpeercert(binary_form=True)


def der(cert: Path) -> bytes:
    return ssl.PEM_cert_to_DER_cert(cert.read_text())


def test_a_renewed_certificate_reaches_new_connections_and_a_bad_one_is_refused(tmp_path):
    first, second, third = (tmp_path / name for name in ("first", "second", "third"))
    for directory in (first, second, third):
        directory.mkdir()
    key_a, cert_a = make_certificate(first)
    key_b, cert_b = make_certificate(second)
    key_c, _ = make_certificate(third)
    mount = tmp_path / "tls"
    mount.mkdir()
    kubelet_mount(mount, key_a, cert_a, 1)
    args = ("--tls-cert", str(mount / "tls.crt"), "--tls-key", str(mount / "tls.key"), "--tls-reload-interval", "100ms")
    with TigProcess(*args, scheme="https") as tig:
        assert served_certificate(tig.port) == der(cert_a)
        context = ssl.create_default_context(cafile=str(cert_a))
        kept = http.client.HTTPSConnection("127.0.0.1", tig.port, context=context, timeout=10)
        kept.request("PUT", "/", body=b"before the rotation")
        path = kept.getresponse().read().decode()

        kubelet_mount(mount, key_b, cert_b, 2)
        poll(lambda: served_certificate(tig.port) == der(cert_b), timeout=20, message="the renewed certificate served")
        assert requests.get(tig.url + path, verify=str(cert_b)).content == b"before the rotation"
        kept.request("GET", path)
        answer = kept.getresponse()
        assert answer.status == 200 and answer.read() == b"before the rotation", "the open connection keeps working"
        assert kept.sock.getpeercert(binary_form=True) == der(cert_a), "it is still the connection made before"
        kept.close()

        # A key that does not belong to the certificate: logged, the last good pair kept.
        kubelet_mount(mount, key_c, cert_b, 3)
        poll(lambda: "event=tls-reload-failed" in tig.log_text(), timeout=20, message="the bad pair reported")
        assert served_certificate(tig.port) == der(cert_b)
        assert requests.get(tig.url + path, verify=str(cert_b)).content == b"before the rotation"
        failed = [line for line in tig.log_text().splitlines() if "event=tls-reload-failed" in line]
        assert len(failed) == 1, f"a bad pair is reported once, not at every look: {failed}"
    assert sum("event=tls-reloaded" in line for line in tig.log_text().splitlines()) == 1


def test_a_half_written_certificate_is_kept_out(tmp_path):
    """A tool that writes the files in place (no link swap) may be seen
    between the two writes: garbage is refused, the complete pair loads."""
    key, cert = make_certificate(tmp_path)
    other = tmp_path / "other"
    other.mkdir()
    key_b, cert_b = make_certificate(other)
    original = der(cert)
    with TigProcess("--tls-cert", str(cert), "--tls-key", str(key), "--tls-reload-interval", "100ms", scheme="https") as tig:
        cert.write_text(cert_b.read_text()[:200])
        poll(lambda: "event=tls-reload-failed" in tig.log_text(), timeout=20, message="the torn certificate reported")
        assert served_certificate(tig.port) == original, "the last good pair is kept"
        cert.write_text(cert_b.read_text())
        key.write_text(key_b.read_text())
        poll(lambda: served_certificate(tig.port) == der(cert_b), timeout=20, message="the complete pair served")


def test_a_fifo_or_huge_file_at_the_certificate_path_is_refused_without_hanging(tmp_path):
    """Opening a FIFO blocks until a writer comes, and a huge file holds the
    loop while it is read: neither is a certificate, so the reload refuses
    them at once and the server keeps answering with the pair it has."""
    key, cert = make_certificate(tmp_path)
    original = der(cert)
    mount = tmp_path / "tls"
    mount.mkdir()
    kubelet_mount(mount, key, cert, 1)
    args = ("--tls-cert", str(mount / "tls.crt"), "--tls-key", str(mount / "tls.key"), "--tls-reload-interval", "100ms")
    with TigProcess(*args, scheme="https") as tig:
        version = mount / "..2"
        version.mkdir()
        os.mkfifo(version / "tls.crt")
        (version / "tls.key").write_bytes(key.read_bytes())
        link = mount / "..data_tmp"
        link.symlink_to(version.name)
        os.replace(link, mount / "..data")
        poll(lambda: "event=tls-reload-failed" in tig.log_text(), timeout=20, message="the FIFO refused")
        for _ in range(20):
            assert served_certificate(tig.port) == original, "still the old pair, and no hang"
        os.unlink(version / "tls.crt")
        with open(version / "tls.crt", "wb") as huge:
            huge.write(cert.read_bytes() + b"\n" * (2 << 20))
        poll(lambda: tig.log_text().count("event=tls-reload-failed") == 2, timeout=20, message="the huge file refused")
        assert served_certificate(tig.port) == original
    fifo = tmp_path / "fifo.crt"
    os.mkfifo(fifo)
    result = subprocess.run([TIG_BIN, "serve", "--listen", "127.0.0.1:0", "--admin-listen", "127.0.0.1:0", "--data", str(tmp_path),
                             "--tls-cert", str(fifo), "--tls-key", str(key)], capture_output=True, text=True, timeout=30)
    assert result.returncode != 0 and str(fifo) in result.stderr, result.stderr
