"""Which files: git-aware directory walks, explicit files, excludes, symlink and type guards."""

from __future__ import annotations

import os
import stat
import subprocess
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import NamedTuple

from migrate.config import Config
from migrate.context import SKIPPED_DIRS
from migrate.scanners import is_candidate


class Candidate(NamedTuple):
    display: str  # relative to the working directory, '/'-separated
    real: Path | None  # the regular file to read; None when `problem` says why not
    problem: str | None = None
    root: Path | None = None  # the repository it belongs to: no symlink may leave it


def display_path(path: Path, cwd: Path) -> str:
    try:
        return path.relative_to(cwd).as_posix()
    except ValueError:
        return os.path.relpath(path, cwd).replace(os.sep, "/")


def root_of(start: Path) -> Path:
    """The boundary no symlink may leave: the git work tree, else the starting directory."""
    top = _git(start, "rev-parse", "--show-toplevel")
    return Path(top.strip()).resolve() if top else start.resolve()


class _Roots:
    """The boundary of each given path: its git work tree, else the directory walked (for a
    file outside git: the working directory when it holds the file, else the file's directory).
    Memoised per directory: pre-commit passes many files of one repository."""

    def __init__(self, cwd: Path) -> None:
        self.cwd = cwd
        self._known: dict[Path, Path] = {}

    def of(self, directory: Path, walked: bool) -> Path:
        """Found from where the path is written, not where a symlink in it leads: below a
        symlinked directory the boundary is the repository holding the link."""
        directory = Path(os.path.abspath(directory))
        for ancestor in (*reversed(directory.parents), directory):
            if ancestor.is_symlink():
                directory, walked = ancestor.parent, True
                break
        if directory not in self._known:
            top = _git(directory, "rev-parse", "--show-toplevel")
            if top:
                self._known[directory] = Path(top.strip()).resolve()
            elif walked or not directory.is_relative_to(self.cwd):
                self._known[directory] = directory.resolve()
            else:
                self._known[directory] = root_of(self.cwd)
        return self._known[directory]


def walk(paths: Iterable[str], config: Config, cwd: Path) -> Iterator[Candidate]:
    cwd = cwd.resolve()
    roots = _Roots(cwd)
    seen: set[Path] = set()
    for given in paths:
        start = Path(cwd, given)
        if start.is_dir() and not start.is_symlink():
            root = roots.of(start, walked=True)
            top = start.resolve()
            if top != Path(os.path.abspath(start)) and not top.is_relative_to(root):
                # `linked-dir/sub` where linked-dir points outside: walking it would write there
                problem = "symlink points outside the repository; not followed"
                yield Candidate(display_path(start, cwd), None, problem, root)
                continue
            files: Iterable[Path] = _directory(top)
            explicit = False
        else:
            files, explicit = [Path(os.path.abspath(start))], True
            root = roots.of(start.parent, walked=False)
        # Config globs are written from the config's directory (`charts/vendor/**`), whatever
        # directory the run starts in; `--exclude` globs may be written from the working one.
        base = config.path.resolve().parent if config.path else root
        for path in files:
            display = display_path(path, cwd)
            if _excluded(config, path, display, base) or not (explicit or is_candidate(path)):
                continue
            if explicit and not is_candidate(path):
                continue
            candidate = _guard(path, display, root)
            if candidate.real is not None:
                if candidate.real in seen:
                    continue
                seen.add(candidate.real)
            yield candidate


def _excluded(config: Config, path: Path, display: str, base: Path) -> bool:
    if config.excluded(display):
        return True
    return path.is_relative_to(base) and config.excluded(path.relative_to(base).as_posix())


def _guard(path: Path, display: str, root: Path) -> Candidate:
    try:
        info = os.lstat(path)
    except OSError as exc:
        return Candidate(display, None, f"cannot read: {exc.strerror}")
    try:
        real = path.resolve(strict=True)
    except (FileNotFoundError, NotADirectoryError):
        return Candidate(display, None, "broken symlink")
    except (OSError, RuntimeError):  # ELOOP: Python < 3.13 raises RuntimeError for a loop
        return Candidate(display, None, "symlink loop")
    # `path` is absolute and normalised, so any difference is a symlink: on the file itself or
    # on a directory above it (`linked-dir/Dockerfile` given explicitly). Either may not leave.
    if real != path and not real.is_relative_to(root):
        return Candidate(display, None, "symlink points outside the repository; not followed")
    if stat.S_ISLNK(info.st_mode):
        info = os.stat(real)
    if stat.S_ISDIR(info.st_mode):  # a directory named like a Dockerfile: nothing to read
        return Candidate(display, None, None, root)
    if not stat.S_ISREG(info.st_mode):
        return Candidate(display, None, "not a regular file", root)
    return Candidate(display, real, None, root)


def _directory(top: Path) -> Iterator[Path]:
    listed = _git(top, "ls-files", "-z", "--cached", "--others", "--exclude-standard")
    if listed is None:
        yield from _os_walk(top)
        return
    for name in sorted(set(listed.split("\0"))):
        if name and not SKIPPED_DIRS.intersection(name.split("/")[:-1]):
            path = top / name
            if os.path.lexists(path):  # deleted but still in the index
                yield path


def _os_walk(top: Path) -> Iterator[Path]:
    for directory, dirnames, filenames in os.walk(top):
        dirnames[:] = sorted(d for d in dirnames if d not in SKIPPED_DIRS)
        for name in sorted(filenames):
            yield Path(directory, name)
        # os.walk lists symlinked directories as dirs but does not enter them: good, and a
        # symlink to a file is yielded as a file, then guarded.


def _git(where: Path, *args: str) -> str | None:
    try:
        done = subprocess.run(
            ["git", *args], cwd=where, capture_output=True, text=True, check=False
        )
    except OSError:
        return None
    return done.stdout if done.returncode == 0 else None
