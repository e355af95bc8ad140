"""`pr --body-file`: the description written where it was named, and nowhere else.

The repository is a stranger's content: a committed symlink `pr.md -> ~/.local/lib/python3.12/
site-packages/x.pth` would make the description code that runs at the next Python start. So
the file is opened with O_NOFOLLOW (a symlink there is refused, as is anything but a regular
file), no symlink inside the work tree may lead its directory out of the work tree, and the file
is replaced atomically through the directory it was checked in: a temp file beside it, then a
rename, which never follows a link.
"""

from __future__ import annotations

import errno
import os
import secrets
import stat
from pathlib import Path


class BodyFileError(Exception):
    pass


def check(named: Path, cwd: Path, work_tree: Path) -> None:
    """What `write` would refuse, refused before anything is committed."""
    _write(named, None, cwd, work_tree)


def write(named: Path, text: str, cwd: Path, work_tree: Path) -> None:
    """Raises BodyFileError with one line saying why nothing was written."""
    _write(named, text, cwd, work_tree)


def _write(named: Path, text: str | None, cwd: Path, work_tree: Path) -> None:
    path = cwd / named  # not normalised: `link/..` means what the kernel says it means
    if path.name in ("", ".", ".."):
        raise BodyFileError(f"--body-file {named}: not a file name")
    directory = _directory(path.parent, os.path.realpath(work_tree), named)
    try:
        folder = os.open(directory, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError as exc:
        raise BodyFileError(f"cannot write {named}: {exc.strerror}") from None
    try:
        mode = _existing_mode(folder, path.name, named)
        if text is not None:
            _replace(folder, path.name, text.encode("utf-8"), mode)
    except OSError as exc:
        raise BodyFileError(f"cannot write {named}: {exc.strerror}") from None
    finally:
        os.close(folder)


def _directory(parent: Path, root: str, named: Path) -> str:
    """The real directory `parent` names, one component at a time (`..` after a link is the
    link target's parent, as for the kernel); a symlink in the work tree may not leave it."""
    current = os.sep
    for part in parent.parts[1:]:
        if part == "..":
            current = os.path.dirname(current)
            continue
        candidate = os.path.join(current, part)
        real = os.path.realpath(candidate)
        if real != candidate and _within(current, root) and not _within(real, root):
            raise BodyFileError(
                f"--body-file {named}: {candidate} is a symlink out of the repository; "
                "name a path that is not reached through one"
            )
        current = real
    return current


def _within(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


def _existing_mode(folder: int, name: str, named: Path) -> int | None:
    """The mode of the file being replaced, None when there is none; a symlink or anything but a
    regular file is refused (O_NONBLOCK: a FIFO must not hang the open)."""
    flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
    try:
        fd = os.open(name, flags, dir_fd=folder)
    except FileNotFoundError:
        return None
    except OSError as exc:
        if exc.errno in (errno.ELOOP, errno.EMLINK):  # EMLINK: FreeBSD's word for it
            raise BodyFileError(f"--body-file {named} is a symlink: not written through") from None
        raise
    try:
        info = os.fstat(fd)
    finally:
        os.close(fd)
    if not stat.S_ISREG(info.st_mode):
        raise BodyFileError(f"--body-file {named} is not a regular file")
    return stat.S_IMODE(info.st_mode)


def _replace(folder: int, name: str, data: bytes, mode: int | None) -> None:
    temp = f".{name[:200]}.{secrets.token_hex(4)}.ecr-ptc.tmp"
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
    fd = os.open(temp, flags, 0o666, dir_fd=folder)
    try:
        try:
            if mode is not None:
                os.fchmod(fd, mode)
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(temp, name, src_dir_fd=folder, dst_dir_fd=folder)
    except BaseException:
        try:
            os.unlink(temp, dir_fd=folder)
        except OSError:
            pass
        raise
