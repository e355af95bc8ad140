"""A registry on 127.0.0.1 that answers the way an attacker (or a broken proxy) would, chosen
by the repository's first path element after the prefix: `GET /v2/quay/<behaviour>/<n>/...`.

Good answers are manifests with their true digest and media type; the others are the answers
issue 21 found `warm` crashing, hanging or lying on, and a few more of their kind.
"""

from __future__ import annotations

import json
import socket
import threading
import urllib.parse
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from tests.fake_registry import MANIFEST, image, sha256

Reply = Callable[["_Handler", str], None]


def _send(
    handler: _Handler, status: int, body: bytes, headers: dict[str, str] | None = None
) -> None:
    handler.send_response(status)
    for key, value in {"Content-Length": str(len(body)), **(headers or {})}.items():
        handler.send_header(key, value)
    handler.end_headers()
    handler.wfile.write(body)


def _manifest_headers(body: bytes, media_type: str = MANIFEST) -> dict[str, str]:
    return {"Content-Type": media_type, "Docker-Content-Digest": sha256(body)}


def good(handler: _Handler, name: str) -> None:
    body = image(name)
    _send(handler, 200, body, _manifest_headers(body))


def slow(handler: _Handler, name: str) -> None:
    handler.server.pause(handler.server.slow)  # type: ignore[attr-defined]
    good(handler, name)


def trickle(handler: _Handler, name: str) -> None:
    """Headers at once, then the body one byte at a time, `interval` apart: never idle long
    enough for a socket timeout."""
    body = image(name)
    handler.send_response(200)
    for key, value in {"Content-Length": str(len(body)), **_manifest_headers(body)}.items():
        handler.send_header(key, value)
    handler.end_headers()
    handler.wfile.flush()
    for n in range(len(body)):
        if handler.server.pause(handler.server.interval):  # type: ignore[attr-defined]
            return
        handler.wfile.write(body[n : n + 1])
        handler.wfile.flush()


def trickle_headers(handler: _Handler, name: str) -> None:
    head = b"HTTP/1.1 200 OK\r\nContent-Type: " + MANIFEST.encode() + b"\r\n" + b"X-Slow: "
    handler.wfile.write(head)
    for _ in range(1000):
        if handler.server.pause(handler.server.interval):  # type: ignore[attr-defined]
            return
        handler.wfile.write(b"a")
        handler.wfile.flush()


def deep(handler: _Handler, name: str) -> None:
    body = b"[" * 200_000
    _send(handler, 200, body, _manifest_headers(body))


def manifests_int(handler: _Handler, name: str) -> None:
    body = json.dumps({"schemaVersion": 2, "manifests": 5}).encode()
    _send(handler, 200, body, _manifest_headers(body, "application/vnd.oci.image.index.v1+json"))


def errors_dict(handler: _Handler, name: str) -> None:
    _send(handler, 404, json.dumps({"errors": {"a": 1}}).encode())


def deep_error(handler: _Handler, name: str) -> None:
    _send(handler, 500, b"[" * 200_000)


def crlf_token(handler: _Handler, name: str) -> None:
    if handler.path.startswith("/token"):
        body = json.dumps({"token": "abc\r\nX-Injected: 1"}).encode()
        _send(handler, 200, body, {"Content-Type": "application/json"})
        return
    realm = f"http://127.0.0.1:{handler.server.server_address[1]}/token"
    challenge = f'Bearer realm="{realm}",service="hostile",scope="repository:quay/{name}:pull"'
    _send(handler, 401, b"{}", {"WWW-Authenticate": challenge})


def empty(handler: _Handler, name: str) -> None:
    _send(handler, 200, b"", _manifest_headers(b""))


def truncated(handler: _Handler, name: str) -> None:
    """The headers name the whole manifest's digest; the body stops halfway and the connection
    closes (no Content-Length, so the cut looks like the end)."""
    body = image(name)
    handler.send_response(200)
    for key, value in _manifest_headers(body).items():
        handler.send_header(key, value)
    handler.send_header("Connection", "close")
    handler.end_headers()
    handler.wfile.write(body[: len(body) // 2])
    handler.close_connection = True


def wrong_digest(handler: _Handler, name: str) -> None:
    body = image(name)
    _send(handler, 200, body, {"Content-Type": MANIFEST, "Docker-Content-Digest": sha256(b"x")})


def wrong_type(handler: _Handler, name: str) -> None:
    body = b"<html>hello</html>"
    _send(handler, 200, body, {"Content-Type": "text/html", "Docker-Content-Digest": sha256(body)})


def not_json(handler: _Handler, name: str) -> None:
    body = b"\xff\xfe not json"
    _send(handler, 200, body, _manifest_headers(body))


def echo(handler: _Handler, name: str) -> None:
    """An error that quotes the request's Authorization header, in several encodings."""
    sent = handler.headers.get("Authorization", "")
    quoted = urllib.parse.quote(sent, safe="")
    message = f"bad request: Authorization: {sent} (as sent: {quoted})"
    _send(handler, 400, json.dumps({"errors": [{"code": "X", "message": message}]}).encode())


def garbage(handler: _Handler, name: str) -> None:
    handler.wfile.write(b"\x00\x01 this is not HTTP\r\n\r\n")
    handler.close_connection = True


def hang_up(handler: _Handler, name: str) -> None:
    handler.close_connection = True
    handler.connection.shutdown(socket.SHUT_RDWR)


BEHAVIOURS: dict[str, Reply] = {
    f.__name__.replace("_", "-"): f
    for f in (
        good, slow, trickle, trickle_headers, deep, manifests_int, errors_dict, deep_error,
        crlf_token, empty, truncated, wrong_digest, wrong_type, not_json, echo, garbage, hang_up,
    )
}  # fmt: skip


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as a registry does

    def do_GET(self) -> None:
        self.server.requests += 1  # type: ignore[attr-defined]
        path = self.path.split("?", 1)[0]
        if path.startswith("/token"):
            crlf_token(self, "")
            return
        parts = path.split("/")  # ['', 'v2', 'quay', behaviour, n, 'manifests', ref]
        behaviour = BEHAVIOURS.get(parts[3] if len(parts) > 3 else "", good)
        try:
            behaviour(self, "/".join(parts[3:5]))
        except OSError:  # the client gave up (its deadline): nothing to answer
            self.close_connection = True

    def log_message(self, *args: object) -> None:
        pass


class HostileServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128

    def __init__(self, slow: float, interval: float) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.slow, self.interval = slow, interval
        self.requests = 0
        self.closing = threading.Event()

    def pause(self, seconds: float) -> bool:
        """Sleep, unless the server is closing (then say so at once)."""
        return self.closing.wait(seconds)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


@contextmanager
def serve(slow: float = 0.5, interval: float = 2.0) -> Iterator[HostileServer]:
    server = HostileServer(slow, interval)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.closing.set()
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
