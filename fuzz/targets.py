"""Fuzz targets: bytes in, an AssertionError (or any other exception) out when an invariant
breaks. Shared by the atheris runner (fuzz/fuzz.py) and the hypothesis loop in the test suite
(tests/properties/fuzz_test.py).

reference:  parse() returns an ImageRef or raises ReferenceError; a parsed reference keeps its
            tag/digest text, normalises idempotently, and a rewrite target classifies as cached
            (else a second `fix` would rewrite it again).
dockerfile: scan() never raises, spans are in bounds and hold what they claim, and the whole
            per-file pipeline (one_file.process: scan, classify, plan, splice, re-scan, write)
            turns any input into findings, never an exception, and is idempotent.
warm:       whatever a registry sends back (the bytes are its raw HTTP answers, one per request,
            split by WARM_NEXT), http.client's parsing, the registry client and `warm` turn it
            into one of the statuses, never an exception; a good status only for a body whose
            digest it reports; no form of the token in the message.
builds:     any bytes as the build index (`.git/ecr-ptc-builds.json`) are read or rebuilt, never
            an exception: deep JSON, wrong shapes, wrong types and huge numbers are a rebuild,
            and what is left on disk afterwards is a good index that a second run reads back.
"""

from __future__ import annotations

import base64
import hashlib
import http.client
import io
import json
import subprocess
import tempfile
import threading
from pathlib import Path

from migrate import reference
from migrate.aws.errors import one_line
from migrate.aws.warm import pull, registry
from migrate.aws.warm.targets import Target
from migrate.classify import classify
from migrate.config import Config
from migrate.context import Repo
from migrate.facts import builds
from migrate.facts.builds import _cache
from migrate.findings import Status
from migrate.kinds import dockerfile
from migrate.rewrite import one_file
from migrate.rewrite.walk import Candidate

REGISTRY = "123456789012.dkr.ecr.us-east-1.amazonaws.com"
CONFIG = Config(registry=REGISTRY)
_WORKDIR = Path(tempfile.mkdtemp(prefix="ecr-ptc-fuzz-"))


def text_of(data: bytes) -> str:
    return data.decode("utf-8", "replace")


def reference_target(data: bytes) -> None:
    text = text_of(data)
    try:
        ref = reference.parse(text)
    except reference.ReferenceError:
        ref = None
    if ref is not None:
        assert text.endswith(ref.tail), (text, ref)
        again = reference.parse(str(ref))
        assert (again.name, again.tail) == (ref.name, ref.tail), (text, ref, again)
        # Not checked: that `familiar` parses back. Go's FamiliarString does not round-trip
        # either (`library/<64 hex>`, `docker.io/a.b/c` -> `a.b/c`, a host), and it is display only.
    verdict = classify(text, CONFIG)  # never raises, whatever the text
    if verdict.status is Status.PUBLIC and verdict.target:
        assert verdict.target.endswith(verdict.tail), (text, verdict.target)
        second = classify(verdict.target, CONFIG)
        assert second.status is Status.CACHED, (text, verdict.target, second)


def dockerfile_target(data: bytes) -> None:
    text = text_of(data)
    for occ in dockerfile.scan(text):
        assert 0 <= occ.at <= occ.end <= len(text), occ
        for part in occ.parts:
            assert 0 <= part.start <= part.end <= len(text), occ
            if part.role == "ref":
                assert text[part.start : part.end] == occ.written, (
                    occ,
                    text[part.start : part.end],
                )
    _pipeline(data.replace(b"\0", b""))  # NUL: a binary file, reported before any scanner runs


def _pipeline(raw: bytes) -> None:
    path = _WORKDIR / "Dockerfile"
    path.write_bytes(raw)
    first = one_file.process(Candidate("Dockerfile", path), CONFIG, fix=True, write=True)
    assert first is not None
    unverified = [
        f.message
        for f in first.findings
        if f.code == "PTC900" and f.message.startswith("not rewritten")
    ]
    assert unverified == [], (raw, unverified)  # the scanner disagreed with its own rewrite
    after = path.read_bytes()
    second = one_file.process(Candidate("Dockerfile", path), CONFIG, fix=True, write=True)
    assert second is not None and not second.changed, (raw, after)
    assert path.read_bytes() == after


WARM_NEXT = b"\n--next--\n"
WARM_BASE = "http://127.0.0.1:9"  # never dialled: the connection below answers from the bytes
_PASSWORD = "fuzzPasswordThatMustNeverBePrinted00"


class _Socket:
    """What http.client needs of a socket: each response read takes the next answer."""

    def __init__(self, answers: list[bytes]) -> None:
        self.answers = answers

    def sendall(self, data: bytes) -> None:
        pass

    def makefile(self, mode: str) -> io.BytesIO:
        return io.BytesIO(self.answers.pop(0) if len(self.answers) > 1 else self.answers[0])

    def close(self) -> None:
        pass


