"""Names of everything one harness run creates.

Every name carries the run's random id, so parallel runs never clash, and a
leftover of a crashed run can be traced to its run and removed once that run
is dead. A run is alive while it holds the flock on its lock file."""

from __future__ import annotations

import contextlib
import fcntl
import itertools
import os
import re
import secrets
import shutil
import tempfile
from pathlib import Path

PREFIX = "tige2e"
TMP = Path(tempfile.gettempdir())
ETC_NETNS = Path("/etc/netns")

# Interface names are at most 15 bytes: "tigbr"/"tigv" + 6 + a number below 10,000.
_ID = r"([0-9a-f]{6})"
_PATTERNS = [re.compile(p) for p in (
    rf"^{PREFIX}-{_ID}-p\d+$",    # network namespace, and its /etc/netns directory
    rf"^tigbr{_ID}\d+$",          # bridge
    rf"^tigv{_ID}\d+$",           # host end of a pod's veth pair
    rf"^{PREFIX}-{_ID}$",         # run directory
    rf"^{PREFIX}-{_ID}\.lock$",   # run lock
)]


def run_id_of(name: str) -> str | None:
    for pattern in _PATTERNS:
        if match := pattern.match(name):
            return match.group(1)
    return None


def netns(run_id: str, number: int) -> str:
    return f"{PREFIX}-{run_id}-p{number}"


def bridge(run_id: str, number: int) -> str:
    return f"tigbr{run_id}{number}"


def veth(run_id: str, number: int) -> str:
    return f"tigv{run_id}{number}"


def run_dir(run_id: str) -> Path:
    return TMP / f"{PREFIX}-{run_id}"


def lock_file(run_id: str) -> Path:
    return TMP / f"{PREFIX}-{run_id}.lock"


@contextlib.contextmanager
def global_lock():
    """Serialises run creation, address allocation and leftover scans across
    processes, so a scan never judges a run that is half made."""
    with open(TMP / f"{PREFIX}.lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield


def is_alive(run_id: str) -> bool:
    try:
        with open(lock_file(run_id)) as handle:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except FileNotFoundError:
        return False
    except BlockingIOError:
        return True
    return False


class Run:
    """One harness run: its id, its directory, and the lock saying it is alive.
    Create it under global_lock()."""

    def __init__(self) -> None:
        while True:
            self.id = secrets.token_hex(3)
            try:
                fd = os.open(lock_file(self.id), os.O_CREAT | os.O_EXCL | os.O_WRONLY | os.O_CLOEXEC, 0o600)
                break
            except FileExistsError:
                continue
        fcntl.flock(fd, fcntl.LOCK_EX)
        self._lock_fd = fd
        self.dir = run_dir(self.id)
        self.dir.mkdir()
        self._numbers = itertools.count(1)

    def number(self) -> int:
        """A number unique in this run, for the names of bridges, pods and clusters."""
        return next(self._numbers)

    def close(self) -> None:
        shutil.rmtree(self.dir, ignore_errors=True)
        lock_file(self.id).unlink(missing_ok=True)
        os.close(self._lock_fd)
