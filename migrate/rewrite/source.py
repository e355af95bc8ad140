"""Bytes in, bytes out: decode keeping BOM and newlines, map offsets to lines, write atomically."""

from __future__ import annotations

import bisect
import errno
import os
import signal
import stat
import time
from array import array
from dataclasses import dataclass, field
from pathlib import Path

UTF8_BOM = b"\xef\xbb\xbf"
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
TEMP_SUFFIX = ".ecr-ptc.tmp"
# A temp file of ours this old is an interrupted run's (a write takes milliseconds).
STALE_AFTER = 60.0


class SourceError(Exception):
    """The file cannot be read as UTF-8 text; `line` is 1-based."""

    def __init__(self, reason: str, line: int = 1) -> None:
        super().__init__(reason)
        self.reason, self.line = reason, line


Stamp = tuple[int, int, int, int]  # (st_dev, st_ino, st_size, st_mtime_ns) when it was read


def stamp_of(info: os.stat_result) -> Stamp:
    return info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns


@dataclass(frozen=True)
class Source:
    """A file as read. Its bytes are not kept beside its text: strict UTF-8 decodes one way
    only, so `raw` encodes them again, and a dense values file (bench/dense.py) peaks with its
    text, its rewritten text and their trees alive, where the bytes were a third copy."""

    text: str  # decoded, BOM removed, newlines as written
    bom: bool
    # Offsets where lines start, 8 bytes each (a list of ints costs ~36 per line).
    _line_starts: array[int] = field(default_factory=lambda: array("q"), repr=False, compare=False)
    stamp: Stamp | None = field(default=None, compare=False)  # the file as read, if from one

    @property
    def raw(self) -> bytes:
        """The bytes read, as they were: a new object on each read."""
        return self.encode(self.text)

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
    return Source(text, bom)


def read(path: Path, max_size: int) -> Source:
    try:
        with open(path, "rb") as handle:
            info = os.fstat(handle.fileno())
            if info.st_size > max_size:
                raise SourceError(f"file is {info.st_size} bytes, over the {max_size}-byte limit")
            raw = handle.read(max_size + 1)
    except OSError as exc:
        raise SourceError(f"cannot read: {exc.strerror or exc}") from None
    if len(raw) > max_size:  # grew while we read it
        raise SourceError(f"file is over the {max_size}-byte limit")
    src = decode(raw)
    return Source(src.text, src.bom, stamp=stamp_of(info))


def is_read_only(path: Path) -> bool:
    return not os.stat(path).st_mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH)


def write_atomic(path: Path, data: bytes, expected: bytes, stamp: Stamp | None = None) -> None:
    """Replace `path` with `data`, but only while it is still the file that was read: it holds
    `expected`, has the size, mtime and inode of `stamp` (when given), and no other process
    has it open for writing (where the system can tell: Linux leases).

    The temp file lives in the same directory so `os.replace` is an atomic rename; mode,
    (where permitted) ownership and extended attributes are copied; on any failure, SIGINT and
    SIGTERM included, the temp file is removed.
    """
    import tempfile  # with shutil and random: only a run that writes pays for them

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
        _copy_xattrs(path, temp)
        with open(path, "rb") as handle:
            now = stamp_of(os.fstat(handle.fileno()))
            current = handle.read()
            if current == data:  # another run (pre-commit runs hooks in parallel) got there first
                os.unlink(temp)
                return
            if current != expected or stamp is not None and now != stamp:
                raise OSError(f"{path.name} changed on disk while it was being fixed; not written")
            if _open_for_writing(handle.fileno()):
                # A writer that pauses halfway would go on writing into the file we replace.
                raise OSError(f"{path.name} is open for writing by another process; not written")
        os.replace(temp, path)
    except BaseException:
        try:
            os.unlink(temp)
        except FileNotFoundError:
            pass
        raise


def _copy_xattrs(source: Path, target: str) -> None:
    """Extended attributes (user.*, ACLs, SELinux labels) onto the temp file, each where the
    file system and our privileges allow; the rename would drop them otherwise."""
    if not hasattr(os, "listxattr"):  # Linux only in Python's os
        return
    try:
        names = os.listxattr(source)
    except OSError:
        return
    for name in names:
        try:
            os.setxattr(target, name, os.getxattr(source, name))
        except OSError:
            pass


def _open_for_writing(fd: int) -> bool:
    """Whether another process has this file open for writing. Linux refuses a read lease then
    (fcntl(2), F_SETLEASE: EAGAIN); the lease is released at once. Elsewhere, or where leases
    are not allowed (a file we do not own, some network file systems): False, not known."""
    try:
        import fcntl

        # A lease break would be signalled with SIGIO, whose default action ends the process:
        # SIGURG is ignored by default, and the lease lasts two system calls anyway.
        fcntl.fcntl(fd, fcntl.F_SETSIG, signal.SIGURG)
        fcntl.fcntl(fd, fcntl.F_SETLEASE, fcntl.F_RDLCK)
    except (ImportError, AttributeError):
        return False
    except OSError as exc:
        return exc.errno == errno.EAGAIN
    fcntl.fcntl(fd, fcntl.F_SETLEASE, fcntl.F_UNLCK)
    return False


def can_tell_writers(path: Path) -> bool:
    """Whether `_open_for_writing` can answer for this file here (tests skip where it cannot)."""
    try:
        import fcntl

        with open(path, "rb") as handle:
            fcntl.fcntl(handle.fileno(), fcntl.F_SETLEASE, fcntl.F_RDLCK)
            fcntl.fcntl(handle.fileno(), fcntl.F_SETLEASE, fcntl.F_UNLCK)
    except (ImportError, AttributeError, OSError):
        return False
    return True


def remove_stale(path: Path) -> None:
    """An interrupted run's temp file (SIGKILL or a power cut leaves one behind): removed when
    it is ours by name, a regular file and over a minute old; never reported."""
    if not path.name.endswith(TEMP_SUFFIX):
        return
    try:
        info = os.lstat(path)
        if stat.S_ISREG(info.st_mode) and time.time() - info.st_mtime > STALE_AFTER:
            os.unlink(path)
    except OSError:
        pass


def remove_stale_in(directory: Path) -> None:
    """`remove_stale` for every temp file of ours in `directory`."""
    try:
        with os.scandir(directory) as entries:
            names = [e.name for e in entries if e.name.endswith(TEMP_SUFFIX)]
    except OSError:
        return
    for name in names:
        remove_stale(directory / name)
