"""Removes what harness runs left behind. Every name a run creates carries its
id (names.py); for each run id found among network namespaces, links,
/etc/netns entries, files in the temp directory and process command lines,
everything of that run goes, if the run is dead (its lock is free) or if
--all is given.

    python3 -m e2e.local.cleanup [--all]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from . import names
from .netns import ip, remove_link, remove_namespace


@dataclass
class Leftovers:
    namespaces: list[str] = field(default_factory=list)
    links: list[str] = field(default_factory=list)
    paths: list[Path] = field(default_factory=list)  # run directories, locks, /etc/netns entries
    pids: list[int] = field(default_factory=list)

    def __str__(self) -> str:
        return (f"{len(self.pids)} processes, {len(self.namespaces)} namespaces, "
                f"{len(self.links)} links, {len(self.paths)} paths")


def find() -> dict[str, Leftovers]:
    found: dict[str, Leftovers] = defaultdict(Leftovers)
    for line in ip("netns", "list").splitlines():
        name = line.split()[0]
        if run_id := names.run_id_of(name):
            found[run_id].namespaces.append(name)
    for link in json.loads(ip("-j", "link", "show") or "[]"):
        if run_id := names.run_id_of(link["ifname"]):
            found[run_id].links.append(link["ifname"])
    for directory in (names.TMP, names.ETC_NETNS):
        for path in directory.glob(f"*{names.PREFIX}*") if directory.exists() else []:
            if run_id := names.run_id_of(path.name):
                found[run_id].paths.append(path)
    for run_id, pid in _processes():
        found[run_id].pids.append(pid)
    return dict(found)


# A run's directory inside a process's command line.
_RUN_PATH = re.compile(re.escape(f"{names.TMP}/{names.PREFIX}-").encode() + rb"([0-9a-f]{6})(?![0-9a-f])")


def _processes() -> list[tuple[str, int]]:
    """Processes whose command line names a run's directory: pods, dnsmasq,
    the API emulator and the operator all get paths inside it."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue  # exited meanwhile
        if match := _RUN_PATH.search(cmdline):
            found.append((match.group(1).decode(), int(entry.name)))
    return found


def remove(leftovers: Leftovers) -> None:
    for pid in leftovers.pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    _wait_dead(leftovers.pids)
    for link in sorted(leftovers.links, key=lambda name: name.startswith("tigbr")):  # veths, then bridges
        remove_link(link)
    for namespace in leftovers.namespaces:
        remove_namespace(namespace)
    for path in leftovers.paths:
        if path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)


def _wait_dead(pids: list[int], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    for pid in pids:
        while Path(f"/proc/{pid}").exists() and time.monotonic() < deadline:
            time.sleep(0.01)


def clean(include_live: bool = False) -> dict[str, Leftovers]:
    """Remove the leftovers of dead runs (of every run with include_live);
    returns what was removed, by run id."""
    with names.global_lock():
        removed = {run_id: leftovers for run_id, leftovers in find().items()
                   if include_live or not names.is_alive(run_id)}
        for leftovers in removed.values():
            remove(leftovers)
    return removed


def clean_run(run_id: str) -> None:
    """Remove whatever of one run is still there (its own last word)."""
    with names.global_lock():
        remove(find().get(run_id, Leftovers()))


def main() -> None:
    parser = argparse.ArgumentParser(prog="python3 -m e2e.local.cleanup", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--all", action="store_true", help="also remove runs that are still alive")
    removed = clean(include_live=parser.parse_args().all)
    for run_id, leftovers in removed.items():
        print(f"removed run {run_id}: {leftovers}")
    if not removed:
        print("nothing left behind")


if __name__ == "__main__":
    main()
