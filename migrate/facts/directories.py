"""Does this directory hold a file of this name (a Chart.yaml)? Asked of the same few
directories for every file below them, by several kinds' `claims` in turn: while a run is under
way (`remembered()`) each directory is asked once; outside one, every question is a stat, as a
file may appear between two questions of a long-lived caller (tests, the prover)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

_runs = 0  # runs under way: the answers are kept while there is one
_known: dict[tuple[str, str], bool] = {}


def holds(directory: str, name: str) -> bool:
    """`Path(directory, name).is_file()`, remembered for the runs under way."""
    if not _runs:
        return Path(directory, name).is_file()
    key = (directory, name)
    found = _known.get(key)
    if found is None:
        found = _known[key] = Path(directory, name).is_file()
    return found


@contextlib.contextmanager
def remembered() -> Iterator[None]:
    """Answers kept until the last run under way ends: a run's files keep their names while it
    reads them (it rewrites contents only), and the next run asks the file system again."""
    global _runs
    _runs += 1
    try:
        yield
    finally:
        _runs -= 1
        if not _runs:
            _known.clear()
