"""`--max-data-size` (issue 13): the store stays under the bound; the least
recently used content blocks make room (counted in tig_evicted_total), key
slots are never evicted, and a write that cannot fit is refused with 507."""

import os

import requests

from .server import TigProcess, metric

BLOCK = 64 * 1024


def put(tig, data):
    response = requests.put(tig.url, data=data)
    assert response.status_code == 200, response.status_code
    return response.text


def test_old_blocks_make_room_and_recent_ones_stay():
    with TigProcess("--max-data-size", "1MiB") as tig:
        blocks = [os.urandom(BLOCK) for _ in range(40)]
        paths = [put(tig, data) for data in blocks]
        stored = metric(tig.admin_url, "tig_stored_bytes")
        assert stored <= 1 << 20, stored
        on_disk = sum((tig.data / name).stat().st_size for name in tig.block_files())
        assert on_disk <= 1 << 20, on_disk
        assert metric(tig.admin_url, "tig_evicted_total") >= 40 - 16
        assert metric(tig.admin_url, "tig_data_limit_bytes") == 1 << 20
        # The newest are kept whole; the oldest are gone. (Which of blocks
        # used within the same sweep step goes first follows their order of
        # writing; the unit tests cover reads resetting the order.)
        for path, data in list(zip(paths, blocks))[-15:]:
            assert requests.get(tig.url + path).content == data
        assert all(requests.get(tig.url + path).status_code == 404 for path in paths[:20])


def test_key_slots_are_kept_and_a_slot_that_cannot_fit_is_507():
    # Three slots of 64 KiB are 192 KiB of 250 KiB: a fourth needs room no
    # content block can make.
    with TigProcess("--max-data-size", "250KiB") as tig:
        slots = ["/" + os.urandom(32).hex() + ".tig" for _ in range(4)]
        for slot in slots[:3]:
            assert requests.put(tig.url + slot, data=os.urandom(BLOCK)).status_code == 200
        put(tig, os.urandom(BLOCK // 2))
        answer = requests.put(tig.url + slots[3], data=os.urandom(BLOCK))
        assert answer.status_code == 507, answer.status_code
        for slot in slots[:3]:
            assert len(requests.get(tig.url + slot).content) == BLOCK
        assert requests.get(tig.url + slots[3]).status_code == 404
        assert requests.put(tig.url + slots[0], data=os.urandom(BLOCK)).status_code == 200, "a same-size rewrite fits"


def test_a_tmpfs_store_stays_under_the_bound_in_memory(tmp_path):
    """In Kubernetes the data directory is an emptyDir in memory: what tmpfs
    holds counts against the pod's memory. Writing four times the bound
    leaves tmpfs at most the bound full, and the process's own memory small."""
    import subprocess
    mount = tmp_path / "data"
    mount.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=96m", "tmpfs", str(mount)], check=True)
    try:
        with TigProcess("--max-data-size", "16MiB", data=str(mount)) as tig:
            for _ in range(64):
                put(tig, os.urandom(1 << 20))
            usage = os.statvfs(mount)
            used = (usage.f_blocks - usage.f_bfree) * usage.f_frsize
            assert used <= (16 << 20) + (1 << 20), f"tmpfs holds {used} bytes"
            assert metric(tig.admin_url, "process_resident_memory_bytes") < 128 << 20
            assert metric(tig.admin_url, "tig_evicted_total") >= 64 - 16
    finally:
        subprocess.run(["umount", str(mount)], check=True)
