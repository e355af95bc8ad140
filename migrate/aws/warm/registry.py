"""The OCI distribution API's manifest endpoint, as `docker pull` asks it, with the standard
library: `GET /v2/<name>/manifests/<tag or digest>` with the index and manifest media types in
`Accept`, Basic credentials (ECR's GetAuthorizationToken), and the Bearer token dance for a
registry that asks for it (`WWW-Authenticate: Bearer realm=...`).
https://github.com/opencontainers/distribution-spec/blob/main/spec.md#pulling-manifests

No redirects are followed (a manifest is never redirected, and a redirect must not carry the
credentials elsewhere); layers are never fetched.
"""

from __future__ import annotations

import base64
import hashlib
import http.client
import json
import re
import ssl
import threading
import urllib.parse
from dataclasses import dataclass

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
MAX_MANIFEST = 4 * 1024 * 1024  # the spec's suggested limit for a manifest
TIMEOUT = 30.0
_CHALLENGE = re.compile(r'(\w+)="([^"]*)"')


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
    """The registry could not be reached or broke the connection (network, TLS, protocol)."""


@dataclass(frozen=True)
class Answer:
    status: int
    digest: str | None = None  # Docker-Content-Digest, else the sha256 of the body
    media_type: str | None = None
    children: tuple[str, ...] = ()  # the manifests an index lists
    code: str | None = None  # the registry's error code: MANIFEST_UNKNOWN, DENIED, ...
    message: str = ""  # its error message, on one line
    retry_after: float | None = None


class Registry:
    """One registry, shared by the warming threads: each thread keeps its own connection."""

    def __init__(self, base_url: str, user: str, password: str, timeout: float = TIMEOUT) -> None:
        url = urllib.parse.urlsplit(check_url(base_url))
        self.scheme, self.host, self.port = url.scheme, url.hostname or "", url.port
        self.root = url.path.rstrip("/")
        self.timeout = timeout
        self._basic = "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()
        self._bearer: dict[str, str] = {}  # repository -> token, when the registry asks for one
        self._lock = threading.Lock()
        self._local = threading.local()

    def manifest(self, repository: str, reference: str) -> Answer:
        path = f"{self.root}/v2/{repository}/manifests/{reference}"
        status, headers, body = self._get(path, self._authorization(repository))
        if status == 401 and headers.get("www-authenticate", "").lower().startswith("bearer"):
            token = self._token(headers["www-authenticate"], repository)
            if token is not None:
                status, headers, body = self._get(path, f"Bearer {token}")
        return _answer(status, headers, body)

    def _authorization(self, repository: str) -> str:
        with self._lock:
            token = self._bearer.get(repository)
        return f"Bearer {token}" if token else self._basic

    def _token(self, challenge: str, repository: str) -> str | None:
        """Trade the Basic credentials for a Bearer token at the realm, which must be this
        registry's host: the credentials go nowhere else."""
        fields = dict(_CHALLENGE.findall(challenge))
        realm = urllib.parse.urlsplit(fields.get("realm", ""))
        if realm.hostname != self.host or realm.scheme != self.scheme:
            return None
        query = {"scope": fields.get("scope") or f"repository:{repository}:pull"}
        if "service" in fields:
            query["service"] = fields["service"]
        path = f"{realm.path}?{urllib.parse.urlencode(query)}"
        status, _, body = self._get(path, self._basic, accept="application/json")
        if status != 200:
            return None
        try:
            answer = json.loads(body)
            token = str(answer.get("token") or answer.get("access_token") or "")
        except (ValueError, AttributeError):
            return None
        if token:
            with self._lock:
                self._bearer[repository] = token
        return token or None

    def _get(
        self, path: str, authorization: str, accept: str = ACCEPT
    ) -> tuple[int, dict[str, str], bytes]:
        headers = {
            "Accept": accept,
            "Authorization": authorization,
            "User-Agent": f"ecr-ptc/{__version__}",
        }
        for attempt in (1, 2):  # a kept-alive connection the server closed: reconnect once
            connection = self._connection(fresh=attempt == 2)
            try:
                connection.request("GET", path, headers=headers)
                response = connection.getresponse()
                body = response.read(MAX_MANIFEST + 1)
                found = {k.lower(): v for k, v in response.getheaders()}
                if response.will_close:
                    connection.close()
                return response.status, found, body
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                connection.close()
                if attempt == 2:
                    raise Unreachable("the registry closed the connection") from None
            except (OSError, http.client.HTTPException) as exc:
                connection.close()
                raise Unreachable(str(exc) or type(exc).__name__) from None
        raise AssertionError("unreachable")

    def _connection(self, fresh: bool) -> http.client.HTTPConnection:
        connection: http.client.HTTPConnection | None = getattr(self._local, "connection", None)
        if connection is None or fresh:
            if self.scheme == "https":
                connection = http.client.HTTPSConnection(
                    self.host, self.port, timeout=self.timeout, context=ssl.create_default_context()
                )
            else:
                connection = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
            self._local.connection = connection
        return connection


def _answer(status: int, headers: dict[str, str], body: bytes) -> Answer:
    retry_after = _seconds(headers.get("retry-after"))
    if status != 200:
        code, message = _error(body)
        return Answer(status, code=code, message=message, retry_after=retry_after)
    if len(body) > MAX_MANIFEST:
        return Answer(502, code="TOO_LARGE", message="the manifest is larger than 4 MiB")
    digest = headers.get("docker-content-digest") or "sha256:" + hashlib.sha256(body).hexdigest()
    media_type = headers.get("content-type", "").split(";")[0].strip() or None
    children: tuple[str, ...] = ()
    try:
        document = json.loads(body)
    except ValueError:
        document = {}
    if isinstance(document, dict):
        media_type = media_type or document.get("mediaType")
        if media_type in INDEX_TYPES or "manifests" in document:
            children = tuple(
                str(m["digest"])
                for m in document.get("manifests") or ()
                if isinstance(m, dict) and "digest" in m
            )
    return Answer(200, digest, media_type, children)


def _error(body: bytes) -> tuple[str | None, str]:
    """The distribution spec's `{"errors": [{"code", "message"}]}`, on one line."""
    try:
        errors = json.loads(body).get("errors") or []
        first = errors[0]
        return str(first.get("code") or "") or None, " ".join(str(first.get("message")).split())
    except (ValueError, AttributeError, IndexError, TypeError):
        return None, " ".join(body[:200].decode("utf-8", "replace").split())


def _seconds(value: str | None) -> float | None:
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None  # an HTTP date: fall back to our own backoff
