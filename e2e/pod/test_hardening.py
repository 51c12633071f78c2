"""Hardening: inputs and conditions that crashed, bloated, tore or hung the
original server. Each test names the failure it guards against; all of them
run the real `tig serve` binary ($TIG_BIN) and synchronise only with poll()."""

import contextlib
import errno
import os
import select
import shutil
import socket
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from ..scenarios.poll import wait_until
from .server import TIG_BIN, TigProcess, free_port, poll

MIB = 1 << 20


def random_slot():
    """A key slot: any 64-hex name that is not the hash of what is stored in it."""
    return "/" + os.urandom(32).hex() + ".tig"


@contextlib.contextmanager
def serving(*args, **kwargs):
    """A TigProcess that is SIGKILLed (not drained) when the test fails, so a
    bloated or hung server cannot take the machine or the suite down with it."""
    server = TigProcess(*args, **kwargs)
    try:
        server.start()
        yield server
    except BaseException:
        if server.process and server.process.poll() is None:
            server.kill()
        print(server.log_text()[-8000:])
        raise
    finally:
        server.stop()
        if server.owned_data:
            shutil.rmtree(server.data, ignore_errors=True)


def proc_value(pid, file, field):
    """A number from /proc/<pid>/<file>: VmRSS in `status` (KiB); rchar and
    wchar in `io` (bytes moved by read(2)/write(2) and friends, sockets too)."""
    with open(f"/proc/{pid}/{file}") as lines:
        for line in lines:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise AssertionError(f"no {field} in /proc/{pid}/{file}")


def rss(pid):
    return proc_value(pid, "status", "VmRSS") * 1024


def test_burst_of_one_cached_block_20000_times_does_not_crash(tig):
    """The original server died (SIGSEGV) answering a burst that names one block
    held in the read cache 20,000 times. The burst must be answered in full
    and the process must live on."""
    block = os.urandom(100)
    path = requests.put(tig.url, data=block).text
    assert requests.get(tig.url + path).content == block, "now in the read cache"
    listing = requests.put(tig.url, data=(path + "\n") * 20_000).text
    try:
        answer = requests.get(tig.url + listing + "?burst=1", timeout=60)
    except requests.RequestException as error:
        pytest.fail(f"burst failed ({error!r}); server exit status {tig.process.poll()}")
    assert answer.status_code == 200
    assert len(answer.content) == 100 * 20_000
    assert answer.content == block * 20_000
    assert tig.process.poll() is None, "the server is still running"
    assert requests.get(tig.admin_url + "/healthz").status_code == 200


@contextlib.contextmanager
def readers_hammering(url, count=3):
    """Processes (free of this interpreter's GIL) that GET `url` on a kept-alive
    connection without pause: they refill the read cache in the middle of
    every mutation, which is how a stale entry gets in when the cache is
    invalidated before the change has landed."""
    address = url.split("/")[2]
    path = "/" + url.split("/", 3)[3]
    loop = ("import http.client\n"
            f"c = http.client.HTTPConnection({address!r})\n"
            f"while True:\n    c.request('GET', {path!r}); c.getresponse().read()\n")
    readers = [subprocess.Popen([sys.executable, "-c", loop], stderr=subprocess.DEVNULL) for _ in range(count)]
    try:
        yield
    finally:
        for reader in readers:
            reader.kill()
            reader.wait()


