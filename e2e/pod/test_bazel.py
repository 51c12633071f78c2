"""The Bazel HTTP remote-cache protocol (issue 13): `/cas/<sha256>` holds
content under its own hash, `/ac/<sha256>` action results apart from
blocks and key slots, optionally under an instance prefix; credentials as
Bazel and other clients send them. The real client is ccache, whose HTTP
remote storage speaks this protocol (`layout=bazel`: entries under /ac/)."""

import hashlib
import os
import subprocess

import pytest
import requests

from .server import TigProcess, metric

KEY = "bazel-cache-key"
BEARER = {"Authorization": f"Bearer {KEY}"}


@pytest.fixture
def keyed():
    with TigProcess(env={"APIKEY": KEY}) as tig:
        yield tig


def test_cas_stores_bytes_under_their_hash_and_refuses_others(keyed):
    body = os.urandom(200_000)
    digest = hashlib.sha256(body).hexdigest()
    assert requests.put(f"{keyed.url}/cas/{digest}", data=body, headers=BEARER).status_code == 200
    assert requests.get(f"{keyed.url}/cas/{digest}").content == body
    assert requests.get(f"{keyed.url}/some/instance/cas/{digest}").content == body, "content is the same in every instance"
    assert requests.get(f"{keyed.url}/{digest}.tig").content == body, "a CAS entry is the content block"
    head = requests.head(f"{keyed.url}/cas/{digest}")
    assert head.status_code == 200 and head.headers["content-length"] == str(len(body))
    stored = keyed.block_files()

    wrong = hashlib.sha256(b"other bytes").hexdigest()
    answer = requests.put(f"{keyed.url}/cas/{wrong}", data=b"not the bytes of that hash", headers=BEARER)
    assert (answer.status_code, answer.content) == (400, b"")
    assert keyed.block_files() == stored, "a mismatch stores nothing"
    assert requests.get(f"{keyed.url}/cas/{wrong}").status_code == 404
    assert requests.get(f"{keyed.url}/cas/{'0' * 64}").status_code == 404


def test_a_key_slot_at_a_hash_is_not_content(keyed):
    squatted = hashlib.sha256(b"the real bytes").hexdigest()
    assert requests.put(f"{keyed.url}/{squatted}.tig", data=b"a squatter", headers=BEARER).status_code == 200
    assert requests.get(f"{keyed.url}/cas/{squatted}").status_code == 404
    assert requests.head(f"{keyed.url}/cas/{squatted}").status_code == 404
    assert requests.put(f"{keyed.url}/cas/{squatted}", data=b"the real bytes", headers=BEARER).status_code == 200
    assert requests.get(f"{keyed.url}/cas/{squatted}").content == b"the real bytes"


def test_action_results_never_overwrite_a_block_and_instances_stay_apart(keyed):
    content = b"an output file"
    digest = hashlib.sha256(content).hexdigest()
    assert requests.put(f"{keyed.url}/cas/{digest}", data=content, headers=BEARER).status_code == 200
    assert requests.put(f"{keyed.url}/ac/{digest}", data=b"result one", headers=BEARER).status_code == 200
    assert requests.put(f"{keyed.url}/ci/ac/{digest}", data=b"result two", headers=BEARER).status_code == 200
    assert requests.get(f"{keyed.url}/ac/{digest}").content == b"result one"
    assert requests.get(f"{keyed.url}/ci/ac/{digest}").content == b"result two"
    assert requests.get(f"{keyed.url}/{digest}.tig").content == content, "the block at the digest is untouched"
    assert requests.get(f"{keyed.url}/cas/{digest}").content == content
    assert requests.put(f"{keyed.url}/ac/{digest}", data=b"result three", headers=BEARER).status_code == 200
    assert requests.get(f"{keyed.url}/ac/{digest}").content == b"result three", "action results are mutable"
    assert requests.get(f"{keyed.url}/ac/{'1' * 64}").status_code == 404
    assert requests.delete(f"{keyed.url}/ac/{digest}", headers=BEARER).status_code == 405


