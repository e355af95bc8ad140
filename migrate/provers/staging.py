"""Staging copies for the renderers: a chart or a kustomization is rendered from a private copy
that holds only regular files of the repository, never what a symlink reaches outside it, no
FIFO, device or socket, and no more than a bounded number of files and bytes. What Helm's
`.Files.Get` or a kustomize generator can read is then what the repository holds, not
`/proc/self/environ` nor a 1.4 GB folder a symlink points to.

The renderers run with `offline_env()`: none of this process's environment (CI secrets) but
PATH, HOME and the locale, every proxy a dead address, git allowed no protocol.

Copies live in directories of our own naming (`ecr-ptc-helm-*`, `ecr-ptc-kustomize-*`), mode
0700; a run killed outright leaves them behind, and the next run sweeps the stale ones.
"""

from __future__ import annotations

import os
import shutil
import stat
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path, PurePath, PurePosixPath

MAX_FILES = 20_000
MAX_BYTES = 256 * 1024 * 1024  # Helm's own limit for a decompressed chart is 100 MiB
MAX_FILE_BYTES = 64 * 1024 * 1024
STALE_AFTER = 10 * 60  # seconds: no render or build of ours lives this long (their timeouts)
_DEAD = "http://127.0.0.1:9"  # the discard port: a fetch fails at once, nothing leaves the host


def offline_env() -> dict[str, str]:
    """A renderer's environment: PATH, HOME and the locale only (a kustomize generator's
    `envs` file reads variables from it), every proxy a dead address, git allowed no protocol
    (a remote base it would clone), no kubeconfig."""
    env = {key: os.environ[key] for key in ("PATH", "HOME", "LANG", "TMPDIR") if key in os.environ}
    for key in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        env[key] = _DEAD
    env.update(NO_PROXY="", no_proxy="", GIT_ALLOW_PROTOCOL="none", KUBECONFIG=os.devnull)
    return env


class TooLarge(Exception):
    """The unit holds more files or bytes than a staging copy takes."""


@dataclass
class Budget:
    files: int = MAX_FILES
    bytes: int = MAX_BYTES

    def spend(self, size: int) -> None:
        self.files -= 1
        self.bytes -= size
        if self.files < 0 or self.bytes < 0 or size > MAX_FILE_BYTES:
            raise TooLarge(f"over {MAX_FILES} files or {MAX_BYTES >> 20} MiB")


def inside(root: Path, path: Path) -> Path | None:
    """The real path of `path` if it exists and stays inside `root` (a real path), else None."""
    try:
        real = path.resolve(strict=True)
    except (OSError, RuntimeError):
        return None
    return real if real == root or real.is_relative_to(root) else None


def copy_file(root: Path, source: Path, target: Path, budget: Budget, link: bool) -> bool:
    """Copy `source` to `target` if it is a regular file inside `root`: a hard link when `link`
    (same file system: ~10x faster for a chart's large CRDs), else new bytes, mode 0600.
    False (nothing copied) for anything else."""
    real = inside(root, source)
    return real is not None and _materialize(real, target, budget, link)


def _materialize(real: Path, target: Path, budget: Budget | None, link: bool) -> bool:
    """`real` (a resolved path inside the repository) to `target`, if it is a regular file."""
    opened = _open_regular(real)
    if opened is None:
        return False
    fd, size = opened
    try:
        if budget is not None:
            budget.spend(size)
        _parents(target)
        if link:
            try:
                os.link(real, target, follow_symlinks=False)
                return True
            except OSError:  # another file system, or links not allowed: copy
                pass
        out = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
        with os.fdopen(out, "wb") as writer, os.fdopen(os.dup(fd), "rb") as reader:
            shutil.copyfileobj(reader, writer, 1 << 20)
        return True
    except OSError:
        return False
    finally:
        os.close(fd)


def copy_tree(
    root: Path, source: Path, target: Path, budget: Budget, link: bool, skip: frozenset[str]
) -> None:
    """Every regular file under `source` (symlinks followed only while they stay inside `root`,
    each real directory once) to the same place under `target`; TooLarge past the budget."""
    plan = Plan()
    plan.add_tree(root, source, PurePosixPath(), budget, skip)
    plan.materialize(target, link)


