"""Concurrent client load that records the outcome of every request.

Scenarios assert "no client request failed", so a worker never retries: any
exception, wrong status or wrong byte is one failure, kept with its reason.
"""

from __future__ import annotations

import os
import random
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Callable

from .tig import expect, get, put_content


class Acked:
    """Blocks whose write was acknowledged: path -> expected bytes."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._paths: list[str] = []
        self._data: dict[str, bytes] = {}

    def add(self, path: str, data: bytes) -> None:
        with self._lock:
            if path not in self._data:
                self._paths.append(path)
            self._data[path] = data

    def sample(self, rng: random.Random) -> tuple[str, bytes]:
        with self._lock:
            path = rng.choice(self._paths)
            return path, self._data[path]

    def items(self) -> list[tuple[str, bytes]]:
        with self._lock:
            return [(path, self._data[path]) for path in self._paths]

    def __len__(self) -> int:
        with self._lock:
            return len(self._paths)


@dataclass
class Outcomes:
    name: str
    ok: int = 0
    failed: int = 0
    reasons: list[str] = field(default_factory=list)  # the first few, for the report

    def summary(self) -> str:
        shown = "\n  ".join(self.reasons)
        return f"{self.name}: {self.ok} ok, {self.failed} failed" + (f":\n  {shown}" if shown else "")


class Workers:
    """N threads each calling step(rng) until stopped; a step raises on failure.
    pace (seconds) spaces the steps of each thread to keep a load light."""

    KEPT_REASONS = 20

    def __init__(self, name: str, threads: int, step: Callable[[random.Random], None],
                 pace: float = 0.0) -> None:
        self.name = name
        self._step = step
        self._pace = pace
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._outcomes = Outcomes(name)
        self._threads = [threading.Thread(target=self._run, name=f"{name}-{i}", daemon=True)
                         for i in range(threads)]

    def start(self) -> "Workers":
        for thread in self._threads:
            thread.start()
        return self

    def ok(self) -> int:
        with self._lock:
            return self._outcomes.ok

    def stop(self) -> Outcomes:
        self._stop.set()
        for thread in self._threads:
            if thread.ident is not None:  # started
                thread.join()
        return self._outcomes

    def _run(self) -> None:
        rng = random.Random(os.urandom(16))
        while not self._stop.is_set():
            try:
                self._step(rng)
                with self._lock:
                    self._outcomes.ok += 1
            except Exception as error:  # noqa: BLE001 - every failure is recorded
                with self._lock:
                    self._outcomes.failed += 1
                    if len(self._outcomes.reasons) < self.KEPT_REASONS:
                        self._outcomes.reasons.append(f"{_clock()} {_first_line(error)}")
            if self._pace:
                self._stop.wait(self._pace)


def _clock() -> str:
    """Wall-clock time (UTC, as in the pods' logs) to line failures up with them."""
    now = time.time()
    return time.strftime("%H:%M:%S", time.gmtime(now)) + f".{int(now % 1 * 1000):03d}"


def _first_line(error: Exception) -> str:
    """An assertion's message without pytest's explanation lines."""
    return (str(error).splitlines() or [repr(error)])[0]


def random_block(rng: random.Random, low: int = 32, high: int = 4096) -> bytes:
    return rng.randbytes(rng.randint(low, high))


def writer(base: Callable[[random.Random], str], acked: Acked, *, fresh: bool = False) -> Callable[[random.Random], None]:
    """A step that stores a new random content block at base(rng) and records
    it as acknowledged."""
    def step(rng: random.Random) -> None:
        data = random_block(rng)
        acked.add(put_content(base(rng), data, fresh=fresh), data)
    return step


def reader(base: Callable[[random.Random], str], acked: Acked, *, fresh: bool = False) -> Callable[[random.Random], None]:
    """A step that reads one acknowledged block from base(rng) and checks its exact bytes."""
    def step(rng: random.Random) -> None:
        path, data = acked.sample(rng)
        expect(get(base(rng), path, fresh=fresh), 200, data)
    return step


def verify_all(bases: list[str], blocks: list[tuple[str, bytes]], threads: int = 16) -> Outcomes:
    """Read every block once, spreading the reads over bases, and compare the
    exact bytes (for a content block that also proves they hash to its address)."""
    outcomes = Outcomes("reading every block")
    lock = threading.Lock()

    def check(index: int) -> None:
        path, data = blocks[index]
        try:
            expect(get(bases[index % len(bases)], path), 200, data)
            with lock:
                outcomes.ok += 1
        except Exception as error:  # noqa: BLE001 - every failure is recorded
            with lock:
                outcomes.failed += 1
                if len(outcomes.reasons) < Workers.KEPT_REASONS:
                    outcomes.reasons.append(_first_line(error))

    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(check, range(len(blocks))))
    return outcomes
