"""A file counter on stderr while a large tree is scanned, only when a person is watching."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import TextIO, TypeVar

T = TypeVar("T")

# Nothing is drawn before this: pre-commit on a handful of files and small repositories finish
# well inside it (a hook's few files), so their output never carries a cleared line.
DELAY = 0.5
# At most ten redraws a second: a terminal write costs more than scanning a small file.
INTERVAL = 0.1
_CLEAR = "\r\033[K"


def wanted(
    output: str,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
    environ: Mapping[str, str] | None = None,
) -> bool:
    """Only for the text format with both streams on a terminal: machine formats are parsed,
    and a redirected stdout means a script or CI log is reading."""
    stdout = stdout or sys.stdout
    stderr = stderr or sys.stderr
    environ = os.environ if environ is None else environ
    return (
        output == "text" and _is_tty(stdout) and _is_tty(stderr) and environ.get("TERM") != "dumb"
    )


def track(
    items: Iterable[T],
    label: Callable[[T], str],
    stream: TextIO,
    *,
    clock: Callable[[], float] = time.monotonic,
    delay: float | None = None,
    interval: float | None = None,
    width: int | None = None,
    noun: str = "file",
) -> Iterator[T]:
    """Yield every item unchanged; after `delay`, keep one status line on `stream` up to date
    and erase it at the end so the report that follows starts on a clean line."""
    delay = DELAY if delay is None else delay
    interval = INTERVAL if interval is None else interval
    start = clock()
    drawn_at: float | None = None
    count = 0
    columns = width or _columns()
    try:
        for item in items:
            count += 1
            now = clock()
            if now - start >= delay and (drawn_at is None or now - drawn_at >= interval):
                stream.write(_CLEAR + _line(count, label(item), columns, noun))
                stream.flush()
                drawn_at = now
            yield item
    finally:
        if drawn_at is not None:
            stream.write(_CLEAR)
            stream.flush()


def _line(count: int, path: str, columns: int, noun: str = "file") -> str:
    head = f"ecr-ptc: {count} {noun}{'s' if count != 1 else ''} "
    room = columns - len(head) - 1  # never touch the last column: some terminals wrap there
    if room < 8:
        return head[: max(columns - 1, 0)]
    if len(path) > room:
        path = "…" + path[-(room - 1) :]
    return head + path


def _is_tty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # a closed or replaced stream
        return False


def _columns() -> int:
    import shutil  # with bz2, lzma and zlib: a hook on one file would pay for them on every run

    return shutil.get_terminal_size((80, 24)).columns
