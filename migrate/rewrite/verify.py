"""The check between splicing and writing: the rewritten text, scanned again, must give back
the same references, the rewritten ones as their targets, each a valid cache reference."""

from __future__ import annotations

from collections.abc import Iterable
from operator import attrgetter

from migrate.classify import Verdict, classify
from migrate.config import Config
from migrate.context import FileContext
from migrate.findings import Status
from migrate.kinds.registry import Scanner
from migrate.occurrence import Occurrence

_AT = attrgetter("at")  # a C call per occurrence, not a lambda's frame
# Distinct targets checked per file: past this, repeats are checked again rather than remembered.
_CHECKED = 16384


def in_text_order(found: Iterable[Occurrence]) -> list[Occurrence]:
    """Reports read top to bottom whatever order a scanner resolves references in (an ARG
    default is found at the FROM that uses it)."""
    return sorted(found, key=_AT)


class Unverified(Exception):
    def __init__(self, message: str, index: int | None = None) -> None:
        super().__init__(message)
        self.index = index  # the occurrence read back wrong, when one is


def verify(
    scanner: Scanner,
    context: FileContext,
    new: str,
    occurrences: list[Occurrence],
    verdicts: list[Verdict],
    rewrites: bytearray,
    config: Config,
) -> None:
    """Re-scan the result: the same references must come back, the rewritten ones as their
    targets and every other one exactly as before; and each target must read back as pointing
    at the cache, or a second run (or Docker) would not accept what this one wrote."""
    again = in_text_order(scanner.scan(new, context))
    if len(again) != len(occurrences):
        raise Unverified(f"re-scan found {len(again)} references instead of {len(occurrences)}")
    checked: dict[str, None] = {}
    for index, (occ, verdict, rewritten, found) in enumerate(
        zip(occurrences, verdicts, rewrites, again)
    ):
        expected = verdict.target if rewritten else occ.written
        if found.kind != occ.kind or found.written != expected:
            raise Unverified(
                f"re-scan read {found.written!r} where {expected!r} was expected", index
            )
        if rewritten and found.written not in checked:
            again_verdict = classify(found.written, config)
            if again_verdict.status is not Status.CACHED:  # e.g. a name Docker finds too long
                raise Unverified(
                    f"{found.written!r} would not be a valid cache reference: "
                    f"{again_verdict.message}"
                )
            if len(checked) < _CHECKED:
                checked[found.written] = None
