"""HTTP/1.1 edge cases at the protocol level, sent as raw bytes so no client
library normalises them away. Where a request leaves the stream in an unknown
state (a body of unknown or absurd length, a tunnel), the server must answer
and close the connection: reading on would parse body bytes as requests
(request smuggling) or wait for a body that never ends."""

import os
import socket

import pytest
import requests

from .server import TigProcess


def exchange(port, data, timeout=5):
    """Sends `data` and reads until the server closes the connection or stays
    silent for `timeout` seconds. Returns (answer, closed)."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as connection:
        connection.sendall(data)
        answer = b""
        while True:
            try:
                chunk = connection.recv(65536)
            except socket.timeout:
                return answer, False
            except ConnectionResetError:
                return answer, True
            if not chunk:
                return answer, True
            answer += chunk


def status_of(answer):
    """The status code of the first response in `answer`, or None if there is none."""
    parts = answer.split(b" ", 2)
    if len(parts) < 2 or not parts[0].startswith(b"HTTP/1."):
        return None
    return int(parts[1])


def assert_answers_and_closes(port, request, status):
    answer, closed = exchange(port, request)
    assert status_of(answer) == status, answer[:300]
    assert closed, f"the connection stays open after {status}"
    assert answer.count(b"HTTP/1.1 ") == 1, "exactly one answer"


@pytest.mark.parametrize("length", ["9223372036854775808", "18446744073709551615"])
def test_a_content_length_beyond_64_bits_is_413_at_once(tig, length):
    """Content-Length 2^63 (one past Int64.max) and 2^64-1 overflow a signed
    64-bit length. Parsed carelessly they trap (a crash) or wrap to a negative
    or small length; the server must refuse them as too large without waiting
    for the body, and close, since the body's end is unknowable."""
    request = f"PUT / HTTP/1.1\r\nHost: x\r\nContent-Length: {length}\r\n\r\n".encode()
    assert_answers_and_closes(tig.port, request, 413)
    assert tig.process.poll() is None
    assert requests.get(tig.admin_url + "/healthz").status_code == 200


def test_http11_without_host_is_400(tig):
    """RFC 9112 §3.2: a server must answer 400 to an HTTP/1.1 request without a
    Host header. HTTP/1.0 has no such rule and is still served."""
    path = requests.put(tig.url, data=b"hosted").text
    answer, _ = exchange(tig.port, f"GET {path} HTTP/1.1\r\nConnection: close\r\n\r\n".encode())
    assert status_of(answer) == 400, answer[:300]
    for hosts in ("Host:\r\n", "Host: a\r\nHost: b\r\n", "Host: a, b\r\n"):
        answer, _ = exchange(tig.port, f"GET {path} HTTP/1.1\r\n{hosts}Connection: close\r\n\r\n".encode())
        assert status_of(answer) == 400, (hosts, answer[:300])
    answer, _ = exchange(tig.port, f"GET {path} HTTP/1.0\r\n\r\n".encode())
    assert status_of(answer) == 200, answer[:300]
    assert answer.endswith(b"\r\n\r\nhosted")


@pytest.mark.parametrize("coding", ["gzip, chunked", "identity"])
def test_an_unsupported_transfer_coding_is_501_and_closes(tig, coding):
    """Only `chunked` alone is understood. `gzip, chunked` would hand the store
    compressed bytes under the hash of something else, and `identity` is no
    longer a valid transfer coding (RFC 9112 §6.1): the body's framing is
    unknown, so the server answers 501 and closes instead of guessing."""
    request = (f"PUT / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: {coding}\r\n\r\n"
               "3\r\nabc\r\n0\r\n\r\n").encode()
    assert_answers_and_closes(tig.port, request, 501)
    assert tig.block_files() == []


def test_connect_is_405_and_closes(tig):
    """CONNECT asks for a tunnel: whatever follows is not HTTP, so after the 405
    the connection must not be read as further requests."""
    assert_answers_and_closes(tig.port, b"CONNECT x:443 HTTP/1.1\r\nHost: x\r\n\r\n", 405)


@pytest.mark.parametrize("method", ["TRACE", "OPTIONS", "PATCH"])
def test_known_methods_the_store_does_not_offer_are_405(tig, method):
    """Standard methods tig does not implement are 405 Method Not Allowed, and
    TRACE in particular never echoes the request (cross-site tracing)."""
    request = f"{method} / HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".encode()
    answer, _ = exchange(tig.port, request)
    assert status_of(answer) == 405, answer[:300]
    assert b"Host: x" not in answer.split(b"\r\n\r\n", 1)[-1]


def test_an_unknown_method_is_501_and_closes(tig):
    """RFC 9110 §9.1: an unrecognised method is 501 Not Implemented. Its body
    framing is unknown, so the connection is closed."""
    assert_answers_and_closes(tig.port, b"FOO / HTTP/1.1\r\nHost: x\r\n\r\n", 501)


def test_plus_in_a_query_value_is_a_space(tig):
    """Query values are form-decoded (SPEC §3): `+` is a space, as HTML forms
    and most HTTP libraries encode it. `text%2Fhtml%3B+charset%3Dutf-8` is
    the media type `text/html; charset=utf-8`, and `format` gets spaces too."""
    path = requests.put(tig.url, data=b"<p>typed</p>").text
    typed = requests.get(tig.url + path + "?Content-Type=text%2Fhtml%3B+charset%3Dutf-8")
    assert typed.status_code == 200
    assert typed.headers["content-type"] == "text/html; charset=utf-8"
    request = b"PUT /?format=stored+at+*+ok HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nConnection: close\r\n\r\nabc"
    answer, _ = exchange(tig.port, request)
    assert status_of(answer) == 200
    stored = requests.put(tig.url, data=b"abc").text
    assert answer.split(b"\r\n\r\n", 1)[1] == f"stored at {stored} ok".encode()


def test_plus_in_the_listing_format_is_a_space():
    """The listing's `format` is form-decoded like every query value."""
    with TigProcess(env={"APIKEY": "k"}) as tig:
        path = requests.put(tig.url + "/?apikey=k", data=b"listed").text
        listing = requests.get(tig.admin_url + "/?apikey=k&format=%3Ca+href%3D%27*%27%3E")
        assert listing.status_code == 200
        assert listing.text == f"<a href='{path}'>\n"


def test_take_needs_the_key_and_a_refused_take_keeps_the_value():
    """`take` deletes, so it is a write (SPEC §4): without the key it is 401,
    and the refused take must not have consumed the value."""
    with TigProcess(env={"APIKEY": "k"}) as tig:
        slot = tig.url + "/" + os.urandom(32).hex() + ".tig"
        assert requests.put(slot + "?apikey=k", data=b"guarded").status_code == 200
        for credentials in [{}, {"params": {"apikey": "wrong"}}, {"headers": {"Authorization": "Bearer wrong"}}]:
            refused = requests.get(slot + "?take=1", **credentials)
            assert refused.status_code == 401 and refused.content == b""
            assert requests.get(slot).content == b"guarded", "a refused take consumed the value"
        taken = requests.get(slot + "?take=1&apikey=k")
        assert taken.status_code == 200 and taken.content == b"guarded"
        assert requests.get(slot).status_code == 404
