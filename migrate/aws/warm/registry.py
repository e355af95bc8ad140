"""The OCI distribution API's manifest endpoint, as `docker pull` asks it, with the standard
library: `GET /v2/<name>/manifests/<tag or digest>` with the index and manifest media types in
`Accept`, Basic credentials (ECR's GetAuthorizationToken), and the Bearer token dance for a
registry that asks for it (`WWW-Authenticate: Bearer realm=...`).
https://github.com/opencontainers/distribution-spec/blob/main/spec.md#pulling-manifests

No redirects are followed (a manifest is never redirected, and a redirect must not carry the
credentials elsewhere); layers are never fetched. A registry is a stranger: every request has a
deadline and the run's stop event ends every request at once (deadline.py), and an answer is used
only when it is what it says it is (answer.py).
"""

from __future__ import annotations

import base64
import http.client
import re
import ssl
import threading
import time
import urllib.parse

from migrate import __version__
from migrate.aws.warm import answer
from migrate.aws.warm.answer import ACCEPT
from migrate.aws.warm.deadline import Stopped, Watchdog, Watched, connect

TIMEOUT = 30.0  # seconds a socket may wait for the next byte (ECR may fetch from the upstream)
DEADLINE = 60.0  # seconds one request may take in all: connect, headers and body
_CHALLENGE = re.compile(r'(\w+)="([^"]*)"')
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
        self._watchdog = Watchdog(self.stop)
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

    def manifest(self, repository: str, reference: str) -> answer.Answer:
        """Raises Unreachable or Stopped; every answer the registry gives is an Answer."""
        until = time.monotonic() + self.deadline
        path = f"{self.root}/v2/{repository}/manifests/{reference}"
        status, headers, body = self._get(path, self._authorization(repository), until)
        if status == 401 and headers.get("www-authenticate", "").lower().startswith("bearer"):
            token = self._token(headers["www-authenticate"], repository, until)
            if token is not None:
                status, headers, body = self._get(path, f"Bearer {token}", until)
        return answer.read(status, headers, body)

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
            default = {"https": 443, "http": 80}.get(self.scheme)
            same = (realm.scheme, realm.hostname, realm.port or default) == (
                self.scheme,
                self.host,
                self.port or default,
            )
        except ValueError:  # a port that is not a number
            return None
        if not same or not _SAFE_PATH.fullmatch(realm.path or "/"):
            return None
        query = {"scope": fields.get("scope") or f"repository:{repository}:pull"}
        if "service" in fields:
            query["service"] = fields["service"]
        path = f"{realm.path or '/'}?{urllib.parse.urlencode(query)}"
        status, _, body = self._get(path, self._basic, until, accept="application/json")
        given = answer.json_or_none(body) if status == 200 else None
        if not isinstance(given, dict):
            return None
        token = given.get("token") or given.get("access_token")
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
                    body = response.read(answer.MAX_MANIFEST + 1)
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

    def _overdue(self, watched: Watched, until: float) -> None:
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
                lambda address, timeout, source=None: connect(address, timeout, until, stop)
            )
            self._local.connection = connection
        return connection


def _encodings(secret: bytes) -> tuple[str, ...]:
    standard = base64.b64encode(secret).decode()
    urlsafe = base64.urlsafe_b64encode(secret).decode()
    return (standard, standard.rstrip("="), urlsafe, urlsafe.rstrip("="))
