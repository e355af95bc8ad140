"""The OCI distribution API's manifest endpoint, as `docker pull` asks it, with the standard
library: `GET /v2/<name>/manifests/<tag or digest>` with the index and manifest media types in
`Accept`, Basic credentials (ECR's GetAuthorizationToken), and the Bearer token dance for a
registry that asks for it (`WWW-Authenticate: Bearer realm=...`).
https://github.com/opencontainers/distribution-spec/blob/main/spec.md#pulling-manifests

No redirects are followed (a manifest is never redirected, and a redirect must not carry the
credentials elsewhere); layers are never fetched. A registry is a stranger: every request has a
deadline (a socket timeout alone bounds only the wait for each byte, and a registry that trickles
one byte a second would never trip it), the run's stop event ends every request at once, and an
answer is used only when it is what it says it is (its digest, its media type, its shape).
"""

from __future__ import annotations

import base64
import errno
import hashlib
import http.client
import json
import math
import re
import selectors
import socket
import ssl
import threading
import time
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from migrate import __version__

INDEX_TYPES = (
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
)
ACCEPT = ", ".join(
    (
        *INDEX_TYPES,
        "application/vnd.oci.image.manifest.v1+json",
        "application/vnd.docker.distribution.manifest.v2+json",
    )
)
MANIFEST_TYPES = (*INDEX_TYPES, *ACCEPT.split(", ")[len(INDEX_TYPES) :])
MAX_MANIFEST = 4 * 1024 * 1024  # the spec's suggested limit for a manifest
TIMEOUT = 30.0  # seconds a socket may wait for the next byte (ECR may fetch from the upstream)
DEADLINE = 60.0  # seconds one request may take in all: connect, headers and body
_TICK = 0.05  # how often the watchdog looks at the requests under way
_CHALLENGE = re.compile(r'(\w+)="([^"]*)"')
_DIGEST = re.compile(r"(sha256):[0-9a-f]{64}|(sha512):[0-9a-f]{128}")
# RFC 7235's token68: what a Bearer token may be. Anything else (a CR LF, a space) would be a
# header injection, and http.client refuses it with a ValueError quoting the value.
_TOKEN68 = re.compile(r"[A-Za-z0-9\-._~+/]+=*")
_SAFE_PATH = re.compile(r"/[A-Za-z0-9\-._~!$&'()*+,;=:@/%]*")


_LOOPBACK = ("127.0.0.1", "localhost", "::1")


def check_url(base_url: str) -> str:
    """A base URL the token may be sent to: https, or plain http to this machine only (a local
    proxy or test endpoint); anything else would put the token on the wire in clear."""
    url = urllib.parse.urlsplit(base_url)
    if url.scheme not in ("https", "http") or not url.hostname or url.query or url.fragment:
        raise ValueError(f"{base_url!r} is not an http(s) base URL")
    if url.scheme == "http" and url.hostname not in _LOOPBACK:
        raise ValueError(
            f"{base_url!r}: plain http is only for this machine (the registry token would "
            "travel in clear); use https"
        )
    return base_url


class Unreachable(Exception):
    """The registry could not be reached, broke the connection, or took too long. `retry`:
    whether asking again may help (a timed-out request took its whole deadline already)."""

    def __init__(self, message: str, retry: bool = True) -> None:
        super().__init__(message)
        self.retry = retry


class Stopped(Exception):
    """The run was stopped (its deadline, SIGTERM, Ctrl-C) while this request was under way."""


@dataclass(frozen=True)
class Answer:
    status: int
    digest: str | None = None  # Docker-Content-Digest, checked against the body
    media_type: str | None = None
    children: tuple[str, ...] = ()  # the manifests an index lists
    code: str | None = None  # the registry's error code: MANIFEST_UNKNOWN, DENIED, ...
    message: str = ""  # its error message, on one line
    retry_after: float | None = None
    problem: str | None = None  # a 200 whose body is not a usable manifest: why


class _Watched:
    def __init__(self, connection: http.client.HTTPConnection, until: float) -> None:
        self.connection, self.until, self.fired = connection, until, False


class _Watchdog:
    """Ends a request at its deadline, and every request when the run stops, by shutting its
    socket down from this thread: the blocked read in the requesting thread returns at once."""

    def __init__(self, stop: threading.Event) -> None:
        self.stop = stop
        self._lock = threading.Lock()
        self._watched: set[_Watched] = set()
        self._closed = threading.Event()
        self._thread: threading.Thread | None = None

    @contextmanager
    def watching(self, connection: http.client.HTTPConnection, until: float) -> Iterator[_Watched]:
        watched = _Watched(connection, until)
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


def _connect(address: tuple[str, int], timeout: float, until: float, stop: threading.Event) -> Any:
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


