"""`tig get --range` of a block, and of one file in a pushed tree
(`--file`), fetching only the chunks the range covers (issue 13)."""

import os

from ..pod.server import metric
from .conftest import write_random


def gets(server):
    return metric(server.admin_url, "tig_requests_total", '{method="GET",code="200"}', absent=0)


def test_a_range_of_a_block(tig, tmp_path):
    data = os.urandom(100_000)
    (tmp_path / "block").write_bytes(data)
    path = tig.path("put", tmp_path / "block")
    assert tig.run("get", path, "--range", "10-19").stdout == data[10:20]
    assert tig.run("get", path, "--range", "99990-").stdout == data[99990:]
    assert tig.run("get", path, "--range=-5").stdout == data[-5:]
    assert tig.run("get", path, "--range", "0-999999").stdout == data, "an end past the end is cut to it"
    past = tig.run("get", path, "--range", "100000-", check=False)
    assert past.returncode != 0 and b"past the end" in past.stderr and past.stdout == b""
    assert tig.run("get", path, "--range", "oops", check=False).returncode != 0


def test_a_range_of_a_file_in_a_tree_fetches_only_its_chunks(server, tig, tmp_path):
    source = tmp_path / "source"
    (source / "sub").mkdir(parents=True)
    (source / "small.txt").write_bytes(b"hello, tree\n")
    big = write_random(source / "sub" / "big.bin", 64 << 20)
    root = tig.path("push", source)
    content = big.read_bytes()

    before = gets(server)
    part = tig.run("get", root, "--file", "sub/big.bin", "--range", f"{40 << 20}-{(40 << 20) + 999}").stdout
    assert part == content[40 << 20:(40 << 20) + 1000]
    # Two manifests, the file block and the one or two chunks that hold the
    # range: not the other 56 MiB of the file.
    assert gets(server) - before <= 5

    spanning = tig.run("get", root, "--file", "sub/big.bin", "--range", f"{10 << 20}-{(30 << 20) - 1}").stdout
    assert spanning == content[10 << 20:30 << 20]
    assert tig.run("get", root, "--file", "sub/big.bin", "--range=-3").stdout == content[-3:]
    assert tig.run("get", root, "--file", "small.txt").stdout == b"hello, tree\n"
    missing = tig.run("get", root, "--file", "sub/nope", check=False)
    assert missing.returncode != 0 and b"no sub/nope" in missing.stderr
    not_a_file = tig.run("get", root, "--file", "sub", check=False)
    assert not_a_file.returncode != 0 and b"not a file" in not_a_file.stderr
