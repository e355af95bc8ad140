"""Provers: a real engine of the field checks a rewrite before it is written.

A scanner reads one file; some files mean something only together with others. A chart's
values are rendered by its templates (Helm), an overlay's `images:` apply to its bases
(kustomize). A prover names the unit a file belongs to and, given the planned rewrite of every
file of that unit in this run (the others as they are on disk), renders the unit before and
after and objects where the result is wrong. The engine holds back the rewrites of every file
a prover claims until the prover has ruled on its unit, and writes none that it blocked.

Each prover module has the same names (the `Prover` protocol):

    NAME: str
    unit(path, repo) -> Path | None            the unit `path` belongs to, or None (not mine)
    prove(unit, changes, repo) -> Iterator[Objection]

A new prover is one module here plus one line in `PROVERS`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import NamedTuple, Protocol

from migrate.config import Config
from migrate.context import Repo

# What provers object with: `fix` shows these even though it reports no other finding.
CODES = frozenset({"PTC010", "PTC011", "PTC014"})


class Change(NamedTuple):
    """A file's bytes as read and as the run would write them."""

    before: bytes
    after: bytes


class Objection(NamedTuple):
    path: Path  # the file (real path) the objection is reported on
    line: int  # 1-based
    code: str  # a verdict code (findings.CODES)
    message: str
    blocks: bool  # True: the file's rewrite is not written


class Prover(Protocol):
    NAME: str

    def unit(self, path: Path, repo: Repo) -> Path | None: ...

    def prove(
        self, unit: Path, changes: Mapping[Path, Change], repo: Repo, config: Config
    ) -> Iterator[Objection]: ...


def is_cache_target(before: str, after: str, config: Config) -> bool:
    """`after` is exactly what `fix` makes of `before` with this run's registry and rules:
    the rule's prefix, the upstream path (`library/` included) and the tag and digest text."""
    from migrate.classify import classify
    from migrate.findings import Status

    verdict = classify(before, config)
    return verdict.status is Status.PUBLIC and verdict.target == after


# Last: a prover module imports the names above.
from migrate.provers import helm, kustomize

PROVERS: tuple[Prover, ...] = (helm, kustomize)
