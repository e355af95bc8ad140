"""Which files: git-aware directory walks, explicit files, excludes, symlink and type guards."""

from __future__ import annotations

import os
import re
import stat
import subprocess
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import NamedTuple

from migrate.config import Config
from migrate.context import SKIPPED_DIRS
from migrate.kinds.registry import is_candidate
from migrate.rewrite.source import TEMP_SUFFIX, remove_stale, remove_stale_in

OUTSIDE = "symlink points outside the repository; not followed"
# Other projects' code and test data, skipped in a walked directory unless `include-tests`
# (Renovate's `:ignoreModulesAndTests` preset, with Go's `testdata/`): rewriting a test's
# fixtures or golden files breaks the test, and invalid fixtures are there on purpose.
# `node_modules/` and `vendor/` are never read (SKIPPED_DIRS).
TEST_DIRS = frozenset(
    {"bower_components", "test", "tests", "__tests__", "__fixtures__", "testdata"}
)
_TEST_WORDS = re.compile("test|__fixtures__|bower_components")
# `git ls-files` lists what it can and warns about the rest (dir.c, read_directory_recursive).
_UNLISTED = re.compile(r"^warning: could not open directory '(.*)': (.*)$", re.MULTILINE)


class Candidate(NamedTuple):
    display: str  # relative to the working directory, '/'-separated
    real: Path | None  # the regular file to read; None when `problem` says why not
    problem: str | None = None
    root: Path | None = None  # the repository it belongs to: no symlink may leave it
    # Where its scan reads repository facts (what the repository builds, its kustomizations),
    # when not `root`: outside git, a file named explicitly is bounded by its own directory,
    # but its facts come from the working directory holding it, as a walk of `.` would see.
    repo: Path | None = None


def display_path(path: Path, cwd: Path) -> str:
    try:
        return path.relative_to(cwd).as_posix()
    except ValueError:
        return os.path.relpath(path, cwd).replace(os.sep, "/")


class _Shown:
    """`display_path` of the files below one path given, as strings: a walk shows every file it
    lists, and the Paths built for that (or `os.path.relpath`, when the walk is not below the
    working directory) cost more than the rest of the walk."""

    def __init__(self, start: Path, cwd: Path) -> None:
        self.cwd, self.inside = cwd, os.path.join(cwd, "")
        # A file below `start` is shown as `start` is, then its own path below it; unless the
        # working directory is itself below `start`, where the two paths part further down.
        self.below = None if cwd.is_relative_to(start) else os.path.join(start, "")
        self.start = display_path(start, cwd)

    def __call__(self, path: str) -> str:
        if path.startswith(self.inside):
            return path[len(self.inside) :].replace(os.sep, "/")
        if self.below is not None and path.startswith(self.below):
            return f"{self.start}/{path[len(self.below) :].replace(os.sep, '/')}"
        return display_path(Path(path), self.cwd)


def boundary(directory: Path) -> Path:
    """The boundary no symlink may leave, for a directory as written (absolute, normalised, not
    resolved): the work tree holding it, found from the written path — the deepest ancestor
    with a `.git`, where a symlinked directory inside a work tree belongs to that tree and
    never starts another (so `repo/linked -> ../other-repo` is bounded by `repo`), while links
    above it (a symlinked home, macOS's /tmp) do not matter. Outside git: the directory
    itself, or when a symlinked directory is on its way, the directory holding that link."""
    tree: Path | None = None
    holder = directory
    for ancestor in (*reversed(directory.parents), directory):
        link = _is_link(ancestor)
        if link and tree is not None:
            break
        if link:
            holder = ancestor.parent
        if os.path.lexists(ancestor / ".git"):
            tree = ancestor
    return (tree or holder).resolve()


class Tally:
    """What a walk left out on purpose, for the run's summary."""

    def __init__(self) -> None:
        self.tests = 0  # files of a kind we read, under a test directory of a walked one


