"""What a prover's "before" work found, kept between runs in the repository's git directory:
one JSON file per key (a sha256 of every input), at most MAX_ENTRIES per kind of work, the
least recently used going first. A file that cannot be read, or of another format, is a miss;
nothing here is ever an error: the work is simply done again."""

from __future__ import annotations

import contextlib
import json
import os
import stat
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from hashlib import _Hash

MAX_ENTRIES = 512
_MAX_BYTES = 16 * 1024 * 1024  # one entry: a chart's images are kilobytes


def folder(root: Path, name: str) -> Path | None:
    """Where `name`'s entries go: `.git/<name>/`, or None outside a (real) git directory."""
    git = root / ".git"
    return git / name if git.is_dir() and not git.is_symlink() else None


def load(root: Path, name: str, digest: str | None, fmt: int) -> Any:
    where = folder(root, name)
    if where is None or digest is None:
        return None
    path = where / digest
    try:
        if path.is_symlink() or path.stat().st_size > _MAX_BYTES:
            return None
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError):
        return None
    if not isinstance(data, dict) or data.get("format") != fmt:
        return None
    with contextlib.suppress(OSError):
        os.utime(path)  # used: the last to go
    return data.get("value")


def store(root: Path, name: str, digest: str | None, fmt: int, value: Any) -> None:
    where = folder(root, name)
    if where is None or digest is None:
        return
    try:
        where.mkdir(mode=0o700, exist_ok=True)
        fd, temp = tempfile.mkstemp(prefix=".ecr-ptc-", dir=where)
    except OSError:
        return
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump({"format": fmt, "value": value}, out)
        os.replace(temp, where / digest)
    except OSError:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        return
    try:
        entries = [e for e in os.scandir(where) if e.is_file() and not e.name.startswith(".")]
    except OSError:
        return
    if len(entries) > MAX_ENTRIES:
        entries.sort(key=lambda e: e.stat().st_mtime_ns)
        for entry in entries[: len(entries) - MAX_ENTRIES]:
            with contextlib.suppress(OSError):
                os.unlink(entry.path)


def add_tree(digest: _Hash, top: Path, base: Path, budget: int) -> int | None:
    """Every regular file under `top` (but `.git`), path relative to `base` and bytes, into
    `digest`, in a fixed order; the budget left, or None when the tree cannot be a key: a
    symlink in it (its target may change outside the key), a file that cannot be read, or more
    than `budget` bytes."""
    for here, dirnames, filenames in os.walk(top):
        dirnames[:] = sorted(d for d in dirnames if d != ".git")
        for name in sorted([*filenames, *dirnames]):
            path = os.path.join(here, name)
            try:
                mode = os.lstat(path).st_mode
                if stat.S_ISLNK(mode):
                    return None
                if not stat.S_ISREG(mode):
                    continue
                data = Path(path).read_bytes()
            except OSError:
                return None
            budget -= len(data)
            if budget < 0:
                return None
            rel = os.path.relpath(path, base)
            digest.update(f"{len(rel)}:{rel}:{len(data)}\0".encode("utf-8", "surrogateescape"))
            digest.update(data)
    return budget
