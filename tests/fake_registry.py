"""The registry side of tests/fake_ecr.py: ECR's OCI distribution API as a pull-through cache
serves it, in front of upstreams a test describes.

`GET /v2/<name>/manifests/<tag|digest>` with the Basic credentials GetAuthorizationToken handed
out (or, with `bearer`, a token from `/token` after a `WWW-Authenticate: Bearer` challenge). A
manifest in the cache is served; otherwise the rule for the name's prefix maps it to an
upstream, which may refuse the rule's credentials, not have the tag, throttle, or serve a
manifest (an index brings its platform manifests along, as ECR documents). A digest that is not
in the cache is not found: the cache cannot fill from a digest.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from typing import Any

INDEX = "application/vnd.oci.image.index.v1+json"
MANIFEST = "application/vnd.oci.image.manifest.v1+json"
PASSWORD = "fakeRegistryPasswordThatMustNeverBePrinted0"
UPSTREAM_AUTH_FAILED = (
    "The authentication to the upstream registry failed. Verify that the credentials provided "
    "in the pull through cache rule are correct, and try again."
)


def sha256(body: bytes) -> str:
    return "sha256:" + hashlib.sha256(body).hexdigest()


def image(name: str) -> bytes:
    """A single-platform manifest, distinct per name."""
    layer = {"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "size": 1}
    return json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": MANIFEST,
            "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "size": 2},
            "layers": [{**layer, "digest": sha256(name.encode())}],
        }
    ).encode()


def index(*names: str) -> tuple[bytes, dict[str, bytes]]:
    """An index over one image per name, and those images by digest."""
    children = {sha256(image(n)): image(n) for n in names}
    body = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": INDEX,
            "manifests": [
                {"mediaType": MANIFEST, "digest": d, "size": len(b)} for d, b in children.items()
            ],
        }
    ).encode()
    return body, children


@dataclass
class Upstream:
    """One upstream repository."""

    tags: dict[str, bytes] = field(default_factory=dict)  # tag -> manifest
    children: dict[str, bytes] = field(default_factory=dict)  # digest -> platform manifest
    refuse_credentials: bool = False  # answers 401 to the rule's credentials
    throttle: int = 0  # 429s before it serves


@dataclass
class FakeRegistry:
    password: str = PASSWORD
    bearer: bool = False  # challenge Basic with Bearer, as registries other than ECR do
    upstreams: dict[tuple[str, str], Upstream] = field(default_factory=dict)  # (url, path)
    cache: dict[tuple[str, str], bytes] = field(default_factory=dict)  # (name, tag|digest)
    denied: frozenset[str] = frozenset()  # IAM actions the puller lacks
    latency: float = 0.0  # seconds an upstream takes to answer (bench/warm.py)
    tokens: set[str] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def upstream(self, url: str, path: str, **kwargs: Any) -> Upstream:
        return self.upstreams.setdefault((url, path), Upstream(**kwargs))

    def authorization_token(self) -> str:
        return base64.b64encode(f"AWS:{self.password}".encode()).decode()

    def cached(self, name: str, tag: str) -> bool | None:
        """DescribeImages: True, False (no such image), None (no such repository)."""
        with self.lock:
            if (name, tag) in self.cache:
                return True
            return False if any(n == name for n, _ in self.cache) else None

    # -- HTTP ----------------------------------------------------------------------------------
    def answer(
        self, path: str, headers: dict[str, str], base: str, rules: list[dict[str, Any]]
    ) -> tuple[int, dict[str, str], bytes]:
        url = urllib.parse.urlsplit(path)
        if url.path == "/token":
            return self._token(headers)
        if not self._authorised(headers.get("authorization", "")):
            challenge = (
                f'Bearer realm="{base}/token",service="fake-ecr"'
                if self.bearer
                else 'Basic realm="https://fake-ecr/",service="ecr.amazonaws.com"'
            )
            return _error(401, "UNAUTHORIZED", "authentication required", challenge)
        if not url.path.startswith("/v2/") or "/manifests/" not in url.path:
            return _error(404, "NOT_FOUND", "only manifests are served here")
        name, reference = url.path[len("/v2/") :].rsplit("/manifests/", 1)
        return self._manifest(name, reference, rules)

    def _authorised(self, authorization: str) -> bool:
        if authorization.startswith("Bearer "):
            return authorization[len("Bearer ") :] in self.tokens
        basic = f"Basic {self.authorization_token()}"
        return authorization == basic and not self.bearer

    def _token(self, headers: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
        if headers.get("authorization") != f"Basic {self.authorization_token()}":
            return _error(401, "UNAUTHORIZED", "bad credentials")
        token = secrets.token_hex(16)
        self.tokens.add(token)
        return 200, {"Content-Type": "application/json"}, json.dumps({"token": token}).encode()

    def _manifest(
        self, name: str, reference: str, rules: list[dict[str, Any]]
    ) -> tuple[int, dict[str, str], bytes]:
        with self.lock:
            body = self.cache.get((name, reference))
        if body is not None:
            return _served(body)
        rule = max(
            (r for r in rules if name.startswith(str(r["ecrRepositoryPrefix"]).rstrip("/") + "/")),
            key=lambda r: len(r["ecrRepositoryPrefix"]),
            default=None,
        )
        if rule is None:
            return _error(404, "NAME_UNKNOWN", f"The repository with name '{name}' does not exist")
        if reference.startswith("sha256:"):
            return _error(404, "MANIFEST_UNKNOWN", f"Requested image not found: {reference}")
        if "ecr:BatchImportUpstreamImage" in self.denied:
            return _error(
                403,
                "DENIED",
                "User is not authorized to perform: ecr:BatchImportUpstreamImage",
            )
        prefix = str(rule["ecrRepositoryPrefix"]).rstrip("/")
        upstream = self.upstreams.get((rule["upstreamRegistryUrl"], name[len(prefix) + 1 :]))
        if upstream is None:
            return _error(404, "NAME_UNKNOWN", "The upstream repository does not exist")
        if self.latency:
            time.sleep(self.latency)
        with self.lock:
            if upstream.throttle:
                upstream.throttle -= 1
                return _error(429, "TOOMANYREQUESTS", "Rate exceeded", retry_after="0")
        if upstream.refuse_credentials:
            return _error(403, "DENIED", UPSTREAM_AUTH_FAILED)
        body = upstream.tags.get(reference)
        if body is None:
            return _error(404, "MANIFEST_UNKNOWN", f"Requested image not found: {reference}")
        with self.lock:  # the tag, its digest and, for an index, every platform manifest
            self.cache[(name, reference)] = body
            self.cache[(name, sha256(body))] = body
            for digest, child in upstream.children.items():
                self.cache[(name, digest)] = child
        return _served(body)


def _served(body: bytes) -> tuple[int, dict[str, str], bytes]:
    media_type = json.loads(body).get("mediaType", MANIFEST)
    return 200, {"Content-Type": media_type, "Docker-Content-Digest": sha256(body)}, body


def _error(
    status: int,
    code: str,
    message: str,
    challenge: str | None = None,
    retry_after: str | None = None,
) -> tuple[int, dict[str, str], bytes]:
    headers = {"Content-Type": "application/json"}
    if challenge:
        headers["WWW-Authenticate"] = challenge
    if retry_after is not None:
        headers["Retry-After"] = retry_after
    body = json.dumps({"errors": [{"code": code, "message": message}]}).encode()
    return status, headers, body
