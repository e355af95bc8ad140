"""Writing a verified rewrite: refused on a read-only file, stale temp files of an interrupted
run tidied once per directory, then the atomic replace (`source.write_atomic`)."""

from __future__ import annotations

from pathlib import Path

from migrate.rewrite import source


def write(
    real: Path,
    after: bytes,
    before: bytes,
    stamp: source.Stamp | None = None,
    tidied: set[Path] | None = None,
) -> None:
    if source.is_read_only(real):
        raise OSError("file is read-only; not rewritten")
    if tidied is not None and real.parent not in tidied:
        tidied.add(real.parent)
        source.remove_stale_in(real.parent)
    source.write_atomic(real, after, before, stamp)


def os_reason(exc: OSError) -> str:
    # str(OSError) names the absolute (or temp) path; output paths stay relative.
    return exc.strerror if exc.strerror and exc.filename else str(exc)