@pytest.mark.parametrize("credentials, status", [
    ({"headers": BEARER}, 200), ({"auth": ("bazel", KEY)}, 200), ({"params": {"apikey": KEY}}, 200),
    ({}, 401), ({"headers": {"Authorization": "Bearer wrong"}}, 401), ({"auth": ("bazel", "wrong")}, 401),
], ids=["bearer", "basic", "query", "none", "wrong-bearer", "wrong-basic"])
def test_writes_take_the_key_as_bazel_sends_it(keyed, credentials, status):
    body = os.urandom(100)
    digest = hashlib.sha256(body).hexdigest()
    assert requests.put(f"{keyed.url}/cas/{digest}", data=body, **credentials).status_code == status
    assert requests.put(f"{keyed.url}/ac/{digest}", data=b"r", **credentials).status_code == status
    assert (keyed.block_files() == []) == (status == 401), "a wrong key writes nothing"


def ccache(tmp_path, cache_dir, remote):
    """Compiles hello.c with ccache and `remote` as its remote storage;
    returns the object's bytes and ccache's statistics."""
    env = dict(os.environ, CCACHE_DIR=str(cache_dir), CCACHE_REMOTE_STORAGE=remote, CCACHE_NOHASHDIR="1",
               CCACHE_BASEDIR=str(tmp_path))
    subprocess.run(["ccache", "gcc", "-O2", "-c", "hello.c", "-o", "hello.o"], cwd=tmp_path, env=env, check=True)
    stats = subprocess.run(["ccache", "--print-stats"], env=env, capture_output=True, text=True, check=True).stdout
    values = dict(line.split("\t") for line in stats.splitlines() if "\t" in line)
    return (tmp_path / "hello.o").read_bytes(), {name: int(value) for name, value in values.items() if value.isdigit()}


@pytest.mark.parametrize("how", ["bearer", "basic"])
def test_ccache_shares_a_compilation_through_the_bazel_protocol(keyed, tmp_path, how):
    (tmp_path / "hello.c").write_text("int answer(void) { return 42; }\n")
    host = keyed.url.removeprefix("http://")
    remote = (f"http://{host}/builds|layout=bazel|bearer-token={KEY}" if how == "bearer"
              else f"http://ci:{KEY}@{host}/builds|layout=bazel")
    built, first = ccache(tmp_path, tmp_path / "cache-one", remote)
    assert first.get("remote_storage_write", 0) >= 1 and first.get("remote_storage_error", 0) == 0, first
    stored = keyed.block_files()
    assert stored, "the compilation was stored"
    (tmp_path / "hello.o").unlink()
    # A fresh machine: an empty local cache, the same remote.
    rebuilt, second = ccache(tmp_path, tmp_path / "cache-two", remote)
    assert second.get("remote_storage_hit", 0) == 1 and second.get("local_storage_hit", 0) == 0, second
    assert rebuilt == built
    assert metric(keyed.admin_url, "tig_requests_total", '{method="GET",code="200"}') >= 1


def test_ccache_with_a_wrong_key_stores_nothing(keyed, tmp_path):
    (tmp_path / "hello.c").write_text("int answer(void) { return 7; }\n")
    host = keyed.url.removeprefix("http://")
    _, stats = ccache(tmp_path, tmp_path / "cache", f"http://{host}/builds|layout=bazel|bearer-token=wrong")
    assert stats.get("remote_storage_error", 0) >= 1, stats
    assert keyed.block_files() == []


def test_a_channel_planted_at_an_action_address_is_never_followed(keyed):
    """The action cache's addresses can be computed, so a writer may plant a
    write-only channel there: a cache write must not go through it to the
    slot it names, and a read must not follow it."""
    digest = hashlib.sha256(b"an action").hexdigest()
    target = "/" + os.urandom(32).hex() + ".tig"
    assert requests.put(f"{keyed.url}{target}", data=b"the victim's slot", headers=BEARER).status_code == 200
    assert requests.put(f"{keyed.url}/ac/{digest}", data=b"placeholder", headers=BEARER).status_code == 200
    address = next(name for name in keyed.block_files()
                   if (keyed.data / name).read_bytes() == b"placeholder")
    marker = f"Write only channel to tig {target}".encode()
    assert requests.delete(f"{keyed.url}/{address}", headers=BEARER).status_code == 200
    assert requests.put(f"{keyed.url}/{address}", data=marker, headers=BEARER).status_code == 200
    assert requests.put(f"{keyed.url}/ac/{digest}", data=b"hijack", headers=BEARER).status_code == 409
    assert requests.get(f"{keyed.url}{target}").content == b"the victim's slot"
    assert requests.get(f"{keyed.url}/ac/{digest}").status_code in (403, 404)
