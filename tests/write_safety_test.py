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
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from migrate import engine, source
from migrate.config import Config
from migrate.findings import Finding
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


def _fix(root: Path, *paths: str) -> list[engine.FileResult]:
    return list(engine.run(paths or (".",), CONFIG, root, fix=True, write=True, jobs=1))


def _errors(results: list[engine.FileResult]) -> list[Finding]:
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
        "from migrate import source\n"
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
