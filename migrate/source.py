"""Bytes in, bytes out: decode keeping BOM and newlines, map offsets to lines, write atomically."""

from __future__ import annotations

import bisect
import os
import stat
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

UTF8_BOM = b"\xef\xbb\xbf"
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
TEMP_SUFFIX = ".ecr-ptc.tmp"


class SourceError(Exception):
    """The file cannot be read as UTF-8 text; `line` is 1-based."""

    def __init__(self, reason: str, line: int = 1) -> None:
        super().__init__(reason)
        self.reason, self.line = reason, line


@dataclass(frozen=True)
class Source:
    raw: bytes
    text: str  # decoded, BOM removed, newlines as written
    bom: bool
    _line_starts: list[int] = field(default_factory=list, repr=False, compare=False)

    def encode(self, text: str) -> bytes:
        return (UTF8_BOM if self.bom else b"") + text.encode("utf-8")

    def position(self, offset: int) -> tuple[int, int]:
        """1-based (line, column) of a character offset; columns count characters."""
        if not self._line_starts:
            starts = self._line_starts
            starts.append(0)
            find, at = self.text.find, 0
            while (at := find("\n", at) + 1) > 0:
                starts.append(at)
        index = bisect.bisect_right(self._line_starts, offset) - 1
        return index + 1, offset - self._line_starts[index] + 1


def decode(raw: bytes) -> Source:
    if raw.startswith(_UTF16_BOMS):
        raise SourceError("UTF-16 encoded: only UTF-8 is supported")
    if b"\0" in raw:
        raise SourceError(
            "binary file (contains NUL bytes)", raw.count(b"\n", 0, raw.index(b"\0")) + 1
        )
    bom = raw.startswith(UTF8_BOM)
    body = raw[len(UTF8_BOM) :] if bom else raw
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = body.count(b"\n", 0, exc.start) + 1
        raise SourceError(
            f"not UTF-8: byte 0x{body[exc.start]:02x} cannot be decoded", line
        ) from None
    return Source(raw, text, bom)


def read(path: Path, max_size: int) -> Source:
    try:
        with open(path, "rb") as handle:
            size = os.fstat(handle.fileno()).st_size
            if size > max_size:
                raise SourceError(f"file is {size} bytes, over the {max_size}-byte limit")
            raw = handle.read(max_size + 1)
    except OSError as exc:
        raise SourceError(f"cannot read: {exc.strerror or exc}") from None
    if len(raw) > max_size:  # grew while we read it
        raise SourceError(f"file is over the {max_size}-byte limit")
    return decode(raw)


def is_read_only(path: Path) -> bool:
    return not os.stat(path).st_mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH)


def write_atomic(path: Path, data: bytes, expected: bytes) -> None:
    """Replace `path` with `data`, but only while it still holds `expected`.

    The temp file lives in the same directory so `os.replace` is an atomic rename; mode and
    (where permitted) ownership are copied; on any failure the temp file is removed.
    """
    info = os.stat(path)
    try:
        # The name is cut so the temp name stays within NAME_MAX (255) for any original name.
        fd, temp = tempfile.mkstemp(
            dir=path.parent, prefix=f".{path.name[:64]}.", suffix=TEMP_SUFFIX
        )
    except OSError as exc:
        raise OSError(f"cannot create a temporary file beside it: {exc.strerror}") from None
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        try:  # before chmod: chown clears the setuid and setgid bits
            os.chown(temp, info.st_uid, info.st_gid)
        except (PermissionError, AttributeError):
            pass
        os.chmod(temp, stat.S_IMODE(info.st_mode))
        with open(path, "rb") as handle:
            current = handle.read()
        if current == data:  # another run (pre-commit runs hooks in parallel) got there first
            os.unlink(temp)
            return
        if current != expected:
            raise OSError(f"{path.name} changed on disk while it was being fixed; not written")
        os.replace(temp, path)
    except BaseException:
        try:
            os.unlink(temp)
        except FileNotFoundError:
            pass
        raise
