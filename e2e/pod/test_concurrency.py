"""Exactly-one-winner and no-torn-value guarantees under concurrent clients."""

import hashlib
import os
import threading
from concurrent.futures import ThreadPoolExecutor

import requests


def random_slot():
    return "/" + os.urandom(32).hex() + ".tig"


def run_together(count, action):
    """Runs `action(i)` on `count` threads released at the same moment."""
    barrier = threading.Barrier(count)

    def task(index):
        with requests.Session() as session:
            barrier.wait()
            return action(session, index)

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(task, range(count)))


def test_setifnot_has_exactly_one_winner(tig):
    for _ in range(3):
        slot = random_slot()
        results = run_together(50, lambda s, i: s.put(f"{tig.url}{slot}?setifnot=1", data=f"writer {i}"))
        winners = [i for i, r in enumerate(results) if r.status_code == 200]
        assert len(winners) == 1
        assert all(r.status_code == 409 and r.content == b"" for r in results if r.status_code != 200)
        assert results[winners[0]].text == slot
        assert requests.get(tig.url + slot).text == f"writer {winners[0]}"


def test_take_gives_the_value_to_exactly_one_taker(tig):
    for _ in range(3):
        slot = random_slot()
        requests.put(tig.url + slot, data="the only value").raise_for_status()
        results = run_together(50, lambda s, i: s.get(f"{tig.url}{slot}?take=1"))
        got = [r for r in results if r.status_code == 200]
        assert len(got) == 1 and got[0].content == b"the only value"
        assert all(r.status_code == 404 for r in results if r.status_code != 200)
        assert requests.get(tig.url + slot).status_code == 404


def test_concurrent_appends_are_whole_and_never_interleaved(tig):
    slot = random_slot()
    lines = [f"line {i:03d} " + "x" * (i * 37 % 900) + "\n" for i in range(200)]
    results = run_together(200, lambda s, i: s.put(f"{tig.url}{slot}?append=1", data=lines[i]))
    assert all(r.status_code == 200 for r in results)
    stored = requests.get(tig.url + slot).text
    assert sorted(stored.splitlines(keepends=True)) == sorted(lines)


def test_readers_see_one_whole_value_during_concurrent_overwrites(tig):
    slot = random_slot()
    values = [bytes([65 + i]) * (100_000 + i * 1_000) for i in range(8)]
    requests.put(tig.url + slot, data=values[0]).raise_for_status()
    stop = threading.Event()
    seen = []

    def writer(index):
        with requests.Session() as session:
            n = 0
            while not stop.is_set():
                assert session.put(tig.url + slot, data=values[(index + n) % len(values)]).status_code == 200
                n += 1

    def reader():
        with requests.Session() as session:
            for _ in range(150):
                seen.append(session.get(tig.url + slot).content)

    writers = [threading.Thread(target=writer, args=(i,)) for i in range(3)]
    for thread in writers:
        thread.start()
    readers = [threading.Thread(target=reader) for _ in range(3)]
    for thread in readers:
        thread.start()
    for thread in readers:
        thread.join()
    stop.set()
    for thread in writers:
        thread.join()
    assert len(seen) == 450
    assert all(value in values for value in seen), "a read saw a mix of two writes"


def test_identical_concurrent_puts_store_one_block(tig):
    body = os.urandom(300_000)
    results = run_together(40, lambda s, i: s.put(tig.url, data=body))
    expected = "/" + hashlib.sha256(body).hexdigest() + ".tig"
    assert {r.text for r in results} == {expected}
    assert tig.block_files() == [expected[1:]]
