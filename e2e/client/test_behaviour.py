"""The client as a curl user expects it (issue 14): --version, an exit
status per kind of failure, a short message when the server is down,
retries across a brief outage, full block URLs, and HTTPS with --cacert,
SSL_CERT_FILE or --insecure."""

import os
import re
import signal
import subprocess
from pathlib import Path

from ..pod.server import TigProcess, free_port, make_certificate, poll
from .conftest import Client, block_file, corrupt

MISSING = "/" + "ab" * 32 + ".tig"
REPO = Path(__file__).resolve().parents[2]
OPERATOR_BIN = os.environ.get("TIG_OPERATOR_BIN", str(REPO / ".build" / "debug" / "tig-operator"))


def test_version_names_the_release_and_the_revision_built():
    """scripts/test.sh stamps the build with git's commit before building, so
    in a checkout the revision is the checkout's (maybe marked modified)."""
    result = Client("http://127.0.0.1:1").run("--version")
    release, revision = result.stdout.decode().strip().split(" (revision ")
    assert release == "0.1.0"
    head = subprocess.run(["git", "rev-parse", "--short=12", "HEAD"], capture_output=True, text=True, cwd=REPO)
    if head.returncode == 0:
        assert re.fullmatch(r"[0-9a-f]{12}(-modified)?\)", revision), revision
        assert revision.startswith(head.stdout.strip()), (revision, head.stdout)
    else:  # not a checkout git can read: the stamp says so
        assert revision == "unknown)", revision
    operator = subprocess.run([OPERATOR_BIN, "--version"], capture_output=True, text=True, check=True)
    assert operator.stdout.strip() == result.stdout.decode().strip()


def test_each_kind_of_failure_has_its_exit_status(server, tig, tmp_path):
    assert tig.run("get", MISSING, check=False).returncode == 2
    (tmp_path / "block").write_bytes(b"some bytes")
    path = tig.path("put", tmp_path / "block")
    corrupt(block_file(server, path))
    assert tig.run("get", path, check=False).returncode == 3
    down = Client(f"http://127.0.0.1:{free_port()}").run("get", MISSING, check=False, timeout=30)
    assert down.returncode == 4
    assert down.stderr.decode().strip().endswith("Connection refused"), down.stderr
    assert tig.run("get", "not-a-path", check=False).returncode == 64


def test_a_wrong_api_key_exits_5(tmp_path):
    with TigProcess(env={"APIKEY": "right-key"}) as server:
        (tmp_path / "block").write_bytes(b"keyed")
        wrong = Client(server.url, env={"TIG_APIKEY": "wrong-key"}).run("put", tmp_path / "block", check=False)
        assert wrong.returncode == 5, wrong.stderr


def test_a_read_rides_out_a_server_that_is_not_up_yet(tmp_path):
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    data = tmp_path / "data"
    data.mkdir()
    with TigProcess(data=str(data), port=port) as first:
        (tmp_path / "block").write_bytes(b"still here")
        path = Client(url).path("put", tmp_path / "block")
    # The server is down when the client starts, and back within a second.
    reading = Client(url).popen("get", path)
    with TigProcess(data=str(data), port=port):
        out, err = reading.communicate(timeout=30)
    assert reading.returncode == 0, err
    assert out == "still here"
    assert first.process.returncode is not None


def test_a_push_rides_out_a_server_that_restarts_mid_push(tmp_path):
    """A pod restarted (or rotated) while a push runs: the requests in flight
    fail and the server refuses connections for a moment; the push retries
    and completes, and the tree is whole on the restarted server."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    data = tmp_path / "data"
    data.mkdir()
    source = tmp_path / "source"
    source.mkdir()
    for i in range(3000):
        (source / f"file-{i:04}").write_bytes(f"file {i} of the tree pushed across a restart\n".encode() * 20)
    with TigProcess("--log-level", "warning", data=str(data), port=port) as first:
        pushing = Client(url).popen("push", source)
        poll(lambda: any(name.endswith(".tig") for name in os.listdir(data)), message="the first block of the push")
        # Frozen with requests in flight, then killed: they fail, and the port refuses.
        first.process.send_signal(signal.SIGSTOP)
        assert pushing.poll() is None, "the push ended before the server stopped"
        first.kill()
    with TigProcess("--log-level", "warning", data=str(data), port=port):
        out, err = pushing.communicate(timeout=60)
        assert pushing.returncode == 0, err
        root = out.strip()
        Client(url).run("pull", root, tmp_path / "copy")
    assert sorted(os.listdir(tmp_path / "copy")) == sorted(os.listdir(source))
    for name in os.listdir(source):
        assert (tmp_path / "copy" / name).read_bytes() == (source / name).read_bytes(), name


def test_a_full_block_url_names_its_server(server, tig, tmp_path):
    (tmp_path / "block").write_bytes(b"by url")
    path = tig.path("put", tmp_path / "block")
    elsewhere = Client(f"http://127.0.0.1:{free_port()}")
    assert elsewhere.run("get", server.url + path).stdout == b"by url"


def test_https_with_cacert_ssl_cert_file_or_insecure(tmp_path):
    key, cert = make_certificate(tmp_path)
    with TigProcess("--tls-key", str(key), "--tls-cert", str(cert), scheme="https") as server:
        (tmp_path / "block").write_bytes(b"over tls")
        untrusted = Client(server.url).run("put", tmp_path / "block", check=False)
        assert untrusted.returncode == 4, "an unknown certificate authority is refused"
        path = Client(server.url).path("put", "--cacert", str(cert), tmp_path / "block")
        assert Client(server.url, env={"SSL_CERT_FILE": str(cert)}).run("get", path).stdout == b"over tls"
        assert Client(server.url).run("get", "--insecure", path).stdout == b"over tls"
        assert Client(server.url).run("get", "-k", path).stdout == b"over tls"
    assert os.path.exists(cert)
