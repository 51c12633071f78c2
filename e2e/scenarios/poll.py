"""Waiting for a condition with a deadline: the only way scenarios synchronise."""

from __future__ import annotations

import time
from typing import Callable, TypeVar

T = TypeVar("T")


def wait_until(what: str, condition: Callable[[], T], timeout: float, interval: float = 0.05) -> T:
    """Return the first truthy value of condition(); raise after timeout seconds.
    Exceptions from condition() count as "not yet" and the last one is reported."""
    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    while True:
        try:
            value = condition()
            if value:
                return value
        except Exception as error:  # noqa: BLE001 - reported if the deadline passes
            last_error = error
        if time.monotonic() >= deadline:
            detail = f" (last error: {last_error!r})" if last_error else ""
            raise TimeoutError(f"{what}: not within {timeout:.1f}s{detail}")
        time.sleep(interval)