@pytest.mark.parametrize("kind", ["replace", "append", "delete", "take"])
def test_every_mutation_is_visible_to_the_next_read(tig, kind):
    """Once a mutation is answered, every read must see it, on the same
    connection and on another one: the read cache must never answer a value
    that a write has already replaced, extended, deleted or taken, even while
    other clients keep reading (and so refilling the cache) during the write."""
    slot = tig.url + random_slot()
    expected = None
    with requests.Session() as writer, requests.Session() as reader, readers_hammering(slot):
        for step in range(200):
            # 16 KiB values make each file read long enough to straddle the mutation.
            value = f"{kind} {step}\n".encode() + os.urandom(16 << 10 if kind != "append" else 8)
            if kind == "replace":
                assert writer.put(slot, data=value).status_code == 200
                expected = value
            elif kind == "append":
                # A fresh small value each round keeps the slot cacheable (<= 64 KiB);
                # a 32 KiB append keeps the copy long enough for the readers to race it.
                assert writer.put(slot, data=value).status_code == 200
                assert reader.get(slot).content == value, f"round {step}: stale after the replace"
                chunk = os.urandom(32 << 10)
                assert writer.put(slot + "?append=1", data=chunk).status_code == 200
                expected = value + chunk
            else:
                assert writer.put(slot, data=value).status_code == 200
                assert reader.get(slot).content == value, f"round {step}: stale after the replace"
                if kind == "delete":
                    assert writer.delete(slot).status_code == 200
                else:
                    taken = writer.get(slot + "?take=1")
                    assert taken.status_code == 200, f"round {step}"
                    assert taken.content == value, f"round {step}: take answered a stale value"
            for session in (writer, reader):
                answer = session.get(slot)
                if expected is None:
                    assert answer.status_code == 404, f"round {step}: still there after {kind}"
                else:
                    assert answer.status_code == 200, f"round {step}"
                    assert answer.content == expected, f"round {step}: stale after {kind}"


def test_100_concurrent_takes_have_exactly_one_winner(tig):
    """`take` is read-and-delete in one step: of 100 takers racing on separate
    connections for a value that is also in the read cache (and being read by
    others), exactly one gets it and the other 99 get 404."""
    for _ in range(3):
        slot = tig.url + random_slot()
        assert requests.put(slot, data=b"the only value").status_code == 200
        assert requests.get(slot).content == b"the only value", "cached"
        barrier = threading.Barrier(100)

        def take(_):
            with requests.Session() as session:
                barrier.wait()  # all 100 connections are open: release them together
                return session.get(slot + "?take=1")

        with readers_hammering(slot, count=2), ThreadPoolExecutor(max_workers=100) as pool:
            results = list(pool.map(take, range(100)))
        winners = [answer for answer in results if answer.status_code == 200]
        assert len(winners) == 1, f"{len(winners)} takers got the value"
        assert winners[0].content == b"the only value"
        assert sorted(answer.status_code for answer in results) == [200] + [404] * 99
        assert requests.get(slot).status_code == 404


@pytest.mark.parametrize("size", [64 << 10, MIB], ids=["cached-64KiB", "sendfile-1MiB"])
def test_pipelined_requests_never_read_do_not_grow_memory(size):
    """A client that pipelines 100,000 GETs and never reads the answers must
    not make the server buffer 100,000 answers: it has to stop reading
    requests while the answers cannot be sent (back-pressure), and give the
    memory back when the client goes away. Both the in-memory (cached) answer
    path and the file (sendfile) path are covered."""
    with serving() as tig:
        body = os.urandom(size)
        path = requests.put(tig.url, data=body).text
        assert requests.get(tig.url + path).content == body
        pid = tig.process.pid
        idle = rss(pid)
        batch = f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode() * 1000
        connection = socket.create_connection(("127.0.0.1", tig.port))
        # sendall gives up after 3 s without progress: the server stopped reading.
        connection.settimeout(3)
        done = threading.Event()

        def send():
            try:
                for _ in range(100):
                    if done.is_set():
                        return
                    connection.sendall(batch)
            except OSError:
                return

        sender = threading.Thread(target=send, daemon=True)
        sender.start()
        try:
            peak = idle
            window_ends = time.monotonic() + 10
            while time.monotonic() < window_ends:
                peak = max(peak, rss(pid))
                assert peak <= idle + 256 * MIB, f"RSS grew by {(peak - idle) // MIB} MiB for unread answers"
                done.wait(0.1)  # the sampling interval, not a synchronisation
        finally:
            done.set()
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)
            sender.join(10)
            connection.close()
        poll(lambda: rss(pid) <= idle + 64 * MIB, timeout=20,
             message=f"memory given back after the client left (peak +{(peak - idle) // MIB} MiB)")
        assert requests.get(tig.admin_url + "/healthz").status_code == 200


