"""`tig put` / `tig get` against a real server: one block each way, checked."""

import hashlib
import os
import secrets

import requests

from ..pod.server import TigProcess
from .conftest import Client, block_file, corrupt, sha256_file, start_server, write_random


def test_put_prints_the_sha256_path_and_get_returns_the_bytes(tig, tmp_path):
    data = os.urandom(300_000) + bytes(range(256))
    (tmp_path / "blob").write_bytes(data)
    path = tig.path("put", tmp_path / "blob")
    assert path == f"/{hashlib.sha256(data).hexdigest()}.tig"
    assert tig.run("get", path).stdout == data
    tig.run("get", path, "-o", tmp_path / "copy")
    assert (tmp_path / "copy").read_bytes() == data


def test_empty_files_and_standard_input(tig, tmp_path):
    (tmp_path / "empty").write_bytes(b"")
    path = tig.path("put", tmp_path / "empty")
    assert path == f"/{hashlib.sha256(b'').hexdigest()}.tig"
    assert tig.run("get", path).stdout == b""
    assert tig.path("put", "-", input=b"123\n") == "/181210f8f9c779c26da1d9b2075bde0127302ee0e3fca38c9a83f5b1dd8e5d3b.tig"


def test_a_200_mib_file_streams_both_ways(tmp_path):
    server = start_server("--max-block-size", "256MiB")
    try:
        tig = Client(server.url)
        source = write_random(tmp_path / "big", 200 << 20)
        path = tig.path("put", source)
        assert path == f"/{sha256_file(source)}.tig"
        tig.run("get", path, "-o", tmp_path / "copy")
        assert sha256_file(tmp_path / "copy") == sha256_file(source)
    finally:
        server.stop()


def test_a_file_over_the_server_limit_is_refused_with_a_hint(tmp_path):
    server = start_server("--max-block-size", "1MiB")
    try:
        result = Client(server.url).run("put", write_random(tmp_path / "big", 2 << 20), check=False)
        assert result.returncode != 0
        assert b"tig push" in result.stderr
    finally:
        server.stop()


def test_get_of_a_corrupt_block_fails_and_writes_nothing(server, tig, tmp_path):
    (tmp_path / "blob").write_bytes(os.urandom(100_000))
    path = tig.path("put", tmp_path / "blob")
    corrupt(block_file(server, path), offset=5000)

    result = tig.run("get", path, "-o", tmp_path / "out", check=False)
    assert result.returncode != 0
    assert b"corrupt" in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["blob"]  # no output, no temporary file

    result = tig.run("get", path, check=False)
    assert result.returncode != 0
    assert result.stdout == b""


def test_get_of_a_missing_block_fails(tig):
    result = tig.run("get", "/" + "0" * 64 + ".tig", check=False)
    assert result.returncode != 0
    assert b"not stored" in result.stderr


def test_writes_use_the_api_key(tmp_path):
    server = TigProcess("--log-level", "warning", env={"APIKEY": "s3cret"}).start()
    try:
        (tmp_path / "blob").write_bytes(b"keyed")
        result = Client(server.url).run("put", tmp_path / "blob", check=False)
        assert result.returncode != 0
        assert b"API key" in result.stderr
        assert Client(server.url).path("put", "--apikey", "s3cret", tmp_path / "blob").endswith(".tig")
        assert Client(server.url, env={"TIG_APIKEY": "s3cret"}).path("put", tmp_path / "blob").endswith(".tig")
    finally:
        server.stop()


def test_a_key_slot_is_read_with_slot_and_refused_without(server, tig):
    slot = "/" + secrets.token_hex(32) + ".tig"
    assert requests.put(server.url + slot, data=b"mutable value").status_code == 200
    assert tig.run("get", slot, check=False).returncode != 0
    assert tig.run("get", "--slot", slot).stdout == b"mutable value"