class Registry:
    """One registry, shared by the warming threads: each thread keeps its own connection."""

    def __init__(
        self,
        base_url: str,
        user: str,
        password: str,
        timeout: float = TIMEOUT,
        *,
        deadline: float = DEADLINE,
        stop: threading.Event | None = None,
    ) -> None:
        url = urllib.parse.urlsplit(check_url(base_url))
        self.scheme, self.host, self.port = url.scheme, url.hostname or "", url.port
        self.root = url.path.rstrip("/")
        self.timeout, self.deadline = timeout, deadline
        self.stop = stop or threading.Event()
        self._watchdog = _Watchdog(self.stop)
        credentials = f"{user}:{password}"
        self._basic = "Basic " + base64.b64encode(credentials.encode()).decode()
        self._secrets = {password, credentials, self._basic, *_encodings(credentials.encode())}
        self._bearer: dict[str, str] = {}  # repository -> token, when the registry asks for one
        self._lock = threading.Lock()
        self._local = threading.local()

    @property
    def secrets(self) -> tuple[str, ...]:
        """Everything secret this client sends, in every form it takes on the wire: the password,
        `user:password` and its base64 (the Basic credentials ECR hands out), the header values,
        the Bearer tokens realms gave. A registry that echoes a request must not print them."""
        with self._lock:
            bearer = set(self._bearer.values())
        return tuple({*self._secrets, *bearer, *(f"Bearer {t}" for t in bearer)})

    def close(self) -> None:
        self._watchdog.close()

    def manifest(self, repository: str, reference: str) -> Answer:
        """Raises Unreachable or Stopped; every answer the registry gives is an Answer."""
        until = time.monotonic() + self.deadline
        path = f"{self.root}/v2/{repository}/manifests/{reference}"
        status, headers, body = self._get(path, self._authorization(repository), until)
        if status == 401 and headers.get("www-authenticate", "").lower().startswith("bearer"):
            token = self._token(headers["www-authenticate"], repository, until)
            if token is not None:
                status, headers, body = self._get(path, f"Bearer {token}", until)
        return _answer(status, headers, body)

    def _authorization(self, repository: str) -> str:
        with self._lock:
            token = self._bearer.get(repository)
        return f"Bearer {token}" if token else self._basic

    def _token(self, challenge: str, repository: str, until: float) -> str | None:
        """Trade the Basic credentials for a Bearer token at the realm, which must be this
        registry's scheme, host and port: the credentials go nowhere else."""
        fields = dict(_CHALLENGE.findall(challenge))
        try:
            realm = urllib.parse.urlsplit(fields.get("realm", ""))
            same = (realm.scheme, realm.hostname, realm.port) == (self.scheme, self.host, self.port)
        except ValueError:  # a port that is not a number
            return None
        if not same or not _SAFE_PATH.fullmatch(realm.path or "/"):
            return None
        query = {"scope": fields.get("scope") or f"repository:{repository}:pull"}
        if "service" in fields:
            query["service"] = fields["service"]
        path = f"{realm.path or '/'}?{urllib.parse.urlencode(query)}"
        status, _, body = self._get(path, self._basic, until, accept="application/json")
        answer = _json(body) if status == 200 else None
        if not isinstance(answer, dict):
            return None
        token = answer.get("token") or answer.get("access_token")
        if not isinstance(token, str) or len(token) > 16384 or not _TOKEN68.fullmatch(token):
            return None
        with self._lock:
            self._bearer[repository] = token
        return token

    def _get(
        self, path: str, authorization: str, until: float, accept: str = ACCEPT
    ) -> tuple[int, dict[str, str], bytes]:
        headers = {
            "Accept": accept,
            "Authorization": authorization,
            "User-Agent": f"ecr-ptc/{__version__}",
        }
        for attempt in (1, 2):  # a kept-alive connection the server closed: reconnect once
            if self.stop.is_set():
                raise Stopped()
            connection = self._connection(fresh=attempt == 2, until=until)
            with self._watchdog.watching(connection, until) as watched:
                try:
                    connection.request("GET", path, headers=headers)
                    response = connection.getresponse()
                    body = response.read(MAX_MANIFEST + 1)
                    found = {k.lower(): v for k, v in response.getheaders()}
                    if response.will_close:
                        connection.close()
                except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                    connection.close()
                    self._overdue(watched, until)
                    if attempt == 2:
                        raise Unreachable("the registry closed the connection") from None
                    continue
                except (OSError, http.client.HTTPException) as exc:
                    connection.close()
                    self._overdue(watched, until)
                    raise Unreachable(str(exc) or type(exc).__name__) from None
                except ValueError:  # what http.client will not send: a control character
                    connection.close()
                    raise Unreachable("the registry's answer asked for a malformed request",
                                      retry=False) from None  # fmt: skip
            if watched.fired:  # a body cut short by the deadline may still look complete
                connection.close()
                self._overdue(watched, until)
            return response.status, found, body
        raise AssertionError("unreachable")

    def _overdue(self, watched: _Watched, until: float) -> None:
        if self.stop.is_set():
            raise Stopped()
        if watched.fired or time.monotonic() >= until:
            raise Unreachable(
                f"no complete answer within {self.deadline:g} s", retry=False
            ) from None

    def _connection(self, fresh: bool, until: float) -> http.client.HTTPConnection:
        connection: http.client.HTTPConnection | None = getattr(self._local, "connection", None)
        if connection is None or fresh or connection.sock is None:
            if connection is not None:
                connection.close()
            if self.scheme == "https":
                connection = http.client.HTTPSConnection(
                    self.host, self.port, timeout=self.timeout, context=ssl.create_default_context()
                )
            else:
                connection = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
            stop = self.stop
            connection._create_connection = (  # type: ignore[attr-defined]
                lambda address, timeout, source=None: _connect(address, timeout, until, stop)
            )
            self._local.connection = connection
        return connection


