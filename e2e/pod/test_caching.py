"""HTTP caching and ranges (SPEC §3, RFC 9110 §8.8, §13, §14) with real
clients: curl (`-C -` resuming a download, `-r` ranges) and requests. Also
that an API key sent in the query never reaches a log line."""

import hashlib
import os
import subprocess
from concurrent.futures import ThreadPoolExecutor

import requests

from .server import TigProcess

MIB = 1 << 20


def put(tig, body: bytes) -> str:
    answer = requests.put(tig.url, data=body)
    assert answer.status_code == 200
    return answer.text


def test_a_content_block_is_immutable_and_tagged_by_its_hash(tig):
    body = b"cache me"
    path = put(tig, body)
    answer = requests.get(tig.url + path)
    assert answer.content == body
    assert answer.headers["ETag"] == f'"{hashlib.sha256(body).hexdigest()}"'
    assert answer.headers["Cache-Control"] == "public, max-age=600, immutable"
    assert answer.headers["Accept-Ranges"] == "bytes"
    head = requests.head(tig.url + path)
    assert head.headers["ETag"] == answer.headers["ETag"] and head.headers["Content-Length"] == str(len(body))


def test_a_key_slot_must_be_asked_again_and_its_tag_follows_its_value(tig):
    slot = "/" + "ab" * 32 + ".tig"
    assert requests.put(tig.url + slot, data=b"v1").status_code == 200
    answer = requests.get(tig.url + slot)
    assert answer.headers["Cache-Control"] == "no-cache"
    assert answer.headers["ETag"] == f'"{hashlib.sha256(b"v1").hexdigest()}"'
    assert requests.get(tig.url + slot, headers={"If-None-Match": answer.headers["ETag"]}).status_code == 304
    assert requests.put(tig.url + slot + "?append=1", data=b"+").status_code == 200
    changed = requests.get(tig.url + slot, headers={"If-None-Match": answer.headers["ETag"]})
    assert changed.status_code == 200 and changed.content == b"v1+"
    assert changed.headers["ETag"] == f'"{hashlib.sha256(b"v1+").hexdigest()}"'
    assert requests.get(tig.url + slot + "?take=1").headers["Cache-Control"] == "no-store"


def test_if_match_is_compare_and_set_on_a_slot(tig):
    slot = tig.url + "/" + "ac" * 32 + ".tig"
    assert requests.put(slot, headers={"If-Match": "*"}, data=b"x").status_code == 412, "nothing to match yet"
    assert requests.put(slot, headers={"If-None-Match": "*"}, data=b"v1").status_code == 200
    assert requests.put(slot, headers={"If-None-Match": "*"}, data=b"again").status_code == 412
    etag = requests.get(slot).headers["ETag"]
    assert requests.put(slot, headers={"If-Match": etag}, data=b"v2").status_code == 200
    stale = requests.put(slot, headers={"If-Match": etag}, data=b"v3")
    assert stale.status_code == 412 and stale.content == b""
    assert requests.get(slot).content == b"v2"
    assert requests.put(slot, headers={"If-Match": "W/" + requests.get(slot).headers["ETag"]}, data=b"v3").status_code == 412, \
        "If-Match compares strongly"
    assert requests.put(slot + "?append=1", headers={"If-Match": requests.get(slot).headers["ETag"]}, data=b"+").status_code == 200
    assert requests.get(slot).content == b"v2+"


def test_of_100_writers_with_the_same_tag_exactly_one_wins(tig):
    slot = tig.url + "/" + "ad" * 32 + ".tig"
    assert requests.put(slot, data=b"start").status_code == 200
    etag = requests.get(slot).headers["ETag"]

    def write(index):
        return requests.put(slot, headers={"If-Match": etag}, data=f"writer {index}".encode()).status_code

    with ThreadPoolExecutor(max_workers=20) as pool:
        codes = list(pool.map(write, range(100)))
    assert sorted(codes) == [200] + [412] * 99
    winner = codes.index(200)
    assert requests.get(slot).content == f"writer {winner}".encode()


