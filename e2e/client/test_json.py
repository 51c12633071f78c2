"""`--json` (issue 14): what put, push, verify and ls print, as one JSON
object a script can parse, with the same facts as the text."""

import hashlib
import json
import os


def test_put_prints_its_path_and_url(tig, server, tmp_path):
    data = os.urandom(5000)
    (tmp_path / "f").write_bytes(data)
    answer = json.loads(tig.run("put", "--json", str(tmp_path / "f")).stdout)
    path = "/" + hashlib.sha256(data).hexdigest() + ".tig"
    assert answer == {"path": path, "url": server.url + path}
    assert tig.path("put", str(tmp_path / "f")) == path, "without --json: the path alone"


def test_push_verify_and_ls_describe_the_tree(tig, tmp_path):
    tree = tmp_path / "tree"
    (tree / "src").mkdir(parents=True)
    (tree / "src" / "run.sh").write_bytes(b"#!/bin/sh\n")
    (tree / "src" / "run.sh").chmod(0o755)
    (tree / "README").write_bytes(b"hello\n" * 100)
    (tree / "latest").symlink_to("src")
    pushed = json.loads(tig.run("push", "--json", str(tree)).stdout)
    assert pushed["path"].endswith(".tig") and pushed["blocks"] >= 3
    assert pushed["uploaded_blocks"] == pushed["blocks"] and pushed["present_blocks"] == 0
    again = json.loads(tig.run("push", "--json", str(tree)).stdout)
    assert again["path"] == pushed["path"] and again["uploaded_blocks"] == 0 and again["present_blocks"] == again["blocks"]

    verified = json.loads(tig.run("verify", "--json", pushed["path"]).stdout)
    text = tig.run("verify", pushed["path"]).stdout.decode()
    assert text == (f"ok: {verified['directories']} directories, {verified['files']} files, {verified['symlinks']} symlinks, "
                    f"{verified['bytes']} bytes in {verified['blocks']} blocks\n"), "the same facts as the text"
    assert verified["ok"] is True and (verified["files"], verified["symlinks"], verified["bytes"]) == (2, 1, 610)

    listed = json.loads(tig.run("ls", "--json", pushed["path"]).stdout)["entries"]
    by_path = {entry["path"]: entry for entry in listed}
    assert by_path["src/run.sh"] == {"type": "file", "mode": "-rwxr-xr-x", "size": 10, "path": "src/run.sh"}
    assert by_path["README"]["size"] == 600 and by_path["README"]["type"] == "file"
    assert by_path["latest"]["type"] == "symlink" and by_path["latest"]["target"] == "src"
    assert by_path["src"]["type"] == "directory"
    assert len(listed) == len(tig.run("ls", pushed["path"]).stdout.decode().splitlines())