class _Connection(http.client.HTTPConnection):
    def __init__(self, answers: list[bytes]) -> None:
        super().__init__("127.0.0.1", 9)
        self.answers = answers

    def connect(self) -> None:
        self.sock = _Socket(self.answers)


class _Replaying(registry.Registry):
    def __init__(self, answers: list[bytes]) -> None:
        super().__init__(WARM_BASE, "AWS", _PASSWORD)
        self._replay = _Connection(answers)

    def _connection(self, fresh: bool, until: float) -> http.client.HTTPConnection:
        return self._replay


def warm_target(data: bytes) -> None:
    answers = data.split(WARM_NEXT)[:4]
    client = _Replaying(list(answers))  # it takes them one by one
    target = Target(f"{REGISTRY}/quay/a/b:1", "quay/a/b", "quay", "1", None, (("D", 1, 6),))
    try:
        result = pull.warm(target, client, lambda _: False, lambda _: None, pull.Retry(2))
    finally:
        client.close()
    assert result.status in pull.STATUSES, result
    assert result.attempts <= 2, result
    if result.status in pull.GOOD:
        bodies = [answer.split(b"\r\n\r\n", 1)[-1] for answer in answers]
        assert result.digest is not None and any(
            result.digest.endswith(hashlib.new(algorithm, body[:n]).hexdigest())
            for body in bodies
            for n in range(len(body) + 1)
            for algorithm in ("sha256", "sha512")
        ), result
    shown = one_line(result.message, client.secrets)
    wire = base64.b64encode(f"AWS:{_PASSWORD}".encode()).decode()
    assert _PASSWORD not in shown and wire not in shown, shown
    assert threading.active_count() < 50  # every watchdog ends with its registry


def _warm_seed(status: str, headers: dict[str, str], body: bytes) -> bytes:
    head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    return f"HTTP/1.1 {status}\r\n{head}Content-Length: {len(body)}\r\n\r\n".encode() + body


_IMAGE = (
    b'{"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json", '
    b'"config": {"digest": "sha256:' + b"a" * 64 + b'"}, "layers": []}'
)
WARM_SEEDS = [
    _warm_seed(
        "200 OK",
        {
            "Content-Type": "application/vnd.oci.image.manifest.v1+json",
            "Docker-Content-Digest": "sha256:" + hashlib.sha256(_IMAGE).hexdigest(),
        },
        _IMAGE,
    ),
    _warm_seed(
        "401 Unauthorized",
        {"WWW-Authenticate": f'Bearer realm="{WARM_BASE}/token",service="s"'},
        b"{}",
    )
    + WARM_NEXT
    + _warm_seed("200 OK", {"Content-Type": "application/json"}, b'{"token": "abc"}'),
    _warm_seed("404 Not Found", {}, b'{"errors": [{"code": "MANIFEST_UNKNOWN", "message": "x"}]}'),
    _warm_seed("429 Too Many Requests", {"Retry-After": "nan"}, b"{}"),
]

TARGETS = {"reference": reference_target, "dockerfile": dockerfile_target, "warm": warm_target}
_BUILT = {"docker.io/acme/app"}


def _index_repo() -> Path:
    root = _WORKDIR / "builds"
    if not (root / ".git").is_dir():
        root.mkdir(parents=True, exist_ok=True)
        subprocess.run(["git", "init", "-q"], cwd=root, check=True)
        (root / "Tiltfile").write_text("docker_build('acme/app', '.')\n")
    return root


def index_seed() -> bytes:
    """A good index of the fuzz repository: the seed the mutations start from."""
    root = _index_repo()
    builds.index(Repo(root))
    return (root / ".git" / _cache.NAME).read_bytes()


def builds_target(data: bytes) -> None:
    root = _index_repo()
    cache = root / ".git" / _cache.NAME
    cache.unlink(missing_ok=True)
    cache.write_bytes(data)
    found = builds.index(Repo(root))  # never raises
    assert all(isinstance(b, builds.Build) for b in found.values()), found
    assert all(isinstance(v, str) for b in found.values() for v in (b.name, b.path, b.tool))
    try:
        as_read = json.loads(data)
    except (ValueError, RecursionError):
        as_read = None
    if set(found) != _BUILT:  # only an index valid for this very repository is believed
        assert (
            isinstance(as_read, dict)
            and as_read.get("key") == json.loads(cache.read_bytes())["key"]
        )
    again = builds.index(Repo(root))
    assert again == found, (found, again)


TARGETS = {"reference": reference_target, "dockerfile": dockerfile_target, "builds": builds_target}
