"""The bounds on one request to a registry that may be hostile: a socket timeout bounds only the
wait for each byte (a registry that trickles one byte a second never trips it), so a watchdog
ends each request at its deadline, and every request the moment the run stops, by shutting its
socket down; and a connect is made in slices, so that a stop ends it too.
"""

from __future__ import annotations

import errno
import http.client
import selectors
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

_TICK = 0.05  # how often the watchdog looks at the requests under way


class Stopped(Exception):
    """The run was stopped (its deadline, SIGTERM, Ctrl-C) while this request was under way."""


class Watched:
    def __init__(self, connection: http.client.HTTPConnection, until: float) -> None:
        self.connection, self.until, self.fired = connection, until, False


class Watchdog:
    """Ends a request at its deadline, and every request when the run stops, by shutting its
    socket down from this thread: the blocked read in the requesting thread returns at once."""

    def __init__(self, stop: threading.Event) -> None:
        self.stop = stop
        self._lock = threading.Lock()
        self._watched: set[Watched] = set()
        self._closed = threading.Event()
        self._thread: threading.Thread | None = None

    @contextmanager
    def watching(self, connection: http.client.HTTPConnection, until: float) -> Iterator[Watched]:
        watched = Watched(connection, until)
        with self._lock:
            self._watched.add(watched)
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="warm-watchdog", daemon=True)
                self._thread.start()
        try:
            yield watched
        finally:
            with self._lock:
                self._watched.discard(watched)

    def close(self) -> None:
        self._closed.set()

    def _run(self) -> None:
        closed = False
        while not closed:  # one last look after close: a stop just before it is still obeyed
            closed = self._closed.wait(_TICK)
            stopped, now = self.stop.is_set(), time.monotonic()
            with self._lock:
                due = [w for w in self._watched if not w.fired and (stopped or now >= w.until)]
                for watched in due:
                    watched.fired = True
            for watched in due:
                _shut(watched.connection)


def _shut(connection: http.client.HTTPConnection) -> None:
    sock = connection.sock
    if sock is None:
        return
    try:
        # socket.socket's own shutdown, not SSLSocket's, which would drop the TLS object under
        # the reading thread's feet: the read simply fails, as on a broken connection.
        socket.socket.shutdown(sock, socket.SHUT_RDWR)
    except OSError:
        pass


def connect(address: tuple[str, int], timeout: float, until: float, stop: threading.Event) -> Any:
    """socket.create_connection, in slices: a connect to an address that never answers ends at
    the request's deadline or the moment the run stops, not after the kernel's own minutes."""
    host, port = address
    failure: OSError = OSError(f"cannot resolve {host}")
    for family, kind, proto, _, where in socket.getaddrinfo(host, port, 0, socket.SOCK_STREAM):
        sock = socket.socket(family, kind, proto)
        try:
            sock.setblocking(False)
            code = sock.connect_ex(where)
            with selectors.DefaultSelector() as selector:
                selector.register(sock, selectors.EVENT_WRITE)
                while code in (errno.EINPROGRESS, errno.EALREADY, errno.EWOULDBLOCK, errno.EINTR):
                    if stop.is_set():
                        raise Stopped()
                    left = until - time.monotonic()
                    if left <= 0:
                        raise TimeoutError("timed out connecting")
                    if selector.select(min(left, _TICK)):
                        code = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
            if code:
                raise OSError(code, errno.errorcode.get(code, str(code)))
            sock.settimeout(timeout)
            return sock
        except OSError as exc:
            sock.close()
            failure = exc
        except BaseException:
            sock.close()
            raise
    raise failure