def walk(
    paths: Iterable[str],
    config: Config,
    cwd: Path,
    *,
    tidy: bool = False,
    tally: Tally | None = None,
) -> Iterator[Candidate]:
    """Every candidate of `paths`, in order; `tidy`: also remove stale temp files of ours
    (`*.ecr-ptc.tmp` over a minute old) met in the walked directories, silently. Below a
    directory, test directories (`TEST_DIRS`) are skipped unless `config.include_tests`, and
    counted in `tally`; a path given is read whatever its name."""
    tally = tally or Tally()
    cwd = cwd.resolve()
    roots: dict[Path, Path] = {}
    seen: set[Path] = set()
    tidied: set[Path] = set()
    resolved: dict[str, Path] = {}  # a directory of the walk -> where it really is

    def root_of(directory: Path) -> Path:
        if directory not in roots:
            roots[directory] = boundary(directory)
        return roots[directory]

    for given in paths:
        start = Path(os.path.abspath(Path(cwd, given)))  # as written: `..` folded, no link followed
        try:
            is_dir = start.is_dir()
        except OSError as exc:  # EACCES on a parent, ENAMETOOLONG: a finding, not a traceback
            yield Candidate(display_path(start, cwd), None, f"cannot read: {_reason(exc)}")
            continue
        files: Iterable[tuple[str, Path] | Candidate]
        if is_dir:
            root = root_of(start)
            top = start.resolve()
            if not top.is_relative_to(root):  # `repo/linked` where linked leads elsewhere
                yield Candidate(display_path(start, cwd), None, OUTSIDE, root)
                continue
            files = _directory(start, top, root, cwd, tidy)
        else:
            if not os.path.lexists(start) and not is_candidate(start):
                # A typo (`lint deplyo/`) must not pass for a clean run: a named file of a
                # kind we read is reported by the guard below; any other missing path here.
                yield Candidate(display_path(start, cwd), None, "no such file or directory")
                continue
            files = [(str(start), root_of(start.parent))]
            if tidy and start.parent not in tidied:  # a hook's files: their directories, once
                tidied.add(start.parent)
                remove_stale_in(start.parent)
        shown = _Shown(start, cwd)
        # Config globs are written from the config's directory (`charts/vendor/**`), whatever
        # directory the run starts in; `--exclude` globs may be written from the working one.
        for item in files:
            if isinstance(item, Candidate):  # a directory that could not be listed
                assert item.root is not None
                where = Path(cwd, item.display)
                if not config.include_tests and _in_tests(where, start, directory=True):
                    continue
                if not _excluded(config, where, item.display, item.root):
                    yield item
                continue
            name, root = item
            if not is_candidate(name.replace(os.sep, "/")):
                continue
            display = shown(name)
            path = Path(name)
            if _excluded(config, path, display, root):
                continue
            if is_dir and not config.include_tests and _in_tests(name, start):
                tally.tests += 1
                continue
            candidate = _guard(path, display, root, resolved)
            if not is_dir and not os.path.lexists(root / ".git") and root.is_relative_to(cwd):
                candidate = candidate._replace(repo=cwd)
            if candidate.real is not None:
                if candidate.real in seen:
                    continue
                seen.add(candidate.real)
            yield candidate


def _in_tests(path: Path | str, start: Path, directory: bool = False) -> bool:
    """Is `path` in a test directory below `start` (the directory given, itself read)?"""
    if _TEST_WORDS.search(str(path)) is None:  # most paths: no parts to split
        return False
    try:
        parts = Path(os.path.abspath(path)).relative_to(start).parts
    except ValueError:
        return False
    folders = parts if directory else parts[:-1]
    # A chart's `templates/tests/` is no test data: `helm test` installs those pods.
    return any(
        name in TEST_DIRS and (name != "tests" or (start.name, *folders)[i] != "templates")
        for i, name in enumerate(folders)
    )


def _excluded(config: Config, path: Path, display: str, root: Path) -> bool:
    if not config.exclude:
        return False
    if config.excluded(display):
        return True
    base = config.path.resolve().parent if config.path else root
    return path.is_relative_to(base) and config.excluded(path.relative_to(base).as_posix())


def _guard(path: Path, display: str, root: Path, resolved: dict[str, Path]) -> Candidate:
    """`resolved`: directories already resolved in this walk (a file that is no symlink is
    where its directory really is, and a walk lists many files per directory)."""
    try:
        info = os.lstat(path)
    except OSError as exc:
        return Candidate(display, None, f"cannot read: {_reason(exc)}")
    try:
        real = _resolve(path, stat.S_ISLNK(info.st_mode), resolved)
    except (FileNotFoundError, NotADirectoryError):
        return Candidate(display, None, "broken symlink")
    except (OSError, RuntimeError):  # ELOOP: Python < 3.13 raises RuntimeError for a loop
        return Candidate(display, None, "symlink loop")
    # `path` is absolute and normalised, so any difference is a symlink: on the file itself or
    # on a directory above it (`linked-dir/Dockerfile` given explicitly). Either may not leave.
    if real != path and not real.is_relative_to(root):
        return Candidate(display, None, OUTSIDE)
    if stat.S_ISLNK(info.st_mode):
        try:
            info = os.stat(real)
        except OSError as exc:
            return Candidate(display, None, f"cannot read: {_reason(exc)}")
    if stat.S_ISDIR(info.st_mode):  # a directory named like a Dockerfile: nothing to read
        return Candidate(display, None, None, root)
    if not stat.S_ISREG(info.st_mode):
        return Candidate(display, None, "not a regular file", root)
    return Candidate(display, real, None, root)