def test_if_none_match_answers_304_without_a_body(tig):
    path = put(tig, b"validated")
    etag = requests.get(tig.url + path).headers["ETag"]
    for method in ("GET", "HEAD"):
        answer = requests.request(method, tig.url + path, headers={"If-None-Match": f'"other", {etag}'})
        assert answer.status_code == 304 and answer.content == b""
        assert answer.headers["ETag"] == etag and answer.headers["Cache-Control"].endswith("immutable")
    assert requests.get(tig.url + path, headers={"If-None-Match": '"other"'}).content == b"validated"
    # curl's own conditional GET, and the connection stays usable after a 304.
    out = subprocess.run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code} %{num_connects} ", "-H", f"If-None-Match: {etag}",
                          tig.url + path, "--next", "-s", "-o", "/dev/null", "-w", "%{http_code} %{num_connects}",
                          tig.url + path], capture_output=True, text=True, check=True).stdout
    assert out == "304 1 200 0", "the second request reuses the connection"
    # An absent block is absent, whatever the client has.
    assert requests.get(tig.url + "/" + "cd" * 32 + ".tig", headers={"If-None-Match": "*"}).status_code == 404


def test_ranges_answer_206_with_content_range(tig):
    body = os.urandom(100_000)
    path = put(tig, body)
    for header, start, end in [("bytes=0-9", 0, 10), ("bytes=99990-", 99990, 100_000), ("bytes=-5", 99995, 100_000),
                               ("bytes=50000-999999", 50000, 100_000)]:
        answer = requests.get(tig.url + path, headers={"Range": header})
        part = body[start:end]
        assert answer.status_code == 206 and answer.content == part, header
        assert answer.headers["Content-Range"] == f"bytes {start}-{end - 1}/{len(body)}"
        assert answer.headers["Content-Length"] == str(len(part))
    curl = subprocess.run(["curl", "-sf", "-r", "1000-1999", tig.url + path], capture_output=True, check=True)
    assert curl.stdout == body[1000:2000]


def test_a_range_past_the_end_is_416_and_other_ranges_get_everything(tig):
    body = b"0123456789"
    path = put(tig, body)
    answer = requests.get(tig.url + path, headers={"Range": "bytes=10-"})
    assert answer.status_code == 416 and answer.content == b""
    assert answer.headers["Content-Range"] == "bytes */10"
    for header in ["bytes=0-1,4-5", "lines=1-2", "bytes=5-1"]:
        answer = requests.get(tig.url + path, headers={"Range": header})
        assert answer.status_code == 200 and answer.content == body, header


def test_if_range_with_another_tag_gets_the_whole_body(tig):
    body = b"0123456789"
    path = put(tig, body)
    etag = requests.head(tig.url + path).headers["ETag"]
    assert requests.get(tig.url + path, headers={"Range": "bytes=2-3", "If-Range": etag}).content == b"23"
    stale = requests.get(tig.url + path, headers={"Range": "bytes=2-3", "If-Range": '"changed"'})
    assert stale.status_code == 200 and stale.content == body


def test_curl_resumes_an_interrupted_download_to_identical_bytes(tig, tmp_path):
    """`curl -C -` continues a partial file with `Range: bytes=<size>-`; both
    the file path (sendfile) and a slot's range get identical bytes."""
    body = os.urandom(3 * MIB + 12345)
    path = put(tig, body)
    slot = "/" + "ef" * 32 + ".tig"
    assert requests.put(tig.url + slot, data=body).status_code == 200
    for name, address in [("content", path), ("slot", slot)]:
        partial = tmp_path / name
        partial.write_bytes(body[:MIB + 7])  # what an interrupted transfer left
        subprocess.run(["curl", "-sf", "-C", "-", "-o", str(partial), tig.url + address], check=True)
        assert partial.read_bytes() == body, name
        # Resuming a complete file asks past the end: 416, and curl keeps it as it is.
        subprocess.run(["curl", "-s", "-C", "-", "-o", str(partial), tig.url + address], check=True)
        assert partial.read_bytes() == body, name


