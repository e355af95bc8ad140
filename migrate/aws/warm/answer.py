"""A registry's answer to a manifest request, read as a stranger's: used only when it is what it
says it is. A 200 counts when its bytes hash to the `Docker-Content-Digest` it names, it is JSON
of the media type it is served as, with that type's shape; an error's words are read whatever
their shape. Nothing here raises on any input (fuzz/targets.py, the `warm` target).
https://github.com/opencontainers/distribution-spec/blob/main/spec.md#pulling-manifests
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from dataclasses import dataclass
from typing import Any

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
_DIGEST = re.compile(r"(sha256):[0-9a-f]{64}|(sha512):[0-9a-f]{128}")


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


def json_or_none(body: bytes) -> Any:
    """The body as JSON, or None: not JSON, or nested deeper than the parser's recursion (a
    body of `[` * 200000 raises RecursionError, not ValueError)."""
    try:
        return json.loads(body)
    except (ValueError, RecursionError):
        return None


def read(status: int, headers: dict[str, str], body: bytes) -> Answer:
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
    document = json_or_none(body)
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
    document = json_or_none(body)
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
