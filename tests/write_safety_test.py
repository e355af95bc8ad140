"""Writes: an atomic rename in the same directory, mode and owner kept, nothing left behind when
a write fails, and never over a file that changed after it was read."""

from __future__ import annotations

import errno
import os
import signal
import stat
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from migrate.config import Config
from migrate.findings import Finding
from migrate.rewrite import engine, source
from migrate.rewrite.results import FileResult
from tests.bad_input_test import ecr_ptc
from tests.helpers import REGISTRY

BEFORE = b"FROM nginx:1.27\r\n# keep me\r\nFROM quay.io/x/y:1 AS b\r\n"
AFTER = (
    f"FROM {REGISTRY}/docker-hub/library/nginx:1.27\r\n# keep me\r\n"
    f"FROM {REGISTRY}/quay/x/y:1 AS b\r\n"
).encode()
OTHER_BEFORE = b"FROM alpine:3.20\n"
OTHER_AFTER = f"FROM {REGISTRY}/docker-hub/library/alpine:3.20\n".encode()
CONFIG = Config(registry=REGISTRY)


def _tree(tmp_path: Path) -> Path:
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "Dockerfile").write_bytes(BEFORE)
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "Dockerfile").write_bytes(OTHER_BEFORE)
    return tmp_path


def _fix(root: Path, *paths: str) -> list[FileResult]:
    return list(engine.run(paths or (".",), CONFIG, root, fix=True, write=True, jobs=1))


def _errors(results: list[FileResult]) -> list[Finding]:
    return [f for r in results for f in r.findings if f.code == "PTC900"]


def _leftovers(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob(f"*{source.TEMP_SUFFIX}"))


def test_replace_is_a_rename_within_the_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = _tree(tmp_path)
    renames: list[tuple[Path, Path]] = []
    real_replace = os.replace

    def replace(src: Any, dst: Any) -> None:
        renames.append((Path(src), Path(dst)))
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", replace)
    inode = os.stat(root / "a" / "Dockerfile").st_ino

    _fix(root, "a/Dockerfile")

    [(temp, target)] = renames
    assert target == (root / "a" / "Dockerfile").resolve()
    assert temp.parent == target.parent and temp.name.startswith(".")
    assert os.stat(target).st_ino != inode  # a new file took its place; none was written in place
    assert (root / "a" / "Dockerfile").read_bytes() == AFTER


MODES = [
    pytest.param(0o644, id="0644"),
    pytest.param(0o600, id="0600"),
    pytest.param(0o755, id="0755"),
    pytest.param(0o640, id="0640"),
    pytest.param(0o2775, id="setgid-2775"),
]


@pytest.mark.parametrize("mode", MODES)
def test_mode_and_owner_are_kept(mode: int, tmp_path: Path) -> None:
    root = _tree(tmp_path)
    path = root / "a" / "Dockerfile"
    # As root, give the file an owner that is not us, so keeping it is a real test.
    owner = (1234, 5678) if os.geteuid() == 0 else (os.getuid(), os.getgid())
    os.chown(path, *owner)
    os.chmod(path, mode)  # after chown, which clears setgid

    assert _errors(_fix(root)) == []

    info = os.stat(path)
    assert path.read_bytes() == AFTER
    assert stat.S_IMODE(info.st_mode) == mode
    assert (info.st_uid, info.st_gid) == owner


FAULTS = [  # where the write breaks, and with what
    pytest.param(
        "fsync", OSError(errno.ENOSPC, "No space left on device"), id="disk-full-at-fsync"
    ),
    pytest.param("chmod", OSError(errno.EPERM, "Operation not permitted"), id="chmod-refused"),
    pytest.param("replace", OSError(errno.EXDEV, "Invalid cross-device link"), id="rename-fails"),
    pytest.param("mkstemp", OSError(errno.EROFS, "Read-only file system"), id="read-only-fs"),
]


