"""The original readme's curl examples (shared/seeds/tig-readme.txt), sent
through the Service, with the spec's fixes: failures answer a real 4xx status
with an empty body, and success bodies carry no trailing newline (the readme
shows one because curl's output was followed by `echo`).

Every request opens a new connection, so consecutive steps usually land on
different pods and the cluster must answer as one store. Content addresses are
the readme's own; key slots use fresh random keys so repeated runs on one
cluster do not meet each other's slots."""

from __future__ import annotations

import io
import tarfile
import uuid

from .cluster import Cluster
from .tig import content_path, expect, expect_failure, key_path, new_key
from .web import request

HOST_FORMAT = "format=http://127.0.0.1:7777*"


def run(cluster: Cluster) -> None:
    svc = cluster.service_url()

    def call(method: str, path: str, query: str = "", body: bytes | None = None):
        return request(method, svc + path + (f"?{query}" if query else ""), data=body, fresh=True)

    store_by_hash(call)
    key_value(call)
    burst(call)
    setifnot_append_take(call)
    read_only_by_burst(call)
    write_only_channel(call)
    read_only_channel(call)


def store_by_hash(call) -> None:
    h123 = "/181210f8f9c779c26da1d9b2075bde0127302ee0e3fca38c9a83f5b1dd8e5d3b.tig"
    expect(call("PUT", "/", body=b"123\n"), 200, h123.encode())
    expect(call("POST", "/", body=b"123\n"), 200, h123.encode())
    expect(call("GET", h123), 200, b"123\n")
    # A content block cannot be deleted or overwritten, even with format=.
    expect_failure(call("DELETE", h123), 409)
    expect(call("GET", h123), 200, b"123\n")
    expect_failure(call("PUT", h123, HOST_FORMAT, b"245\n"), 409)
    expect(call("GET", h123), 200, b"123\n")
    # Not a block path: refused without touching storage. The spec allows 400
    # (bad form) or 404 for such a path; the body is empty either way.
    response = call("GET", "/randomfileunauthorized")
    assert response.status_code in (400, 404) and response.content == b"", response
    expect(call("PUT", "/", HOST_FORMAT, b"123\n"), 200, b"http://127.0.0.1:7777" + h123.encode())
    for _ in range(2):
        line = f"{uuid.uuid4()}\n".encode()  # `uuidgen | curl ...`
        expect(call("PUT", "/", HOST_FORMAT, line), 200, b"http://127.0.0.1:7777" + content_path(line).encode())
    # A tar of a directory, then `curl | tar -t`.
    archive = _tar({"./go.mod": b"module tig\n", "./main.go": b"package main\n", "./documentation/commit.sh": b"#!/bin/sh\n"})
    path = content_path(archive)
    expect(call("PUT", "/", body=archive), 200, path.encode())
    with tarfile.open(fileobj=io.BytesIO(expect(call("GET", path), 200, archive).content)) as tar:
        assert tar.getnames() == ["./go.mod", "./main.go", "./documentation/commit.sh"]
    # Listing is an operation of the admin port (SPEC §5): the public port,
    # the one behind a Service or an ingress, does not list.
    expect_failure(call("GET", "/", "apikey=abc"), 404)


def key_value(call) -> None:
    key = key_path(new_key())
    url = b"http://127.0.0.1:7777" + key.encode()
    expect(call("PUT", key, HOST_FORMAT, b"123\n"), 200, url)
    expect(call("GET", key), 200, b"123\n")
    expect(call("PUT", key, HOST_FORMAT, b"456\n"), 200, url)
    expect(call("GET", key), 200, b"456\n")
    expect(call("DELETE", key), 200, key.encode())
    expect_failure(call("GET", key), 404)
    expect_failure(call("DELETE", key), 404)
    expect_failure(call("GET", key), 404)


def burst(call) -> None:
    lines = b""
    for part in (b"abc", b"def", b"ghi"):
        lines += expect(call("PUT", "/", body=part), 200).content + b"\n"
    assert lines == (b"/ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad.tig\n"
                     b"/cb8379ac2098aa165029e3938a51da0bcecfc008fd6795f401178647f96c5b34.tig\n"
                     b"/50ae61e841fac4e8f9e40baf2ad36ec868922ea48368c18f9535e47db56dd7fb.tig\n")
    listing = "/1bc742e60c70acf19ff57998fb85e129a69396526a3c7fc114d2df4acb54248e.tig"
    expect(call("PUT", "/", "format=*", lines), 200, listing.encode())
    expect(call("GET", listing), 200, lines)
    expect(call("GET", listing, "burst=1"), 200, b"abcdefghi")


def setifnot_append_take(call) -> None:
    key = key_path(new_key())
    expect(call("PUT", key, "setifnot=1", b"123\n"), 200, key.encode())
    expect_failure(call("PUT", key, "setifnot=1", b"124\n"), 409)
    expect(call("PUT", key, "append=1", b"We added one more file.\n"), 200, key.encode())
    expect(call("GET", key), 200, b"123\nWe added one more file.\n")
    expect(call("GET", key), 200, b"123\nWe added one more file.\n")
    expect(call("GET", key, "take=1"), 200, b"123\nWe added one more file.\n")
    expect_failure(call("GET", key), 404)
    expect_failure(call("GET", key), 404)


def read_only_by_burst(call) -> None:
    first = "/abb240c53a62c037d5997d3e0db5aa9d30a6e2264b50f32bb01c253b27523948.tig"
    second = "/29fed4c1dcde487e1216f525f4faf6e5c9d03fb4ae74b6f664684df5e228af3a.tig"
    expect(call("PUT", "/", body=b"This is a read-only block.\n"), 200, first.encode())
    pointer = key_path(new_key())
    expect(call("PUT", pointer, body=first.encode()), 200, pointer.encode())
    expect(call("GET", pointer), 200, first.encode())
    expect(call("GET", pointer, "burst=1"), 200, b"This is a read-only block.\n")
    expect(call("PUT", "/", body=b"This is a second read-only block.\n"), 200, second.encode())
    expect(call("PUT", pointer, body=second.encode()), 200, pointer.encode())
    expect(call("GET", pointer, "burst=1"), 200, b"This is a second read-only block.\n")
    expect_failure(call("PUT", first, body=b"This is a third read-only block.\n"), 409)
    expect(call("GET", first), 200, b"This is a read-only block.\n")
    expect_failure(call("DELETE", first), 409)
    expect(call("GET", first), 200, b"This is a read-only block.\n")


def write_only_channel(call) -> None:
    target, channel = key_path(new_key()), key_path(new_key())
    expect(call("PUT", channel, body=f"Write only channel to tig {target}".encode()), 200, channel.encode())
    for _ in range(2):
        expect(call("PUT", channel, "append=1", b"written"), 200, channel.encode())
    expect(call("GET", target), 200, b"writtenwritten")
    expect_failure(call("GET", channel), 403)
    expect_failure(call("DELETE", channel), 409)
    expect(call("GET", target), 200, b"writtenwritten")


def read_only_channel(call) -> None:
    target = key_path(new_key())
    marker = f"Read only channel to tig {target}".encode()
    channel = content_path(marker)
    expect(call("PUT", "/", body=marker), 200, channel.encode())
    expect(call("PUT", target, body=b"written"), 200, target.encode())
    expect(call("GET", target), 200, b"written")
    expect(call("GET", channel), 200, b"written")
    expect_failure(call("PUT", channel, body=b"written to read-only channel"), 409)
    expect(call("GET", channel), 200, b"written")
    expect_failure(call("DELETE", channel), 409)


def _tar(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mtime = 0
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()
