"""What a run gives for each file: its findings and, for a rewrite, the bytes before and
after; a rewrite held for a prover's ruling says which unit it waits for."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import NamedTuple, overload

from migrate.findings import Finding
from migrate.rewrite import source


class Held(NamedTuple):
    """A rewrite held back for a prover's ruling."""

    prover: str  # its NAME
    unit: Path
    real: Path  # the file's real path
    root: Path  # its repository
    stamp: source.Stamp | None  # the file as read: written later only if it is still that file


@dataclass(frozen=True)
class FileResult:
    path: str
    file_kind: str | None
    findings: tuple[Finding, ...]
    before: bytes | None = None
    after: bytes | None = None  # set when a rewrite was planned and verified
    written: bool = False
    held: Held | None = None
    unproven: int = 0  # --prove off: rewrites a prover would have checked, written unproven

    @property
    def changed(self) -> bool:
        return self.written or self.after is not None and self.after != self.before


@overload
def lean(result: FileResult) -> FileResult: ...


@overload
def lean(result: None) -> None: ...


def lean(result: FileResult | None) -> FileResult | None:
    """Without the bytes nobody reads: a fix keeps them only for a file that would change and
    was not written (--diff shows them, a prover reads them). Otherwise a run would hold the
    whole tree twice (bench/run.py: 25 MB fixed, +50 MB peak RSS), and the pool would pipe it
    back."""
    if result is None or result.before is None or result.changed and not result.written:
        return result
    return replace(result, before=None, after=None)