def _encodings(secret: bytes) -> tuple[str, ...]:
    standard = base64.b64encode(secret).decode()
    urlsafe = base64.urlsafe_b64encode(secret).decode()
    return (standard, standard.rstrip("="), urlsafe, urlsafe.rstrip("="))


def _json(body: bytes) -> Any:
    """The body as JSON, or None: not JSON, or nested deeper than the parser's recursion (a
    body of `[` * 200000 raises RecursionError, not ValueError)."""
    try:
        return json.loads(body)
    except (ValueError, RecursionError):
        return None


def _answer(status: int, headers: dict[str, str], body: bytes) -> Answer:
    retry_after = _seconds(headers.get("retry-after"))
    if status != 200:
        code, message = _error(body)
        return Answer(status, code=code, message=message, retry_after=retry_after)
    problem, digest, media_type, children = _manifest(headers, body)
    if problem is not None:
        return Answer(200, problem=problem)
    return Answer(200, digest, media_type, children)


_Manifest = tuple[str | None, str | None, str | None, tuple[str, ...]]


def _manifest(headers: dict[str, str], body: bytes) -> _Manifest:
    """(problem, digest, media type, children): a manifest is used only when its bytes are
    those `Docker-Content-Digest` names, it is JSON of the media type it is served as, and it
    has that type's shape; an empty, cut or altered body is a problem, never `filled`."""

    def problem(why: str) -> _Manifest:
        return why, None, None, ()

    if len(body) > MAX_MANIFEST:
        return problem("the manifest is larger than 4 MiB")
    if not body:
        return problem("the body is empty")
    said = headers.get("docker-content-digest")
    digest = "sha256:" + hashlib.sha256(body).hexdigest()
    if said is not None:
        named = _DIGEST.fullmatch(said.strip())
        if named is None:
            return problem(f"Docker-Content-Digest {said[:80]!r} is not a digest")
        algorithm = named[1] or named[2]
        digest = f"{algorithm}:{hashlib.new(algorithm, body).hexdigest()}"
        if digest != said.strip():
            return problem(
                f"the body's digest is {digest}, not the {said.strip()} the registry named "
                "(cut short or altered)"
            )
    served = headers.get("content-type", "").split(";")[0].strip().lower() or None
    if served is not None and served not in MANIFEST_TYPES:
        return problem(f"the media type {served[:80]!r} is not an image index or manifest")
    document = _json(body)
    if not isinstance(document, dict):
        return problem("the body is not a JSON object")
    written = document.get("mediaType")
    if written is not None and not isinstance(written, str):
        return problem("its mediaType is not a string")
    if served and written and served != written:
        return problem(f"served as {served[:80]!r} but its mediaType is {written[:80]!r}")
    media_type = served or written
    if media_type not in MANIFEST_TYPES:
        return problem(f"the media type {str(media_type)[:80]!r} is not an image index or manifest")
    if document.get("schemaVersion") != 2:
        return problem("its schemaVersion is not 2")
    if media_type in INDEX_TYPES:
        listed = document.get("manifests")
        if not isinstance(listed, list) or not all(
            isinstance(m, dict)
            and isinstance(m.get("digest"), str)
            and _DIGEST.fullmatch(m["digest"])
            for m in listed
        ):
            return problem("its manifests are not a list of digests")
        return None, digest, media_type, tuple(str(m["digest"]) for m in listed)
    if not isinstance(document.get("config"), dict) or not isinstance(document.get("layers"), list):
        return problem("it has no config and layers")
    return None, digest, media_type, ()


def _error(body: bytes) -> tuple[str | None, str]:
    """The distribution spec's `{"errors": [{"code", "message"}]}`, on one line; else the body's
    first 64 KiB (the caller redacts before it shortens, so no secret is cut in half first)."""
    document = _json(body)
    errors = document.get("errors") if isinstance(document, dict) else None
    if isinstance(errors, list) and errors and isinstance(errors[0], dict):
        code, message = errors[0].get("code"), errors[0].get("message")
        code = str(code)[:100] if isinstance(code, (str, int)) and code != "" else None
        text = message if isinstance(message, str) else json.dumps(message)
        return code, " ".join(text[:65536].split())
    return None, " ".join(body[:65536].decode("utf-8", "replace").split())


def _seconds(value: str | None) -> float | None:
    try:
        seconds = float(value) if value is not None else None
    except ValueError:
        return None  # an HTTP date: fall back to our own backoff
    return max(0.0, seconds) if seconds is not None and math.isfinite(seconds) else None
