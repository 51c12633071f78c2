"""`tig push` / `pull` / `verify` / `ls` against a real server."""

import os
import re

from .conftest import block_file, corrupt, puts, sha256_file, write_random
from .trees import describe, make_tree


def test_pull_restores_what_push_stored(tig, tmp_path):
    source = make_tree(tmp_path / "source")
    root = tig.path("push", source)
    assert re.fullmatch(r"/[0-9a-f]{64}\.tig", root)
    tig.run("pull", root, tmp_path / "copy")
    assert describe(tmp_path / "copy") == describe(source)
    assert b"ok:" in tig.run("verify", root).stdout


def test_pull_into_an_existing_empty_directory(tig, tmp_path):
    source = make_tree(tmp_path / "source")
    (tmp_path / "copy").mkdir()
    tig.run("pull", tig.path("push", source), tmp_path / "copy")
    assert describe(tmp_path / "copy") == describe(source)


def test_equal_trees_and_subtrees_share_one_path(tig, tmp_path):
    for side in ("a", "b"):
        make_tree(tmp_path / "twins" / side)
    root = tig.path("push", tmp_path / "twins")
    assert tig.path("push", tmp_path / "twins") == root
    manifest = tig.run("get", root).stdout.decode().splitlines()
    assert manifest[0] == "tig-tree 1"
    paths = {line.split(" ")[4]: line.split(" ")[3] for line in manifest[1:]}
    assert paths["a"] == paths["b"]
    assert tig.path("push", tmp_path / "twins" / "a") == paths["a"]


def test_ls_lists_every_entry(tig, tmp_path):
    root = tig.path("push", make_tree(tmp_path / "source"))
    lines = tig.run("ls", root).stdout.decode().splitlines()
    assert "-rwxr-xr-x 18 run.sh" in lines
    assert "-rw-r--r-- 0 empty" in lines
    assert "drwxr-xr-x 0 empty-dir/" in lines
    assert "lrwxrwxrwx 6 link-relative -> run.sh" in lines
    assert "-rw-r--r-- 10 weird/new\\x0Aline" in lines
    assert len(lines) == len(describe(tmp_path / "source"))


def test_a_second_push_uploads_only_the_changed_chunk(server, tig, tmp_path):
    source = tmp_path / "source"
    make_tree(source)
    big = write_random(source / "big.bin", 64 << 20)
    tig.run("push", source)

    with open(big, "r+b") as f:
        f.seek(40 << 20)
        byte = f.read(1)
        f.seek(40 << 20)
        f.write(bytes([byte[0] ^ 0xFF]))
    before = puts(server)
    result = tig.run("push", "--stats", source)
    root = result.stdout.decode().strip()
    uploaded = int(re.search(rb"(\d+) uploaded \((\d+) bytes\)", result.stderr).group(2))

    # One or two chunks (a cut point may move), the file block, the root manifest.
    assert 3 <= puts(server) - before <= 4
    assert uploaded < 2 * (8 << 20)
    tig.run("pull", root, tmp_path / "copy")
    assert sha256_file(tmp_path / "copy" / "big.bin") == sha256_file(big)


def test_a_200_mib_file_round_trips(tig, tmp_path):
    source = tmp_path / "source"
    source.mkdir()
    big = write_random(source / "big.bin", 200 << 20)
    root = tig.path("push", source)
    tig.run("pull", root, tmp_path / "copy")
    assert sha256_file(tmp_path / "copy" / "big.bin") == sha256_file(big)


def largest_block(server):
    return max(server.data.glob("*.tig"), key=lambda p: p.stat().st_size)


def test_a_corrupt_chunk_fails_pull_and_verify_and_leaves_nothing(server, tig, tmp_path):
    source = make_tree(tmp_path / "source")
    root = tig.path("push", source)
    corrupt(largest_block(server), offset=1000)

    verify = tig.run("verify", root, check=False)
    assert verify.returncode != 0 and b"corrupt" in verify.stderr
    pull = tig.run("pull", root, tmp_path / "copy", check=False)
    assert pull.returncode != 0 and b"corrupt" in pull.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["source"]  # no copy, no staging directory


def test_a_missing_block_fails_verify(server, tig, tmp_path):
    root = tig.path("push", make_tree(tmp_path / "source"))
    os.unlink(largest_block(server))
    result = tig.run("verify", root, check=False)
    assert result.returncode != 0 and b"not stored" in result.stderr


def test_a_corrupt_manifest_fails(server, tig, tmp_path):
    root = tig.path("push", make_tree(tmp_path / "source"))
    corrupt(block_file(server, root), offset=0)
    for command in (["ls", root], ["verify", root], ["pull", root, tmp_path / "copy"]):
        result = tig.run(*command, check=False)
        assert result.returncode != 0 and b"corrupt" in result.stderr
    assert not (tmp_path / "copy").exists()


def test_pull_refuses_a_non_empty_destination(tig, tmp_path):
    root = tig.path("push", make_tree(tmp_path / "source"))
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "keep").write_bytes(b"mine")
    result = tig.run("pull", root, tmp_path / "busy", check=False)
    assert result.returncode != 0 and b"not an empty directory" in result.stderr
    assert (tmp_path / "busy" / "keep").read_bytes() == b"mine"


def test_trees_of_other_blocks_are_refused_clearly(tig, tmp_path):
    (tmp_path / "plain").write_bytes(b"just bytes")
    path = tig.path("put", tmp_path / "plain")
    result = tig.run("verify", path, check=False)
    assert result.returncode != 0 and b"not a tree manifest" in result.stderr


def test_push_refuses_special_files(tig, tmp_path):
    (tmp_path / "source").mkdir()
    os.mkfifo(tmp_path / "source" / "pipe")
    result = tig.run("push", tmp_path / "source", check=False)
    assert result.returncode != 0 and b"neither a regular file" in result.stderr

