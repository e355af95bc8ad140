"""What every prover takes and gives: the `Prover` protocol, a file's `Change`, an
`Objection`, and the test that a rewritten reference is exactly its cache target."""

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
