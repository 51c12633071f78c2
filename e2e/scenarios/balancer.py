"""A TCP round-robin balancer on 127.0.0.1: what a Service's virtual IP does
for clients outside the pods. Each connection goes to the next backend; a
backend that refuses the connection is skipped. Drivers update the backends
as pods become ready or start terminating, before the pod is signalled, as
the endpoints controller does."""

from __future__ import annotations

import socket
import threading

CONNECT_TIMEOUT = 2.0


class Balancer:
    def __init__(self) -> None:
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._lock = threading.Lock()
        self._backends: list[tuple[str, int]] = []
        self._next = 0
        self._closed = False
        self._acceptor = threading.Thread(target=self._accept, name="balancer", daemon=True)
        self._acceptor.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._listener.getsockname()[1]}"

    def set_backends(self, backends: list[tuple[str, int]]) -> None:
        with self._lock:
            self._backends = list(backends)

    def close(self) -> None:
        """Stop accepting. The accepting thread must be gone before the socket
        is closed: else an accept retried after a signal (EINTR) could run on
        the descriptor's number after it was reused by a new listener."""
        self._closed = True
        self._listener.shutdown(socket.SHUT_RDWR)  # wakes the blocked accept
        self._acceptor.join()
        self._listener.close()

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return  # shut down
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _choices(self) -> list[tuple[str, int]]:
        with self._lock:
            start = self._next
            self._next += 1
            backends = self._backends
        return [backends[(start + i) % len(backends)] for i in range(len(backends))]

    def _serve(self, client: socket.socket) -> None:
        for address in self._choices():
            try:
                upstream = socket.create_connection(address, timeout=CONNECT_TIMEOUT)
            except OSError:
                continue
            upstream.settimeout(None)
            pump = threading.Thread(target=_pipe, args=(upstream, client), daemon=True)
            pump.start()
            _pipe(client, upstream)
            pump.join()
            upstream.close()
            break
        client.close()


def _pipe(source: socket.socket, sink: socket.socket) -> None:
    """Copy until source ends, then pass the end on (half-close)."""
    try:
        while data := source.recv(65536):
            sink.sendall(data)
    except OSError:
        pass
    try:
        sink.shutdown(socket.SHUT_WR)
    except OSError:
        pass
