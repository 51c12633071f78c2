"""The client as a curl user expects it (issue 14): --version, an exit
status per kind of failure, a short message when the server is down,
retries across a brief outage, full block URLs, and HTTPS with --cacert,
SSL_CERT_FILE or --insecure."""

import os

from ..pod.server import TigProcess, free_port, make_certificate
from .conftest import Client, block_file, corrupt

MISSING = "/" + "ab" * 32 + ".tig"


def test_version():
    result = Client("http://127.0.0.1:1").run("--version")
    assert result.stdout.decode().strip() == "0.1.0"


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