def test_ranges_over_tls_read_the_right_slices(tmp_path):
    key, certificate = tmp_path / "tig.key", tmp_path / "tig.crt"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=localhost",
                    "-keyout", str(key), "-out", str(certificate), "-days", "1"], check=True, capture_output=True)
    body = os.urandom(2 * MIB)
    with TigProcess("--tls-key", str(key), "--tls-cert", str(certificate), scheme="https") as tig:
        path = requests.put(tig.url, data=body, verify=False).text
        answer = requests.get(tig.url + path, headers={"Range": f"bytes={MIB - 3}-{MIB + 300_000}"}, verify=False)
        assert answer.status_code == 206 and answer.content == body[MIB - 3:MIB + 300_001]


def test_an_api_key_in_the_query_never_reaches_the_log():
    secret = "s3cret-key-for-the-log-test"
    with TigProcess("--log-level", "debug", env={"APIKEY": secret}) as tig:
        path = requests.put(f"{tig.url}/?apikey={secret}", data=b"x").text
        assert requests.get(f"{tig.url}{path}?apikey={secret}").status_code == 200
        # curl sends the escaped name as it is (requests would unescape it).
        listing = subprocess.run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", f"{tig.admin_url}/?api%6Bey={secret}"],
                                 capture_output=True, text=True, check=True)
        assert listing.stdout == "200"
    log = tig.log_text()
    assert "apikey=REDACTED" in log and "api%6Bey=REDACTED" in log
    assert secret not in log


def test_a_write_only_channel_passes_only_if_match_star(tig):
    """The marker is what a write through a channel names: it exists and has
    no tag, so If-None-Match: * and any If-Match tag fail; If-Match: * passes."""
    target, channel = "/" + "ae" * 32 + ".tig", "/" + "af" * 32 + ".tig"
    assert requests.put(tig.url + target, data=b"old").status_code == 200
    assert requests.put(tig.url + channel, data=f"Write only channel to tig {target}".encode()).status_code == 200
    etag = requests.get(tig.url + target).headers["ETag"]
    for headers in ({"If-None-Match": "*"}, {"If-Match": etag}):
        assert requests.put(tig.url + channel, headers=headers, data=b"new").status_code == 412, headers
    assert requests.get(tig.url + target).content == b"old"
    assert requests.put(tig.url + channel, headers={"If-Match": "*"}, data=b"new").status_code == 200
    assert requests.get(tig.url + target).content == b"new"


def test_a_large_slots_tag_is_computed_off_the_event_loop():
    """The tag of a 128 MiB slot takes some 80 ms of hashing: with one event
    loop, a request that arrives meanwhile is answered first, not after."""
    import socket
    import threading
    with TigProcess("--event-loops", "1") as tig:
        slot = "/" + os.urandom(32).hex() + ".tig"
        value = os.urandom(128 << 20)
        assert requests.put(tig.url + slot, data=value).status_code == 200
        order: list[str] = []
        connection = socket.create_connection(("127.0.0.1", tig.port))

        def head_arrives():
            received = b""
            while b"\r\n\r\n" not in received:
                received += connection.recv(65536)
            order.append("slot head")
            assert f'etag: "{hashlib.sha256(value).hexdigest()}"'.encode() in received.lower()

        reader = threading.Thread(target=head_arrives)
        reader.start()
        # The slot's GET is in the server's socket before the health check connects.
        connection.sendall(f"GET {slot} HTTP/1.1\r\nHost: tig\r\n\r\n".encode())
        assert requests.get(tig.admin_url + "/healthz", timeout=10).status_code == 200
        order.append("healthz")
        reader.join()
        connection.close()
        assert order[0] == "healthz", f"answered in the order {order}: the loop was busy hashing"
