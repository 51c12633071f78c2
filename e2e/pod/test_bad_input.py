"""Bad input gets a clear status, creates no file, and the server keeps serving."""

import hashlib
import os
import socket
import time

import pytest
import requests

from .server import TigProcess

HEX = "181210f8f9c779c26da1d9b2075bde0127302ee0e3fca38c9a83f5b1dd8e5d3b"


def raw_request(port, data, timeout=10):
    """Sends raw bytes and returns everything the server answers until it closes."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as connection:
        connection.sendall(data)
        answer = b""
        while True:
            chunk = connection.recv(65536)
            if not chunk:
                return answer
            answer += chunk


def status_of(answer):
    return int(answer.split(b" ", 2)[1])


def assert_still_serving(tig):
    answer = requests.put(tig.url, data=b"still here")
    assert answer.status_code == 200
    assert requests.get(tig.url + answer.text).content == b"still here"


@pytest.mark.parametrize("path, status", [
    ("/../etc/passwd", 400),
    ("/./" + HEX + ".tig", 400),
    ("/%2e%2e/%2e%2e/etc/passwd", 400),
    ("/%2E%2E%2Fapikey", 400),
    ("/" + HEX.upper() + ".tig", 400),
    ("/" + HEX[:63] + ".tig", 400),
    ("/" + HEX + "a.tig", 400),
    ("/" + HEX, 400),
    ("/" + HEX + ".tig/..", 400),
    ("/apikey", 404),
    ("/etc/passwd", 404),
])
@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE"])
def test_bad_paths_are_refused_without_touching_files(tig, path, status, method):
    request = f"{method} {path} HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nConnection: close\r\n\r\nabc".encode()
    answer = raw_request(tig.port, request)
    assert status_of(answer) == status
    assert answer.endswith(b"\r\n\r\n"), "an error answer has an empty body"
    assert tig.files() == []
    assert_still_serving(tig)


def test_oversized_body_is_refused_and_leaves_nothing(tmp_path):
    with TigProcess("--max-block-size", "1MiB") as tig:
        answer = requests.put(tig.url, data=os.urandom((1 << 20) + 1))
        assert answer.status_code == 413 and answer.content == b""
        chunked = requests.put(tig.url, data=iter([os.urandom(600_000), os.urandom(600_000)]))
        assert chunked.status_code == 413
        slot = requests.put(tig.url + "/" + os.urandom(32).hex() + ".tig", data=os.urandom(2 << 20))
        assert slot.status_code == 413
        assert tig.files() == []
        exactly = os.urandom(1 << 20)
        assert requests.put(tig.url, data=exactly).status_code == 200
        assert_still_serving(tig)


def test_oversized_header_is_refused(tig):
    request = b"GET /" + HEX.encode() + b".tig HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 100_000 + b"\r\n\r\n"
    answer = raw_request(tig.port, request)
    assert status_of(answer) == 431
    assert_still_serving(tig)


def test_overlong_url_is_refused(tig):
    answer = requests.get(tig.url + "/?format=" + "x" * 9000)
    assert answer.status_code == 414 and answer.content == b""
    assert_still_serving(tig)


def test_slowloris_is_timed_out_on_its_own():
    with TigProcess("--header-timeout", "1s") as tig:
        with socket.create_connection(("127.0.0.1", tig.port), timeout=10) as slow:
            slow.sendall(b"GET / HTTP/1.1\r\n")
            started = time.monotonic()
            # Other clients are served while the slow one dawdles.
            assert_still_serving(tig)
            answer = b""
            try:
                while True:
                    slow.sendall(b"X-Slow: 1\r\n")
                    chunk = slow.recv(4096)
                    if not chunk:
                        break
                    answer += chunk
            except (ConnectionResetError, BrokenPipeError):
                pass
            assert status_of(answer) == 408
            assert time.monotonic() - started < 8, "the header deadline does not move with each trickled byte"
        assert_still_serving(tig)
        assert len(tig.files()) == 1, "only the block stored by assert_still_serving"


def test_a_body_that_ends_early_stores_nothing(tig):
    slot = "/" + os.urandom(32).hex() + ".tig"
    for path in ["/", slot]:
        with socket.create_connection(("127.0.0.1", tig.port)) as connection:
            connection.sendall(f"PUT {path} HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n".encode() + b"a" * 50_000)
        # The server sees the disconnect; the partial body must leave no trace.
        assert_still_serving(tig)
    assert len(tig.files()) == 1, "only the block stored by assert_still_serving"
    assert requests.get(tig.url + slot).status_code == 404


def test_wrong_api_key_is_refused(tmp_path):
    with TigProcess(env={"APIKEY": "right"}) as tig:
        for key in ["", "?apikey=wrong", "?apikey=righ", "?apikey=rightt"]:
            answer = requests.put(tig.url + "/" + key, data=b"secret")
            assert answer.status_code == 401 and answer.content == b""
        assert tig.files() == []
        assert requests.put(tig.url + "/?apikey=right", data=b"ok").status_code == 200


def test_printf_directives_in_format_are_literal(tig):
    # Raw bytes: HTTP client libraries would re-encode the stray % signs.
    request = b"PUT /?format=%s%n%x%25*%0A HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nConnection: close\r\n\r\nfmt"
    answer = raw_request(tig.port, request)
    assert status_of(answer) == 200
    body = answer.split(b"\r\n\r\n", 1)[1]
    assert body == b"%s%n%x%/" + hashlib.sha256(b"fmt").hexdigest().encode() + b".tig\n"


def test_header_injection_through_content_type_is_refused(tig):
    path = requests.put(tig.url, data=b"x").text
    answer = requests.get(tig.url + path + "?Content-Type=text/html%0D%0ASet-Cookie:%20a=b")
    assert answer.status_code == 400
    assert "set-cookie" not in answer.headers


def test_unsupported_methods_are_refused(tig):
    for method in ["PATCH", "OPTIONS", "TRACE"]:
        assert requests.request(method, tig.url + "/").status_code == 405