@pytest.mark.parametrize(("where", "fault"), FAULTS)
def test_failed_write_is_one_finding_and_leaves_nothing(
    where: str, fault: OSError, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = _tree(tmp_path)
    _break(monkeypatch, where, fault, only=root / "a")

    results = _fix(root)

    [error] = _errors(results)
    assert error.path == "a/Dockerfile" and error.message.startswith("not rewritten: ")
    assert str(tmp_path) not in error.message  # paths in output stay relative
    assert (root / "a" / "Dockerfile").read_bytes() == BEFORE
    assert (root / "b" / "Dockerfile").read_bytes() == OTHER_AFTER  # the run went on
    assert _leftovers(root) == []


@pytest.mark.parametrize("where", ["fsync", "chmod", "replace"])
def test_interrupt_between_write_and_rename_leaves_the_original_and_no_temp_file(
    where: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = _tree(tmp_path)
    _break(monkeypatch, where, KeyboardInterrupt(), only=root / "a")

    with pytest.raises(KeyboardInterrupt):
        _fix(root)

    assert (root / "a" / "Dockerfile").read_bytes() == BEFORE
    assert _leftovers(root) == []


def test_killed_between_write_and_rename_keeps_the_original(tmp_path: Path) -> None:
    # SIGKILL runs no cleanup: the temp file stays, but hidden, named for what it is, and never
    # read as input by the next run, which completes the job.
    root = _tree(tmp_path)
    script = (
        "import os, signal, sys\n"
        "from migrate.rewrite import source\n"
        "source.os.replace = lambda src, dst: os.kill(os.getpid(), signal.SIGKILL)\n"
        "from migrate.cli import main\n"
        "sys.exit(main(sys.argv[1:]))\n"
    )
    killed = subprocess.run(
        [sys.executable, "-c", script, "fix", "--registry", REGISTRY, "a/Dockerfile"],
        cwd=root,
        capture_output=True,
        check=False,
    )
    assert killed.returncode == -signal.SIGKILL
    assert (root / "a" / "Dockerfile").read_bytes() == BEFORE
    [leftover] = _leftovers(root)
    assert Path(leftover).name.startswith(".Dockerfile.")
    assert (root / leftover).read_bytes() == AFTER  # complete: it was fsynced before the rename

    results = _fix(root)

    assert _errors(results) == []
    assert sorted(r.path for r in results) == ["a/Dockerfile", "b/Dockerfile"]
    assert (root / "a" / "Dockerfile").read_bytes() == AFTER


CONCURRENT_EDITS = [  # what another writer leaves in the file between our read and our write
    pytest.param(b"FROM nginx:1.28\n", "changed on disk", id="user-edit"),
    pytest.param(AFTER, None, id="another-run-wrote-the-same-result"),
    pytest.param(None, "not rewritten: No such file or directory", id="deleted"),
]


@pytest.mark.parametrize(("edit", "problem"), CONCURRENT_EDITS)
def test_file_changed_after_it_was_read_is_not_overwritten(
    edit: bytes | None, problem: str | None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = _tree(tmp_path)
    target = root / "a" / "Dockerfile"
    real_read = source.read

    def read_then_someone_writes(path: Path, max_size: int) -> source.Source:
        src = real_read(path, max_size)
        if path == target.resolve():
            if edit is None:
                target.unlink()
            else:
                target.write_bytes(edit)
        return src

    monkeypatch.setattr(source, "read", read_then_someone_writes)

    results = _fix(root)

    messages = [e.message for e in _errors(results)]
    if problem is None:
        assert messages == []
    else:
        [message] = messages
        assert problem in message and str(tmp_path) not in message
    assert (target.read_bytes() if target.exists() else None) == edit  # theirs, untouched
    assert (root / "b" / "Dockerfile").read_bytes() == OTHER_AFTER
    assert _leftovers(root) == []


def test_read_only_file_is_reported_and_left_alone(tmp_path: Path) -> None:
    root = _tree(tmp_path)
    os.chmod(root / "a" / "Dockerfile", 0o444)

    fixed = ecr_ptc("fix", "--registry", REGISTRY, cwd=root)
    checked = ecr_ptc("fix", "--check", "--registry", REGISTRY, cwd=root)

    assert fixed.code == 2
    assert fixed.err.splitlines() == [
        "a/Dockerfile:1:1: PTC900 not rewritten: file is read-only; not rewritten"
    ]
    assert (root / "a" / "Dockerfile").read_bytes() == BEFORE
    assert stat.S_IMODE(os.stat(root / "a" / "Dockerfile").st_mode) == 0o444
    assert (root / "b" / "Dockerfile").read_bytes() == OTHER_AFTER
    assert (
        checked.code == 1 and "would rewrite a/Dockerfile" in checked.out
    )  # --check writes nothing


def test_read_only_directory_is_reported_and_left_alone(tmp_path: Path) -> None:
    root = _tree(tmp_path)
    os.chmod(root / "a", 0o555)  # the file is writable, but no temp file can be made beside it
    try:
        fixed = ecr_ptc("fix", "--registry", REGISTRY, cwd=root, honour_modes=True)
    finally:
        os.chmod(root / "a", 0o755)

    assert fixed.code == 2
    assert fixed.err.splitlines() == [
        (
            "a/Dockerfile:1:1: PTC900 not rewritten: cannot create a temporary file beside it: "
            "Permission denied"
        )
    ]
    assert (root / "a" / "Dockerfile").read_bytes() == BEFORE
    assert (root / "b" / "Dockerfile").read_bytes() == OTHER_AFTER


def test_longest_file_name_can_be_rewritten(tmp_path: Path) -> None:
    # NAME_MAX is 255 bytes: the temp name must not grow past it when the original is close.
    name = "a" * (255 - len(".Dockerfile")) + ".Dockerfile"
    (tmp_path / name).write_bytes(OTHER_BEFORE)

    results = _fix(tmp_path)

    assert _errors(results) == []
    assert (tmp_path / name).read_bytes() == OTHER_AFTER


def test_symlink_inside_the_root_stays_a_symlink(tmp_path: Path) -> None:
    root = _tree(tmp_path)
    os.symlink("a/Dockerfile", root / "linked.Dockerfile")

    results = _fix(root)

    assert _errors(results) == []
    assert os.readlink(root / "linked.Dockerfile") == "a/Dockerfile"
    assert (root / "a" / "Dockerfile").read_bytes() == AFTER
    assert sum(r.written for r in results) == 2  # a/ and b/, the link's target only once


def _break(monkeypatch: pytest.MonkeyPatch, where: str, fault: BaseException, only: Path) -> None:
    """Make `<where>` raise `fault` when it acts on a path in the directory `only`."""
    module = tempfile if where == "mkstemp" else os
    real: Callable[..., Any] = getattr(module, where)
    only = only.resolve()

    def broken(*args: Any, **kwargs: Any) -> Any:
        if "dir" in kwargs:  # mkstemp(dir=...)
            at = Path(kwargs["dir"])
        elif isinstance(args[0], int):  # fsync(fd)
            at = Path(os.readlink(f"/proc/self/fd/{args[0]}"))
        else:  # chmod(temp, mode), replace(temp, path)
            at = Path(args[0])
        at = at.resolve()
        if at == only or only in at.parents:
            raise fault
        return real(*args, **kwargs)

    monkeypatch.setattr(module, where, broken)


# --- hardening: SIGTERM, stale temp files, a slow writer, extended attributes, hard links -----

_SIGTERM_AT_FSYNC = (
    "import os, signal, sys\n"
    "from migrate.rewrite import pool\n"
    "pool.MIN_WORK = 0  # {pooled}: a pool even for a small tree\n"
    "real = os.fsync\n"
    "def fsync(fd):\n"
    "    real(fd)  # the temp file is complete: the signal comes just before the rename\n"
    "    try:\n"
    "        os.close(os.open('.signalled', os.O_CREAT | os.O_EXCL))  # once, by one process\n"
    "    except FileExistsError:\n"
    "        return\n"
    "    os.{kill}\n"
    "os.fsync = fsync\n"
    "from migrate.cli import main\n"
    "sys.exit(main(sys.argv[1:]))\n"
)


def test_sigterm_mid_write_is_handled_like_sigint(tmp_path: Path) -> None:
    root = _tree(tmp_path)
    script = _SIGTERM_AT_FSYNC.format(pooled=False, kill="kill(os.getpid(), signal.SIGTERM)")
    script = script.replace("pool.MIN_WORK = 0", "pass")

    done = subprocess.run(
        [sys.executable, "-c", script, "fix", "--registry", REGISTRY, "a/Dockerfile"],
        cwd=root,
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "ECR_PTC_JOBS": "1"},
    )

    assert done.returncode == 2
    assert done.stderr == "ecr-ptc: terminated\n"
    assert (root / "a" / "Dockerfile").read_bytes() == BEFORE
    assert _leftovers(root) == []


def test_sigterm_to_every_process_of_a_pooled_run_leaves_no_temp_file(tmp_path: Path) -> None:
    root = _tree(tmp_path)
    for index in range(40):
        (root / f"s{index}").mkdir()
        (root / f"s{index}" / "Dockerfile").write_bytes(OTHER_BEFORE)
    script = _SIGTERM_AT_FSYNC.format(pooled=True, kill="killpg(0, signal.SIGTERM)")

    done = subprocess.run(
        [sys.executable, "-c", script, "fix", "--registry", REGISTRY],
        cwd=root,
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "ECR_PTC_JOBS": "2"},
        start_new_session=True,  # its own process group: the signal stays there
        timeout=60,
    )

    assert done.returncode == 2, done.stderr
    assert done.stderr.endswith("ecr-ptc: terminated\n"), done.stderr
    assert "Traceback" not in done.stderr
    assert _leftovers(root) == []
    for path in root.rglob("Dockerfile"):  # each whole: as it was, or entirely rewritten
        assert path.read_bytes() in (BEFORE, AFTER, OTHER_BEFORE, OTHER_AFTER)


def _temp_beside(path: Path, tag: str, age: float) -> Path:
    temp = path.parent / f".{path.name}.{tag}{source.TEMP_SUFFIX}"
    temp.write_bytes(b"half a rewrite")
    when = time.time() - age
    os.utime(temp, (when, when))
    return temp


@pytest.mark.parametrize("git", [None, "", "*.tmp\n"], ids=["plain", "git", "git-ignored"])
def test_a_later_run_removes_stale_temp_files_silently(git: str | None, tmp_path: Path) -> None:
    root = _tree(tmp_path)
    if git is not None:
        subprocess.run(["git", "init", "-q", str(root)], check=True)
        (root / ".gitignore").write_text(git)  # `*.tmp`: git lists no temp file at all
    stale = _temp_beside(root / "a" / "Dockerfile", "k2j3h4", age=120)
    fresh = _temp_beside(root / "b" / "Dockerfile", "abcdef", age=0)  # maybe a run right now
    theirs = root / "a" / "notes.tmp"
    theirs.write_bytes(b"")
    os.utime(theirs, (0, 0))

    linted = ecr_ptc("lint", cwd=root)
    assert stale.exists()  # lint writes nothing, not even this
    fixed = ecr_ptc("fix", "--registry", REGISTRY, cwd=root)

    assert not stale.exists() and fresh.exists() and theirs.exists()
    assert "ecr-ptc.tmp" not in linted.out + linted.err + fixed.out + fixed.err
    assert fixed.code == 1 and (root / "a" / "Dockerfile").read_bytes() == AFTER


def test_a_hook_run_tidies_the_directories_of_the_files_it_is_given(tmp_path: Path) -> None:
    root = _tree(tmp_path)
    stale = _temp_beside(root / "a" / "Dockerfile", "k2j3h4", age=120)
    sibling = _temp_beside(root / "a" / "Dockerfile.other", "k2j3h4", age=120)
    elsewhere = _temp_beside(root / "b" / "Dockerfile", "k2j3h4", age=120)

    fixed = ecr_ptc("fix", "--registry", REGISTRY, "a/Dockerfile", cwd=root)

    assert fixed.code == 1 and not stale.exists() and not sibling.exists()
    assert elsewhere.exists()  # a directory this run was not given


def test_slow_writer_is_refused_and_nothing_is_lost(tmp_path: Path) -> None:
    # A process writes half the file, pauses with it open, writes the rest: replacing the file
    # in the pause would send its second half to a file nobody can see any more.
    root = _tree(tmp_path)
    target = root / "a" / "Dockerfile"
    first, second = b"FROM nginx:1.27\n", b"FROM quay.io/x/y:1 AS b\n"
    writer = subprocess.Popen(
        [
            sys.executable,
            "-c",
            (
                "import sys\n"
                f"f = open({str(target)!r}, 'wb'); f.write({first!r}); f.flush()\n"
                "print('paused', flush=True); sys.stdin.readline()\n"
                f"f.write({second!r}); f.close()\n"
            ),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert writer.stdout is not None and writer.stdin is not None
    assert writer.stdout.readline() == "paused\n"
    try:
        results = _fix(root)
    finally:
        writer.stdin.write("go\n")
        writer.stdin.close()
        writer.wait(timeout=30)

    if not source.can_tell_writers(target):  # no leases here: the stat check is all there is
        pytest.skip("this file system cannot tell whether a file is open for writing")
    [error] = _errors(results)
    assert error.path == "a/Dockerfile"
    assert error.message == (
        "not rewritten: Dockerfile is open for writing by another process; not written"
    )
    assert target.read_bytes() == first + second
    assert (root / "b" / "Dockerfile").read_bytes() == OTHER_AFTER
    assert _leftovers(root) == []


STAT_CHANGES = [  # the same bytes, but not the same file as the one read
    pytest.param(lambda p: os.utime(p, ns=(0, 10**9)), id="touched"),
    pytest.param(
        lambda p: (p.with_name("x").write_bytes(p.read_bytes()), os.replace(p.with_name("x"), p)),
        id="replaced-by-a-copy",
    ),
]


@pytest.mark.parametrize("change", STAT_CHANGES)
def test_file_whose_size_mtime_or_inode_changed_is_not_overwritten(
    change: Callable[[Path], Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = _tree(tmp_path)
    target = root / "a" / "Dockerfile"
    real_read = source.read

    def read_then_someone_writes(path: Path, max_size: int) -> source.Source:
        src = real_read(path, max_size)
        if path == target.resolve():
            change(target)
        return src

    monkeypatch.setattr(source, "read", read_then_someone_writes)

    [error] = _errors(_fix(root))

    assert error.message == (
        "not rewritten: Dockerfile changed on disk while it was being fixed; not written"
    )
    assert target.read_bytes() == BEFORE
    assert (root / "b" / "Dockerfile").read_bytes() == OTHER_AFTER


def test_extended_attributes_are_kept(tmp_path: Path) -> None:
    root = _tree(tmp_path)
    path = root / "a" / "Dockerfile"
    try:
        os.setxattr(path, "user.origin", b"checked out by CI")
    except OSError:
        pytest.skip("this file system has no user extended attributes")

    assert _errors(_fix(root)) == []

    assert path.read_bytes() == AFTER
    assert os.getxattr(path, "user.origin") == b"checked out by CI"


def test_hard_link_keeps_the_original_bytes_under_its_other_name(tmp_path: Path) -> None:
    # Documented (docs/reliability.md): the rename gives the path a new inode; the other name
    # keeps the old one, untouched.
    root = _tree(tmp_path)
    os.link(root / "a" / "Dockerfile", root / "a" / "copy.txt")

    assert _errors(_fix(root)) == []

    assert (root / "a" / "Dockerfile").read_bytes() == AFTER
    assert (root / "a" / "copy.txt").read_bytes() == BEFORE
