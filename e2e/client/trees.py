"""Building test trees on disk and describing them for comparison."""

import hashlib
import os
import random
from pathlib import Path

WEIRD_NAMES = [b"with space", b"new\nline", b"tab\there", b"100%", "ünïcødé ☭ 雲".encode(), b"\xff\xfe not utf-8",
               b"back\\slash", b"-dash", b"...", b" leading"]


def make_tree(root, seed=0):
    """A tree with what `pull` must restore exactly: binary and empty files,
    executable bits, relative/absolute/dangling symlinks, an empty directory,
    a deep chain of directories and names that need escaping. Equal seeds
    make equal trees."""
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    (root / "binary.bin").write_bytes(random.Random(seed).randbytes(200_000) + bytes(range(256)) * 40)
    (root / "empty").write_bytes(b"")
    (root / "run.sh").write_bytes(b"#!/bin/sh\necho hi\n")
    (root / "run.sh").chmod(0o755)
    (root / "empty-dir").mkdir()
    deep = root.joinpath(*[f"d{i}" for i in range(40)])
    deep.mkdir(parents=True)
    (deep / "bottom.txt").write_bytes(b"bottom\n")
    os.symlink("run.sh", root / "link-relative")
    os.symlink("/etc/hostname", root / "link-absolute")
    os.symlink("no/such/target with space", root / "link-dangling")
    os.symlink("../../binary.bin", root / "d0" / "d1" / "link-up")
    weird = root / "weird"
    weird.mkdir()
    for index, name in enumerate(WEIRD_NAMES):
        path = os.path.join(os.fsencode(weird), name)
        with open(path, "wb") as f:
            f.write(b"content %d\n" % index)
    return root


def describe(root):
    """{relative path (bytes): what is there} for everything below root, in
    the terms a tree records: kind, executable bit, content hash, link target."""
    root = os.fsencode(root)
    seen = {}
    for directory, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            path = os.path.join(directory, name)
            relative = os.path.relpath(path, root)
            if os.path.islink(path):
                seen[relative] = ("link", os.readlink(path))
            elif os.path.isdir(path):
                seen[relative] = ("dir",)
            else:
                with open(path, "rb") as f:
                    digest = hashlib.sha256(f.read()).hexdigest()
                seen[relative] = ("file", bool(os.stat(path).st_mode & 0o100), digest)
    return seen