def _resolve(path: Path, link: bool, resolved: dict[str, Path]) -> Path:
    """`path.resolve(strict=True)`, through `resolved` for a file that is not a symlink itself."""
    if link:
        return path.resolve(strict=True)
    directory, _, name = str(path).rpartition(os.sep)
    real = resolved.get(directory)
    if real is None:
        real = resolved[directory] = path.parent.resolve(strict=True)
    return real / name


def _directory(
    start: Path, top: Path, root: Path, cwd: Path, tidy: bool
) -> Iterator[tuple[str, Path] | Candidate]:
    """(file, its boundary) for every file under `start` (as written; `top` is where it
    leads); a Candidate for each directory that could not be listed (a PTC900: what it holds
    is unknown, and silence would say 'clean')."""
    listed = _git_listing(start)
    if listed is None:
        yield from _os_walk(start, root, cwd, tidy)
        return
    names, unlisted = listed
    prefix = os.path.join(start, "")
    for name in names:
        if SKIPPED_DIRS.intersection(name.split("/")[:-1]):
            continue
        listed_file = prefix + name
        if tidy and name.endswith(TEMP_SUFFIX):
            remove_stale(Path(listed_file))
        elif os.path.lexists(listed_file):  # deleted but still in the index
            yield listed_file, root
    for path, reason in unlisted:
        shown = start / path.relative_to(top) if path.is_relative_to(top) else path
        yield Candidate(display_path(shown, cwd), None, f"cannot list directory: {reason}", root)


def _git_listing(top: Path) -> tuple[list[str], list[tuple[Path, str]]] | None:
    """`git ls-files` of `top` (sorted names), and the directories git could not open."""
    done = _run_git(top, "ls-files", "-z", "--cached", "--others", "--exclude-standard")
    if done is None:
        return None
    names = sorted({os.fsdecode(n) for n in done.stdout.split(b"\0") if n})
    unlisted: list[tuple[Path, str]] = []
    warnings = _UNLISTED.findall(os.fsdecode(done.stderr))
    if warnings:  # git names them from its work tree's top
        shown = _run_git(top, "rev-parse", "--show-toplevel")
        tree = Path(os.fsdecode(shown.stdout).strip()) if shown else top
        unlisted = [
            (Path(tree, name.rstrip("/")), reason)
            for name, reason in warnings
            if not SKIPPED_DIRS.intersection(name.split("/"))
        ]
    return names, unlisted


def _os_walk(
    top: Path, root: Path, cwd: Path, tidy: bool
) -> Iterator[tuple[str, Path] | Candidate]:
    failed: list[OSError] = []
    trees = {top: root}

    def unlisted() -> Iterator[Candidate]:
        for problem in failed:
            where = Path(problem.filename) if problem.filename else top
            reason = f"cannot list directory: {_reason(problem)}"
            yield Candidate(display_path(where, cwd), None, reason, trees.get(where, root))
        failed.clear()

    for directory, dirnames, filenames in os.walk(top, onerror=failed.append):
        yield from unlisted()
        here = Path(directory)
        # A repository met inside a plain directory is the boundary of what lies below it.
        bound = here if ".git" in dirnames or ".git" in filenames else trees[here]
        dirnames[:] = sorted(d for d in dirnames if d not in SKIPPED_DIRS)
        for name in dirnames:
            trees[here / name] = bound
        for name in sorted(filenames):
            if tidy and name.endswith(TEMP_SUFFIX):
                remove_stale(here / name)
            else:
                yield os.path.join(directory, name), bound
        # os.walk lists symlinked directories as dirs but does not enter them: good, and a
        # symlink to a file is yielded as a file, then guarded.
    yield from unlisted()


def _is_link(path: Path) -> bool:
    try:
        return stat.S_ISLNK(os.lstat(path).st_mode)
    except OSError:
        return False


def _reason(exc: OSError) -> str:
    return exc.strerror or str(exc)


def _run_git(where: Path, *args: str) -> subprocess.CompletedProcess[bytes] | None:
    try:
        done = subprocess.run(
            ["git", *args],
            cwd=where,
            capture_output=True,
            check=False,
            env={**os.environ, "LC_ALL": "C"},  # its warnings are matched in English
        )
    except OSError:
        return None
    return done if done.returncode == 0 else None
