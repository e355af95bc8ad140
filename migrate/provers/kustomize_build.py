"""`kubectl kustomize` (or a standalone `kustomize build`): the images a kustomization builds.

Builds run on the repository as it is (before) and on a staged copy with the planned rewrites
(after); the staged copy is every file under the deepest directory holding all the
kustomizations and files involved, ignored files included (a secretGenerator's `.env` often is).
Nothing is fetched: kustomizations with remote resources or Helm charts are never built here.
"""

from __future__ import annotations

import os
import posixpath
import shutil
import subprocess
from collections.abc import Iterable
from pathlib import Path

from migrate.context import SKIPPED_DIRS
from migrate.kinds import kubernetes

TIMEOUT = 120  # seconds per build; a large monorepo overlay builds in a few
MAX_STAGED = 20_000  # files; a bigger tree is not copied, the build is not verified


def command() -> list[str] | None:
    if shutil.which("kubectl"):
        return ["kubectl", "kustomize"]
    if shutil.which("kustomize"):
        return ["kustomize", "build"]
    return None


def images(cmd: list[str], directory: Path) -> list[str] | str:
    """The container images of the build, in output order, or why it failed (one line)."""
    try:
        done = subprocess.run(
            [*cmd, str(directory)],
            capture_output=True,
            check=False,
            timeout=TIMEOUT,
            stdin=subprocess.DEVNULL,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return str(exc).splitlines()[0]
    if done.returncode != 0:
        lines = [ln.strip() for ln in done.stderr.decode("utf-8", "replace").splitlines()]
        reason = next((ln for ln in lines if ln and "command failed" not in ln), "")
        return reason or f"exit status {done.returncode}"
    text = done.stdout.decode("utf-8", "replace")
    return [occ.written for occ in kubernetes.scan(text)]


def common_dir(paths: Iterable[str]) -> str:
    """The deepest directory holding every repository-relative path ('' for the root)."""
    parts = [p.split("/") for p in paths]
    if not parts:
        return ""
    common = os.path.commonprefix(parts)
    return "/".join(common)


def stage(root: Path, top: str, into: Path, files: Iterable[str]) -> bool:
    """Copy `root/top` to `into/top`; False if it holds more than MAX_STAGED files."""
    source = root / top if top else root
    count = 0
    for _, dirnames, filenames in os.walk(source):
        dirnames[:] = [d for d in dirnames if d not in SKIPPED_DIRS]
        count += len(filenames)
        if count > MAX_STAGED:
            return False
    shutil.copytree(
        source,
        into / top if top else into,
        symlinks=True,
        ignore=shutil.ignore_patterns(*SKIPPED_DIRS),
        dirs_exist_ok=True,
    )
    return True


def parent(rel: str) -> str:
    return posixpath.dirname(rel)
