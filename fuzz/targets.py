"""Fuzz targets: bytes in, an AssertionError (or any other exception) out when an invariant
breaks. Shared by the atheris runner (fuzz/fuzz.py) and the hypothesis loop in the test suite
(tests/properties/fuzz_test.py).

reference:  parse() returns an ImageRef or raises ReferenceError; a parsed reference keeps its
            tag/digest text, normalises idempotently, and a rewrite target classifies as cached
            (else a second `fix` would rewrite it again).
dockerfile: scan() never raises, spans are in bounds and hold what they claim, and the whole
            per-file pipeline (one_file.process: scan, classify, plan, splice, re-scan, write)
            turns any input into findings, never an exception, and is idempotent.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from migrate import reference
from migrate.classify import classify
from migrate.config import Config
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


TARGETS = {"reference": reference_target, "dockerfile": dockerfile_target}