def test_append_torn_by_kill_9_is_all_or_nothing(tmp_path):
    """An append is all or nothing even when the server is killed with -9 while
    it stores it: after a restart the slot holds the old value or the old value
    plus the whole body, never a part of the body. The original server copied
    a received body into the slot in 64 KiB writes and a kill among them left a
    torn value. The kill moments vary: right after the last byte was sent; at
    successive points of the copy (the server's written-bytes counter, wchar,
    passing the spooled body plus N MiB); and with only part of the body sent
    and read (which must always leave the old value)."""
    data = tmp_path / "data"
    data.mkdir()
    slot = random_slot()
    length = 10 * MIB
    # (bytes of the body sent, wait until the server has read them, kill once wchar grew by this much)
    plans = ([(length, False, None)] * 3
             + [(length, False, length + copied * MIB) for copied in range(10)]
             + [(5 * MIB, True, None), (MIB, True, None), (length - 1, True, None)])
    server = TigProcess(data=str(data)).start()
    try:
        for iteration, (sent, wait_until_read, written) in enumerate(plans):
            assert requests.put(server.url + slot, data=b"old").status_code == 200
            body = os.urandom(length)
            pid = server.process.pid
            read_before, written_before = proc_value(pid, "io", "rchar"), proc_value(pid, "io", "wchar")
            head = f"PUT {slot}?append=1 HTTP/1.1\r\nHost: x\r\nContent-Length: {length}\r\n\r\n".encode()
            with socket.create_connection(("127.0.0.1", server.port), timeout=30) as connection:
                connection.sendall(head + body[:sent])
                if wait_until_read:
                    poll(lambda: proc_value(pid, "io", "rchar") - read_before >= sent, timeout=20,
                         message="body read by the server")
                if written is not None:
                    # Spins (interval 0): a 10 MiB copy lasts only milliseconds.
                    wait_until("the copy under way or answered",
                               lambda: proc_value(pid, "io", "wchar") - written_before >= written
                               or select.select([connection], [], [], 0)[0], 20, interval=0)
                server.kill()
            server.stop()
            server = TigProcess(data=str(data)).start()
            answer = requests.get(server.url + slot, timeout=30)
            value = answer.content
            whole = value == b"old" or (sent == length and value == b"old" + body)
            assert answer.status_code == 200 and whole, (
                f"iteration {iteration} (sent {sent} of {length}, kill at wchar +{written}): "
                f"slot holds {len(value)} bytes, starting {value[:16]!r}")
    finally:
        if server.process and server.process.poll() is None:
            server.kill()
        server.stop()


def test_append_beyond_the_block_size_limit_is_refused_and_changes_nothing():
    """--max-block-size bounds the slot an append produces, not just the body:
    an append that would grow a slot past the limit answers 413 and leaves the
    slot byte for byte as it was; one that fits is stored."""
    with serving("--max-block-size", "1MiB") as tig:
        slot = tig.url + random_slot()
        value = os.urandom(900 << 10)
        assert requests.put(slot, data=value).status_code == 200
        too_much = requests.put(slot + "?append=1", data=os.urandom(200 << 10))
        assert too_much.status_code == 413
        assert requests.get(slot).content == value, "the refused append changed the slot"
        fits = os.urandom(100 << 10)
        assert requests.put(slot + "?append=1", data=fits).status_code == 200
        assert requests.get(slot).content == value + fits


def test_a_fifo_as_the_apikey_file_fails_closed_without_hanging(tmp_path):
    """Opening a FIFO for reading blocks until someone writes to it. A FIFO
    named `apikey` must not hang the start or any request: it is not a valid
    key file, so the server fails closed (401) and answers promptly."""
    data = tmp_path / "data"
    data.mkdir()
    os.mkfifo(data / "apikey")
    with serving(data=str(data)) as tig:
        assert requests.put(tig.url, data=b"refused", timeout=5).status_code == 401
        assert requests.get(tig.admin_url + "/", timeout=5).status_code in (401, 403)
        assert requests.get(tig.admin_url + "/?apikey=anything", timeout=5).status_code in (401, 403)
        assert requests.get(tig.admin_url + "/healthz", timeout=5).status_code == 200


def test_a_fifo_under_a_block_name_is_not_a_block(tmp_path):
    """A FIFO under a block's name (dropped there by someone with access to the
    directory) must not hang the start-up scan, a read or the listing: it is
    not a block, so reading it answers 404."""
    data = tmp_path / "data"
    data.mkdir()
    name = os.urandom(32).hex() + ".tig"
    os.mkfifo(data / name)
    with serving(data=str(data), env={"APIKEY": "k"}) as tig:
        assert requests.get(tig.url + "/" + name, timeout=5).status_code == 404
        assert requests.get(tig.url + "/" + name + "?take=1&apikey=k", timeout=5).status_code == 404
        path = requests.put(tig.url + "/?apikey=k", data=b"a real block", timeout=5).text
        listing = requests.get(tig.admin_url + "/?apikey=k", timeout=5)
        assert listing.status_code == 200
        assert path in listing.text.splitlines()


