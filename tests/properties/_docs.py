"""Generated documents that know their own answer.

A document is built from pieces: literal text, which must come back byte for byte, and `Slot`s,
which hold a reference as written and what `fix` must turn it into (itself, when it must stay).
The expected output is rendered from the same pieces, so the oracle never asks the code under
test what the answer is. The table of references below is written out by hand for that reason.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from hypothesis import strategies as st

from migrate.config import Config
from migrate.findings import Finding
from migrate.rewrite import one_file
from migrate.rewrite.results import FileResult
from migrate.rewrite.walk import Candidate
from tests.helpers import REGISTRY

DIGEST = "sha256:" + "0123456789abcdef" * 4
_HUB, _QUAY = f"{REGISTRY}/docker-hub", f"{REGISTRY}/quay"

# written -> rewritten, by hand (docs/verdicts.md, docs/file-kinds.md); None: must stay as written.
REFERENCES: dict[str, str | None] = {
    "nginx:1.27": f"{_HUB}/library/nginx:1.27",
    "nginx": f"{_HUB}/library/nginx",
    "library/redis:7": f"{_HUB}/library/redis:7",
    "docker.io/bitnami/redis:7.2": f"{_HUB}/bitnami/redis:7.2",
    "index.docker.io/library/alpine:3.20": f"{_HUB}/library/alpine:3.20",
    "registry-1.docker.io/grafana/grafana": f"{_HUB}/grafana/grafana",
    "registry.hub.docker.com/library/nginx": f"{_HUB}/library/nginx",
    "quay.io/prometheus/node-exporter:v1.8.2": f"{_QUAY}/prometheus/node-exporter:v1.8.2",
    "ghcr.io/org/app:1": f"{REGISTRY}/github/org/app:1",
    "registry.k8s.io/pause:3.10": f"{REGISTRY}/kubernetes/pause:3.10",
    "public.ecr.aws/docker/library/busybox:1.36": f"{REGISTRY}/ecr-public/docker/library/busybox:1.36",
    "registry.gitlab.com/group/proj:1": f"{REGISTRY}/gitlab/group/proj:1",
    "cgr.dev/chainguard/static:latest": f"{REGISTRY}/chainguard/chainguard/static:latest",
    f"alpine@{DIGEST}": f"{_HUB}/library/alpine@{DIGEST}",
    f"alpine:3.20@{DIGEST}": f"{_HUB}/library/alpine:3.20@{DIGEST}",
    # left alone: unsupported public, already cached, private, other ECR, invalid
    "gcr.io/distroless/static:nonroot": None,
    "mcr.microsoft.com/dotnet/sdk:8.0": None,
    f"{_HUB}/library/nginx:1.27": None,
    "localhost:5000/app:dev": None,
    "registry.example.com/team/app:1": None,
    "999999999999.dkr.ecr.eu-west-1.amazonaws.com/app:1": None,
    "Nginx:1": None,
    "quay.io/a--b/c": None,
}
# A variable only in the tag is rewritten in place (`node:${NODE_VERSION}`).
VARIABLE_TAGS: dict[str, str | None] = {
    "node:${NODE_VERSION}": f"{_HUB}/library/node:${{NODE_VERSION}}",
}


# Image names without tag (Helm `repository:` beside a `tag:`; Compose `${IMAGE:-name}:${TAG}`).
NAMES: dict[str, str | None] = {
    "nginx": f"{_HUB}/library/nginx",
    "bitnami/redis": f"{_HUB}/bitnami/redis",
    "docker.io/library/busybox": f"{_HUB}/library/busybox",
    "quay.io/prometheus/prometheus": f"{_QUAY}/prometheus/prometheus",
    "ghcr.io/org/app": f"{REGISTRY}/github/org/app",
    "gcr.io/distroless/static": None,
    "registry.example.com/team/app": None,
}
# Bitnami maps: (registry, repository) -> (registry, repository) after fix; None: unchanged.
SPLIT: dict[tuple[str, str], tuple[str, str] | None] = {
    ("docker.io", "bitnami/redis"): (REGISTRY, "docker-hub/bitnami/redis"),
    ("docker.io", "redis"): (REGISTRY, "docker-hub/library/redis"),
    ("quay.io", "prometheus/prometheus"): (REGISTRY, "quay/prometheus/prometheus"),
    ("registry.k8s.io", "pause"): (REGISTRY, "kubernetes/pause"),
    ("gcr.io", "distroless/static"): None,
    ("registry.example.com", "team/app"): None,
}


@dataclass(frozen=True)
class Slot:
    written: str
    target: str | None  # None: must stay as written
    reported: bool = True  # False: rewritten, but the finding sits on another slot (a registry)

    @property
    def out(self) -> str:
        return self.target or self.written


Piece = str | Slot


@dataclass
class Doc:
    """Pieces plus the file-level choices that must survive: BOM, newline, final newline."""

    pieces: list[Piece] = field(default_factory=list)
    bom: bool = False
    name: str = "Dockerfile"
    # Slots whose fate depends on what comes later (an anchored image only some service uses).
    deferred: dict[str, tuple[int, Slot]] = field(default_factory=dict)
    used: set[str] = field(default_factory=set)

    def add(self, *pieces: Piece) -> None:
        self.pieces.extend(pieces)

    def defer(self, key: str, slot: Slot) -> None:
        self.deferred[key] = (len(self.pieces), slot)
        self.pieces.append(Slot(slot.written, None))

    def use(self, key: str) -> None:
        self.used.add(key)

    def finish(self, final_newline: bool) -> Doc:
        for key, (index, slot) in self.deferred.items():
            self.pieces[index] = slot if key in self.used else Slot(slot.written, None)
        if not final_newline:
            last = self.pieces[-1]
            if isinstance(last, str) and last.endswith("\n"):
                self.pieces[-1] = last[: -2 if last.endswith("\r\n") else -1]
        return self

    def text(self, *, fixed: bool) -> str:
        return "".join(
            p if isinstance(p, str) else (p.out if fixed else p.written) for p in self.pieces
        )

    def data(self, *, fixed: bool) -> bytes:
        return (b"\xef\xbb\xbf" if self.bom else b"") + self.text(fixed=fixed).encode()

    def sites(self) -> set[tuple[int, int]]:
        """(line, column) of every reported slot that must be rewritten."""
        found, offset = set(), 0
        text = self.text(fixed=False)
        for piece in self.pieces:
            if isinstance(piece, Slot):
                if piece.target and piece.target != piece.written and piece.reported:
                    line = text.count("\n", 0, offset) + 1
                    column = offset - (text.rfind("\n", 0, offset) + 1) + 1
                    found.add((line, column))
                offset += len(piece.written)
            else:
                offset += len(piece)
        return found


def slots(table: dict[str, str | None] = REFERENCES) -> st.SearchStrategy[Slot]:
    return st.sampled_from(sorted(table.items())).map(lambda item: Slot(*item))


CONFIG = Config(registry=REGISTRY)


@contextmanager
def checked_out(doc: Doc) -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="ecr-ptc-prop-") as where:
        root = Path(where)
        path = root / doc.name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(doc.data(fixed=False))
        yield root


def fix(root: Path, name: str) -> list[FileResult]:
    # one_file.process, not engine.run: the walk's two `git` subprocesses would cost more than the
    # rest of an example; the catalogue and the CLI tests cover the walk.
    result = one_file.process(
        Candidate(name, (root / name).resolve()), CONFIG, fix=True, write=True
    )
    return [] if result is None else [result]


def errors(results: list[FileResult]) -> list[Finding]:
    return [f for r in results for f in r.findings if f.code == "PTC900"]


def rewritten_sites(results: list[FileResult]) -> set[tuple[int, int]]:
    return {(f.line, f.column) for r in results for f in r.findings if f.target}


def rewrites(doc: Doc) -> set[tuple[str, str]]:
    return {(p.written, p.target) for p in doc.pieces if isinstance(p, Slot) and p.target}


def fix_and_check(doc: Doc) -> None:
    """The three properties: exactly the slots change (so every other byte is kept), the
    findings sit where the slots are, and a second fix changes nothing."""
    with checked_out(doc) as root:
        results = fix(root, doc.name)

        assert errors(results) == []
        assert (root / doc.name).read_bytes() == doc.data(fixed=True)
        assert rewritten_sites(results) == doc.sites()

        again = fix(root, doc.name)

        assert errors(again) == []
        assert not any(r.changed or r.written for r in again)
        assert (root / doc.name).read_bytes() == doc.data(fixed=True)
