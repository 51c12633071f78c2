"""`tig split --xor` / `tig join` across several real servers."""

import hashlib
import os
import re

import pytest
import requests

from .conftest import Client, start_server

PLAINTEXT = b"attack at dawn, bring the blue folder; " * 60_000  # ~2.3 MiB of obvious text


@pytest.fixture
def servers():
    started = [start_server() for _ in range(3)]
    yield started
    for server in started:
        server.stop()


def split(servers, path):
    client = Client(servers[0].url)
    return client.run("split", "--xor", *[s.url for s in servers], path).stdout.decode()


def shares(descriptor):
    return re.findall(r"^share (\S+) (\S+)$", descriptor, re.MULTILINE)


@pytest.mark.parametrize("count", [2, 3])
def test_join_rebuilds_the_file(servers, tmp_path, count):
    data = os.urandom(3 << 20) + b"tail"
    (tmp_path / "secret").write_bytes(data)
    descriptor = split(servers[:count], tmp_path / "secret")
    assert descriptor.startswith(f"tig-xor 1\nsha256 {hashlib.sha256(data).hexdigest()}\nsize {len(data)}\n")
    assert [url for url, _ in shares(descriptor)] == [s.url for s in servers[:count]]
    (tmp_path / "descriptor").write_text(descriptor)
    Client(servers[0].url).run("join", tmp_path / "descriptor", "-o", tmp_path / "joined")
    assert (tmp_path / "joined").read_bytes() == data


def test_an_empty_file_splits_and_joins(servers, tmp_path):
    (tmp_path / "empty").write_bytes(b"")
    (tmp_path / "descriptor").write_text(split(servers[:2], tmp_path / "empty"))
    assert Client(servers[0].url).run("join", tmp_path / "descriptor").stdout == b""


def test_each_share_alone_is_noise(servers, tmp_path):
    (tmp_path / "secret").write_bytes(PLAINTEXT)
    descriptor = split(servers, tmp_path / "secret")
    for url, path in shares(descriptor):
        share = requests.get(url + path + "?burst=1", timeout=30).content
        assert len(share) == len(PLAINTEXT)
        assert b"attack" not in share and b"folder" not in share
        counts = [share.count(bytes([value])) for value in range(256)]
        expected = len(share) / 256
        chi_square = sum((c - expected) ** 2 / expected for c in counts)
        assert chi_square < 400  # uniform bytes; 255 degrees of freedom
    for server in servers:
        for block in server.data.glob("*.tig"):
            assert b"attack" not in block.read_bytes()


def test_a_missing_share_makes_join_fail_clearly(servers, tmp_path):
    (tmp_path / "secret").write_bytes(PLAINTEXT)
    (tmp_path / "descriptor").write_text(split(servers, tmp_path / "secret"))
    lost = max(servers[1].data.glob("*.tig"), key=lambda p: p.stat().st_size)
    os.unlink(lost)
    result = Client(servers[0].url).run("join", tmp_path / "descriptor", "-o", tmp_path / "joined", check=False)
    assert result.returncode != 0
    assert f"share 2 of 3 (on {servers[1].url})".encode() in result.stderr
    assert b"is not stored" in result.stderr
    assert not (tmp_path / "joined").exists()

    servers[2].stop()
    result = Client(servers[0].url).run("join", tmp_path / "descriptor", check=False)
    assert result.returncode != 0 and result.stdout == b""
    assert b"share" in result.stderr and b"every share is needed" in result.stderr


def test_a_share_from_another_split_makes_join_fail(servers, tmp_path):
    (tmp_path / "one").write_bytes(b"A" * 5000)
    (tmp_path / "two").write_bytes(b"B" * 5000)
    first = split(servers[:2], tmp_path / "one")
    second = split(servers[:2], tmp_path / "two")
    mixed = first.replace(shares(first)[1][1], shares(second)[1][1])
    (tmp_path / "descriptor").write_text(mixed)
    result = Client(servers[0].url).run("join", tmp_path / "descriptor", "-o", tmp_path / "joined", check=False)
    assert result.returncode != 0
    assert b"do not match the descriptor" in result.stderr
    assert not (tmp_path / "joined").exists()
