"""kill -9 in the middle of many writes loses nothing that was acknowledged
and leaves no block whose bytes do not match its name."""

import hashlib
import os
import shutil
import signal
import threading
from concurrent.futures import ThreadPoolExecutor

import requests

from .server import TigProcess, metric, poll

CHUNK = 64 * 1024


def test_kill_during_concurrent_puts(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    server = TigProcess(data=str(data)).start()
    complete = [os.urandom(1 << 20) for _ in range(50)]
    interrupted = [os.urandom(1 << 20) for _ in range(50)]
    acknowledged = []
    started = threading.Semaphore(0)
    killed = threading.Event()
    lock = threading.Lock()

    def put(body):
        answer = requests.put(server.url, data=body, timeout=60)
        assert answer.status_code == 200
        with lock:
            acknowledged.append((answer.text, body))

    def put_until_killed(body):
        # Sends all but the last chunk, then holds the request open until the
        # server is killed: these PUTs are mid-body at the moment of the kill.
        def chunks():
            for offset in range(0, len(body) - CHUNK, CHUNK):
                yield body[offset:offset + CHUNK]
            started.release()
            killed.wait()
            yield body[-CHUNK:]
        try:
            requests.put(server.url, data=chunks(), timeout=60)
        except requests.RequestException:
            pass

    with ThreadPoolExecutor(max_workers=100) as pool:
        waiting = [pool.submit(put_until_killed, body) for body in interrupted]
        finished = [pool.submit(put, body) for body in complete]
        for _ in interrupted:
            assert started.acquire(timeout=60)
        for future in finished:
            future.result()
        # Every interrupted body but its last chunk has been sent; wait until
        # the server has received and written them.
        poll(lambda: metric(server.admin_url, "tig_bytes_received_total") >= 50 * (1 << 20) + 50 * ((1 << 20) - CHUNK),
             message="bodies received")
        server.kill(signal.SIGKILL)
        killed.set()
        for future in waiting:
            future.result()

    assert len(acknowledged) == 50
    for name in server.files():
        assert name.endswith(".tig") and len(name) == 68, "only block names in the data directory"
        content = (data / name).read_bytes()
        assert hashlib.sha256(content).hexdigest() + ".tig" == name, "every block's bytes match its name"
    interrupted_names = {hashlib.sha256(body).hexdigest() + ".tig" for body in interrupted}
    assert not interrupted_names & set(server.files()), "nothing of an interrupted body is stored"

    restarted = TigProcess(data=str(data)).start()
    try:
        for path, body in acknowledged:
            assert path == "/" + hashlib.sha256(body).hexdigest() + ".tig"
            assert requests.get(restarted.url + path).content == body
    finally:
        restarted.stop()
        shutil.rmtree(data, ignore_errors=True)