def test_a_trickled_body_is_timed_out():
    """A client that sends a body at 1 byte/s holds a connection and a temp
    file for days at a 1 MB Content-Length. Below --min-body-rate (measured
    over --body-rate-window) the server answers 408 and closes; a body sent at
    full speed is unaffected."""
    with serving("--min-body-rate", "1KiB", "--body-rate-window", "2s") as tig:
        connection = socket.create_connection(("127.0.0.1", tig.port), timeout=20)
        stop = threading.Event()

        def trickle():
            try:
                connection.sendall(b"PUT / HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\n\r\n")
                while not stop.wait(1):  # the client's pace: one byte a second
                    connection.sendall(b"a")
            except OSError:
                return

        sender = threading.Thread(target=trickle, daemon=True)
        started = time.monotonic()
        sender.start()
        answer = b""
        try:
            while chunk := connection.recv(65536):  # until the server closes
                answer += chunk
        except ConnectionResetError:
            pass
        except TimeoutError:
            pytest.fail(f"neither answered nor closed within 20 s: {answer[:200]!r}")
        finally:
            elapsed = time.monotonic() - started
            stop.set()
            sender.join(5)
            connection.close()
        assert answer.startswith(b"HTTP/1.1 408 "), answer[:200]
        assert elapsed < 15, f"answered after {elapsed:.1f}s"
        assert requests.put(tig.url, data=os.urandom(1_000_000)).status_code == 200, "full speed is fine"
        assert len(tig.block_files()) == 1, "the trickled body left nothing behind"


@pytest.mark.parametrize("flag, value", [("--retention", "99999999999h"),
                                         ("--max-block-size", "99999999999999999999G")])
def test_a_setting_that_overflows_is_a_usage_error(tmp_path, flag, value):
    """A duration or size too large for 64 bits must not trap on arithmetic
    overflow (the original died by SIGILL on the duration) or wrap to a small
    value. It is a usage error: exit status 64 and a message naming the flag."""
    command = [TIG_BIN, "serve", "--listen", f"127.0.0.1:{free_port()}", "--data", str(tmp_path), flag, value]
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=20)
    except subprocess.TimeoutExpired:
        pytest.fail(f"{flag} {value} was accepted: the server started")
    output = result.stdout + result.stderr
    assert result.returncode > 0, f"killed by signal {-result.returncode}: {output[:600]}"
    assert result.returncode == 64, output[:600]
    assert flag in output


def test_a_full_disk_makes_the_pod_unready_and_writes_answer_507(tmp_path):
    """On a full data directory the pod must leave the load balancer (readyz
    503) and refuse writes with 507 Insufficient Storage rather than failing
    obscurely; when space is freed it becomes ready again by itself."""
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    mount = tmp_path / "disk"
    mount.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=32m", "tmpfs", str(mount)], check=True)
    try:
        with serving(data=str(mount)) as tig:
            assert requests.get(tig.admin_url + "/readyz").status_code == 200
            filler = mount / "filler"
            descriptor = os.open(filler, os.O_WRONLY | os.O_CREAT, 0o600)
            try:
                chunk = b"\0" * MIB
                while True:
                    os.write(descriptor, chunk)
            except OSError as error:
                assert error.errno == errno.ENOSPC
            finally:
                os.close(descriptor)
            poll(lambda: requests.get(tig.admin_url + "/readyz").status_code == 503, message="unready when full")
            assert requests.get(tig.admin_url + "/healthz").status_code == 200
            assert requests.put(tig.url, data=os.urandom(MIB)).status_code == 507
            filler.unlink()
            poll(lambda: requests.get(tig.admin_url + "/readyz").status_code == 200, message="ready once space is free")
            assert requests.put(tig.url, data=os.urandom(MIB)).status_code == 200
    finally:
        subprocess.run(["umount", str(mount)], check=True)
