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

from migrate import engine
from migrate.config import Config
from migrate.findings import Finding
from tests.helpers import REGISTRY

DIGEST = "sha256:" + "0123456789abcdef" * 4
_HUB, _QUAY = f"{REGISTRY}/docker-hub", f"{REGISTRY}/quay"

# written -> rewritten, by hand (SPEC "Image references"); None: must stay as written.
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
    "public.ecr.aws/docker/library/busybox:1.36":
        f"{REGISTRY}/ecr-public/docker/library/busybox:1.36",
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
# A variable only in the tag is rewritten in place (SPEC: `node:${NODE_VERSION}`).
VARIABLE_TAGS: dict[str, str | None] = {
    "node:${NODE_VERSION}": f"{_HUB}/library/node:${{NODE_VERSION}}",
}


@dataclass(frozen=True)
class Slot:
    written: str
    target: str | None  # None: must stay as written

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

    def add(self, *pieces: Piece) -> None:
        self.pieces.extend(pieces)

    def text(self, *, fixed: bool) -> str:
        return "".join(
            p if isinstance(p, str) else (p.out if fixed else p.written) for p in self.pieces
        )

    def data(self, *, fixed: bool) -> bytes:
        return (b"\xef\xbb\xbf" if self.bom else b"") + self.text(fixed=fixed).encode()

    def sites(self) -> set[tuple[int, int, str, str]]:
        """(line, column, written, target) of every slot that must be rewritten."""
        found, offset = set(), 0
        text = self.text(fixed=False)
        for piece in self.pieces:
            if isinstance(piece, Slot):
                if piece.target and piece.target != piece.written:
                    line = text.count("\n", 0, offset) + 1
                    column = offset - (text.rfind("\n", 0, offset) + 1) + 1
                    found.add((line, column, piece.written, piece.target))
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


def fix(root: Path, name: str) -> list[engine.FileResult]:
    return list(engine.run([name], CONFIG, root, fix=True, write=True))


def errors(results: list[engine.FileResult]) -> list[Finding]:
    return [f for r in results for f in r.findings if f.code == "PTC900"]


def rewritten_sites(results: list[engine.FileResult]) -> set[tuple[int, int, str, str]]:
    return {
        (f.line, f.column, f.original or "", f.target)
        for r in results for f in r.findings if f.target
    }
