"""The build index between runs: a hook on one file should not parse skaffold.yaml (and import
a YAML parser) on every commit. Kept in the repository's git directory, keyed by the size and
mtime of every build file and `.env`; any change, or any doubt, and the index is rebuilt.

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

FORMAT = 1
NAME = "ecr-ptc-builds.json"


def stamp(root: Path, files: list[str]) -> list[list[Any]]:
    out: list[list[Any]] = []
    for rel in files:
        try:
            info = os.stat(root / rel)
            out.append([rel, info.st_size, info.st_mtime_ns])
        except OSError:
            out.append([rel, None, None])
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
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("key") != [FORMAT, __version__, _code(), key]:
        return None
    builds = data.get("builds")
    if not isinstance(builds, list) or not all(_is_build(b) for b in builds):
        return None
    return builds


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
