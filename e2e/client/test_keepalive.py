"""`tig keepalive`: every block of a listed tree gets its timer (mtime) reset."""

import os
import time

from .conftest import block_file
from .trees import make_tree

AN_HOUR_AGO = time.time() - 3600


def age_every_block(server):
    for file in server.data.glob("*.tig"):
        os.utime(file, (AN_HOUR_AGO, AN_HOUR_AGO))


def test_once_touches_every_block_of_listed_trees_and_blocks(server, tig, tmp_path):
    root = tig.path("push", make_tree(tmp_path / "source"))
    (tmp_path / "plain").write_bytes(b"a plain block")
    plain = tig.path("put", tmp_path / "plain")
    (tmp_path / "list").write_text(f"# kept\n{root}\n\n{plain}\n")
    age_every_block(server)

    result = tig.run("keepalive", "--once", tmp_path / "list")
    blocks = list(server.data.glob("*.tig"))
    assert f"touched {len(blocks)} blocks for 2 listed paths".encode() in result.stderr
    assert all(file.stat().st_mtime > AN_HOUR_AGO + 1800 for file in blocks)


def test_once_fails_when_a_listed_tree_is_incomplete(server, tig, tmp_path):
    root = tig.path("push", make_tree(tmp_path / "source"))
    os.unlink(max(server.data.glob("*.tig"), key=lambda p: p.stat().st_size))
    missing = "/" + "0" * 64 + ".tig"
    (tmp_path / "list").write_text(f"{root}\n{missing}\n")
    result = tig.run("keepalive", "--once", tmp_path / "list", check=False)
    assert result.returncode != 0
    assert b"blocks " + root.encode() + b" needs are missing" in result.stderr
    assert missing.encode() + b" is not stored" in result.stderr
    assert block_file(server, root).stat().st_mtime > AN_HOUR_AGO


def test_it_keeps_touching_every_half_retention_until_stopped(server, tig, tmp_path):
    root = tig.path("push", make_tree(tmp_path / "source"))
    (tmp_path / "list").write_text(root + "\n")
    process = tig.popen("keepalive", "--retention", "200ms", tmp_path / "list")
    try:
        passes = []
        for line in process.stderr:
            passes.append(line)
            if "pass 3:" in line:
                break
        assert [line.split(":")[1].strip() for line in passes] == ["pass 1", "pass 2", "pass 3"]
        assert process.poll() is None
    finally:
        process.terminate()
        process.wait(timeout=10)