class Plan:
    """A staging copy before it is made: each file of the copy (a '/'-separated path in it) and
    the repository file it comes from, found exactly as `copy_tree` copies. A render's cache key
    is computed from it (`files`), so that a chart whose renders are kept is never copied at
    all; `materialize` then makes the copy from the very same list."""

    def __init__(self) -> None:
        self.files: dict[str, Path] = {}  # path in the copy -> resolved file in the repository
        self._dirs: set[str] = set()  # directories the copy has, files' parents aside

    def has(self, path: PurePath) -> bool:
        """Is there a file or directory at `path` in the copy?"""
        rel = path.as_posix()
        if rel in self.files or rel in self._dirs:
            return True
        return any(name.startswith(f"{rel}/") for name in self.files)

    def add_tree(
        self, root: Path, source: Path, at: PurePosixPath, budget: Budget, skip: frozenset[str]
    ) -> None:
        """Every regular file under `source` (symlinks followed only while they stay inside
        `root`, each real directory once) at `at` in the copy; TooLarge past the budget."""
        self._dirs.add(at.as_posix())
        seen: set[Path] = set()
        todo = [(source, at)]
        while todo:
            here, there = todo.pop()
            real = inside(root, here)
            if real is None or real in seen:
                continue
            seen.add(real)
            try:
                entries = sorted(os.scandir(real), key=lambda e: e.name)
            except OSError:
                continue
            for entry in entries:
                if entry.name in skip:
                    continue
                try:
                    is_dir = entry.is_dir()  # follows a symlink: `inside` then bounds it
                    link = not is_dir and entry.is_symlink()
                except OSError:
                    continue
                if is_dir:
                    todo.append((Path(entry.path), there / entry.name))
                    continue
                rel = f"{there.as_posix()}/{entry.name}" if there.parts else entry.name
                # Not a symlink, in a real directory: its path is its real path already
                # (resolving each of a chart's files took most of the plan's time).
                real_file = inside(root, Path(entry.path)) if link else Path(entry.path)
                if real_file is not None:
                    self._add_file(real_file, rel, budget)

    def _add_file(self, real: Path, rel: str, budget: Budget) -> None:
        if rel in self.files:
            return
        try:
            info = os.stat(real, follow_symlinks=False)
        except OSError:
            return
        if stat.S_ISREG(info.st_mode):
            budget.spend(info.st_size)
            self.files[rel] = real

    def read(self, rel: str) -> bytes | None:
        """A planned file's bytes, or None: not planned, or no longer a regular file."""
        real = self.files.get(rel)
        opened = _open_regular(real) if real is not None else None
        if opened is None:
            return None
        fd, _ = opened
        try:
            with os.fdopen(os.dup(fd), "rb") as reader:
                return reader.read()
        except OSError:
            return None
        finally:
            os.close(fd)

    def materialize(
        self, target: Path, link: bool, replaced: Mapping[str, bytes] | None = None
    ) -> None:
        """Make the copy at `target`; the files of `replaced` with its bytes instead (new files,
        never written through a hard link to the repository's)."""
        replaced = replaced or {}
        for rel in sorted(self._dirs):
            (target / rel).mkdir(mode=0o700, parents=True, exist_ok=True)
        for rel, real in self.files.items():
            if rel not in replaced:
                _materialize(real, target / rel, None, link)
        for rel, data in replaced.items():
            path = target / rel
            _parents(path)
            path.write_bytes(data)


def _open_regular(real: Path) -> tuple[int, int] | None:
    """A descriptor and the size of `real` if it is a regular file (never through a symlink, and
    never waiting on a FIFO), else None; the caller closes it."""
    try:
        fd = os.open(real, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError:
        return None
    try:
        info = os.fstat(fd)
    except OSError:
        os.close(fd)
        return None
    if not stat.S_ISREG(info.st_mode):
        os.close(fd)
        return None
    return fd, info.st_size


def _parents(target: Path) -> None:
    target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)


def sweep(directory: Path, prefix: str, older: float = STALE_AFTER) -> None:
    """Remove the staging copies named `prefix*` in `directory` that are ours (our user, a
    real directory, not a symlink) and older than `older` seconds: a killed run's leftovers."""
    now = time.time()
    try:
        entries = list(os.scandir(directory))
    except OSError:
        return
    for entry in entries:
        if not entry.name.startswith(prefix):
            continue
        try:
            info = entry.stat(follow_symlinks=False)
        except OSError:
            continue
        if (
            stat.S_ISDIR(info.st_mode)
            and info.st_uid == os.getuid()
            and now - info.st_mtime > older
        ):
            shutil.rmtree(entry.path, ignore_errors=True)  # never follows a symlink
