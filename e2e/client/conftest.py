"""Fixtures of the client suite: real `tig serve` processes on loopback ports
(each with its own temporary data directory) and the real `tig` client."""

import hashlib
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from ..pod.server import TIG_BIN, TigProcess, metric


class Client:
    """Runs `tig <command>` against one server (TIG_SERVER in the environment)."""

    def __init__(self, server_url, env=None):
        self.env = {k: v for k, v in os.environ.items() if k not in ("TIG_SERVER", "TIG_APIKEY")}
        self.env["TIG_SERVER"] = server_url
        self.env.update(env or {})

    def run(self, *args, input=None, check=True, timeout=120):
        """The finished process (stdout/stderr as bytes); with `check`, a
        non-zero exit fails the test with tig's message."""
        result = subprocess.run([TIG_BIN, *map(os.fsencode, args)], input=input, capture_output=True,
                                env=self.env, timeout=timeout)
        if check and result.returncode != 0:
            raise AssertionError(f"tig {' '.join(map(str, args))} exited {result.returncode}: "
                                 f"{result.stderr.decode(errors='replace')}")
        return result

    def path(self, *args, **kwargs):
        """The one line a put/push prints, as str."""
        return self.run(*args, **kwargs).stdout.decode().strip()

    def popen(self, *args):
        return subprocess.Popen([TIG_BIN, *map(os.fsencode, args)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                env=self.env, text=True)


def start_server(*extra):
    return TigProcess("--log-level", "warning", *extra).start()


@pytest.fixture
def server():
    process = start_server()
    yield process
    process.stop()
    shutil.rmtree(process.data, ignore_errors=True)


@pytest.fixture
def tig(server):
    return Client(server.url)


def puts(server):
    """Successful PUTs the server has answered so far."""
    return metric(server.admin_url, "tig_requests_total", '{method="PUT",code="200"}', absent=0)


def block_file(server, path):
    """The data-directory file holding `/<hex>.tig`."""
    return server.data / path.strip().lstrip("/")


def corrupt(file, offset=0):
    """Overwrites bytes of a stored block in place, as a failing disk would."""
    file.chmod(0o644)
    with open(file, "r+b") as f:
        f.seek(offset)
        f.write(b"CORRUPTED")


def sha256_file(path):
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while piece := f.read(1 << 20):
            digest.update(piece)
    return digest.hexdigest()


def write_random(path, size):
    """`size` random bytes, written in pieces so memory stays small."""
    with open(path, "wb") as f:
        left = size
        while left:
            piece = os.urandom(min(left, 8 << 20))
            f.write(piece)
            left -= len(piece)
    return Path(path)
