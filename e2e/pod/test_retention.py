"""Retention with a short period: idle blocks go, used blocks stay, and a
restart gives every block a full period again."""

import os
import time

import requests

from .server import TigProcess, metric, poll


def test_idle_blocks_are_deleted_and_read_blocks_kept():
    with TigProcess("--retention", "2s") as tig:
        idle = requests.put(tig.url, data=b"idle").text
        kept = requests.put(tig.url, data=b"kept").text
        slot = "/" + os.urandom(32).hex() + ".tig"
        requests.put(tig.url + slot, data=b"slot").raise_for_status()
        stored = time.monotonic()
        # Read `kept` every 300 ms (well inside the period) until `idle` is gone.
        while (tig.data / idle[1:]).exists():
            assert requests.get(tig.url + kept).content == b"kept"
            assert time.monotonic() - stored < 10, "the idle block outlived its retention"
            time.sleep(0.3)
        assert time.monotonic() - stored >= 2, "deleted only after the retention period"
        assert requests.get(tig.url + idle).status_code == 404
        poll(lambda: not (tig.data / slot[1:]).exists(), message="the idle slot swept")
        assert requests.get(tig.url + kept).content == b"kept"
        assert metric(tig.admin_url, "tig_swept_total") >= 2


def test_chtimes_zero_and_head_do_not_reset_the_timer():
    with TigProcess("--retention", "2s") as tig:
        path = requests.put(tig.url, data=b"untouched").text
        stored = time.monotonic()
        while (tig.data / path[1:]).exists():
            assert requests.get(tig.url + path + "?chtimes=0").status_code == 200
            assert requests.head(tig.url + path).status_code == 200
            assert time.monotonic() - stored < 10
            time.sleep(0.3)


def test_timers_restart_after_a_restart(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    with TigProcess("--retention", "2s", data=str(data)) as tig:
        path = requests.put(tig.url, data=b"old").text
    # Make the block look ancient: after a restart it still gets a full period.
    os.utime(data / path[1:], (time.time() - 3600, time.time() - 3600))
    with TigProcess("--retention", "2s", data=str(data)) as tig:
        started = time.monotonic()
        assert requests.get(tig.url + path + "?chtimes=0").content == b"old"
        poll(lambda: not (data / path[1:]).exists(), timeout=10, message="swept after a full period")
        assert time.monotonic() - started >= 1.5
