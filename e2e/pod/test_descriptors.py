"""Out of file descriptors (SPEC §5, issue 11): the server backs off
accepting, says so in its log, keeps serving the connections it has, and
recovers by itself once descriptors are free again."""

import socket
import subprocess

from .server import TigProcess, poll

LIMIT = 64


def request_on(connection: socket.socket, port: int) -> bytes:
    connection.sendall(f"GET /unserved HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode())
    connection.settimeout(10)
    return connection.recv(4096)


def test_running_out_of_descriptors_pauses_accepting_and_recovers():
    with TigProcess() as tig:
        kept = socket.create_connection(("127.0.0.1", tig.port))
        assert request_on(kept, tig.port).startswith(b"HTTP/1.1 404")
        subprocess.run(["prlimit", f"--pid={tig.process.pid}", f"--nofile={LIMIT}:{LIMIT}"], check=True)
        # More connections than descriptors: the kernel completes them (the
        # backlog), the server cannot accept them all.
        flood = [socket.create_connection(("127.0.0.1", tig.port)) for _ in range(2 * LIMIT)]
        poll(lambda: "accept-paused" in tig.log_text(), timeout=20, message="an accept-paused log line")
        # The connection it has is still served.
        assert request_on(kept, tig.port).startswith(b"HTTP/1.1 404")
        for connection in flood:
            connection.close()
        # Descriptors free again: a new connection is accepted and answered.

        def answers_a_new_connection() -> bool:
            with socket.create_connection(("127.0.0.1", tig.port)) as fresh:
                try:
                    return request_on(fresh, tig.port).startswith(b"HTTP/1.1 404")
                except OSError:
                    return False
        poll(answers_a_new_connection, timeout=30, message="a new connection answered after the flood")
        assert tig.process.poll() is None
        kept.close()
