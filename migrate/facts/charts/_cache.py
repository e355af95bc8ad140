"""Template evidence between runs: a chart's templates are read as text on every run (a hook
on one values file too), but what they say is worked out once per content. Kept in the
repository's git directory, one file per chart content (sha256 of every template's name and
text, this code and its version), at most MAX_ENTRIES of them, the least recently used going
first; any doubt about an entry and the evidence is read again. Within a process the evidence of
a content is kept too, so a text scanned outside any repository does not read it per file."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from pathlib import Path
from typing import Any

from migrate import __version__
from migrate.facts.charts import evidence as _evidence

FORMAT = 1
DIRECTORY = "ecr-ptc-evidence"
MAX_ENTRIES = 1024  # charts (~1-20 KB each)
_MAX_IN_MEMORY = 256
_FIELDS = ("used", "images", "indirect", "tails")
_memory: dict[str, _evidence.Evidence] = {}


def store_of(root: Path) -> Path | None:
    """Where a repository keeps evidence: its git directory, when it is a real one."""
    git = root / ".git"
    return git / DIRECTORY if git.is_dir() and not git.is_symlink() else None


def evidence(templates: list[tuple[str, str]], store: Path | None) -> _evidence.Evidence:
    """`evidence.read(templates)`, from this process's memory or `store` where it was read."""
    digest = _digest(templates)
    found = _memory.get(digest)
    if found is None and store is not None:
        found = _load(store / digest, templates)
    if found is None:
        found = _evidence.read(templates)
        if store is not None:
            _store(store, digest, found)
    if len(_memory) >= _MAX_IN_MEMORY:
        _memory.pop(next(iter(_memory)))
    _memory[digest] = found
    return found


def _digest(templates: list[tuple[str, str]]) -> str:
    code = os.stat(_evidence.__file__).st_mtime_ns
    digest = hashlib.sha256(f"{FORMAT}\0{__version__}\0{code}\0".encode())
    for name, text in templates:
        raw = text.encode("utf-8", "surrogatepass")
        digest.update(f"{len(name)}:{len(raw)}:{name}\0".encode("utf-8", "surrogateescape"))
        digest.update(raw)
    return digest.hexdigest()


def _load(path: Path, templates: list[tuple[str, str]]) -> _evidence.Evidence | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        return None
    fields: dict[str, set[str]] = {}
    for name in _FIELDS:
        value = data.get(name)
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            return None
        fields[name] = set(value)
    with contextlib.suppress(OSError):
        os.utime(path)  # used: the last to go
    texts = "\n".join(text for _, text in templates)
    return _evidence.Evidence(**fields, texts=texts)


def _store(store: Path, digest: str, found: _evidence.Evidence) -> None:
    import tempfile  # only on a miss

    data: dict[str, Any] = {"format": FORMAT}
    data.update({name: sorted(getattr(found, name)) for name in _FIELDS})
    try:
        store.mkdir(exist_ok=True)
        fd, temp = tempfile.mkstemp(prefix=".ecr-ptc-", dir=store)
    except OSError:  # a read-only checkout: no cache, same answers
        return
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump(data, out)
        os.replace(temp, store / digest)
    except OSError:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        return
    _bound(store)


def _bound(store: Path) -> None:
    """At most MAX_ENTRIES entries: the least recently used go."""
    try:
        entries = [e for e in os.scandir(store) if e.is_file() and not e.name.startswith(".")]
    except OSError:
        return
    if len(entries) <= MAX_ENTRIES:
        return
    entries.sort(key=lambda e: e.stat().st_mtime_ns)
    for entry in entries[: len(entries) - MAX_ENTRIES]:
        with contextlib.suppress(OSError):
            os.unlink(entry.path)
