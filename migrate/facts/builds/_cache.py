"""The build index between runs: a hook on one file should not parse skaffold.yaml (and import
a YAML parser) on every commit. Kept in the repository's git directory, keyed by the inode,
change time (ctime, which no copy can preserve, unlike the mtime `cp -p` keeps) and size of every
build file and `.env`; any change, or any doubt, and the index is rebuilt.

The index is input like any file of the repository: it is read only if it is a regular file
(never through a symlink, never a FIFO or a device), under MAX_BYTES, and JSON nested deeper
than the format's own few levels is no index. A bad one is rebuilt and replaced, never fatal.

bench/builds.py: the index costs a Dockerfile hook ~20 ms in microservices-demo (a YAML parser
imported, skaffold.yaml parsed); read from here, ~1 ms.
"""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path
from typing import Any

from migrate import __version__

FORMAT = 2
NAME = "ecr-ptc-builds.json"
MAX_BYTES = 4 * 1024 * 1024  # a repository of 10,000 built images stays well under


def stamp(root: Path, files: list[str]) -> list[list[Any]]:
    out: list[list[Any]] = []
    for rel in files:
        try:
            info = os.stat(root / rel)
            out.append([rel, info.st_ino, info.st_ctime_ns, info.st_size, info.st_mtime_ns])
        except OSError:
            out.append([rel, None, None, None, None])
    return out


def _code() -> list[int]:
    """The readers' own files: an upgrade (or an edit) of the code reading builds rereads them."""
    return sorted(p.stat().st_mtime_ns for p in Path(__file__).parent.glob("*.py"))


def _path(root: Path) -> Path | None:
    git = root / ".git"
    return git / NAME if git.is_dir() and not git.is_symlink() else None


def load(root: Path, key: list[list[Any]]) -> list[list[Any]] | None:
    path = _path(root)
    if path is None:
        return None
    raw = _read(path)
    try:
        data = json.loads(raw) if raw is not None else None
    except (ValueError, RecursionError):  # RecursionError: nesting deeper than the stack
        return None
    if not isinstance(data, dict) or data.get("key") != [FORMAT, __version__, _code(), key]:
        return None
    builds = data.get("builds")
    if not isinstance(builds, list) or not all(_is_build(b) for b in builds):
        return None
    return builds


def _read(path: Path) -> bytes | None:
    """The bytes of a regular file of at most MAX_BYTES at `path` itself (no symlink followed,
    no FIFO waited on), else None."""
    import stat

    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError:
        return None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode) or info.st_size > MAX_BYTES:
            return None
        chunks, left = [], MAX_BYTES + 1
        while left > 0:  # a file that grows while it is read is bounded too
            chunk = os.read(fd, min(left, 1 << 20))
            if not chunk:
                break
            chunks.append(chunk)
            left -= len(chunk)
        return b"".join(chunks) if left > 0 else None
    except OSError:
        return None
    finally:
        os.close(fd)


def _is_build(row: Any) -> bool:
    return (
        isinstance(row, list)
        and len(row) == 4
        and all(isinstance(v, str) for v in (row[0], row[1], row[3]))
        and isinstance(row[2], int)
    )


def store(root: Path, key: list[list[Any]], builds: list[list[Any]]) -> None:
    path = _path(root)
    if path is None:
        return
    import tempfile  # only on a miss: its import costs a hook more than the cache saves

    text = json.dumps({"key": [FORMAT, __version__, _code(), key], "builds": builds})
    try:
        fd, temp = tempfile.mkstemp(prefix=".ecr-ptc-", dir=path.parent)
    except OSError:  # a read-only checkout: no cache, same answers
        return
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
        os.replace(temp, path)
    except OSError:
        with contextlib.suppress(OSError):
            os.unlink(temp)
