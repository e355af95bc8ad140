"""Builds between runs: a hook on an unchanged tree builds nothing before the rewrite, and a
run that plans the same rewrites as the last one (`fix --diff`, then `fix`; a hook run again
after it failed) builds nothing after it either.

A kustomization's build reads only files under the directories of its closure: kubectl
kustomize's default load restrictor (RootOnly) keeps each kustomization to its own directory,
and its bases are kustomizations of their own. So the images it builds are a function of every
file under those directories and of the builder itself: that is the key (sha256), and a tree
holding a symlink is not cached (its target may change outside the key). Kept in the
repository's git directory, one file per key, at most MAX_ENTRIES, the least recently used
going first; a failed build is never kept.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from collections.abc import Iterable
from pathlib import Path

from migrate import __version__
from migrate.provers import cache_store

FORMAT = 2  # the entry holds {format, value}
DIRECTORY = "ecr-ptc-kustomize"
MAX_BYTES = 64 * 1024 * 1024  # read to make a key; a bigger tree is built every time


def key(
    root: Path, cmd: list[str], directories: Iterable[str], tree: Path | None = None
) -> str | None:
    """The key of a build reading `directories` (repository-relative) of `tree` (the
    repository, or the staged copy with the rewrites, which holds every file its builds
    read), or None: not cacheable. Entries are kept in `root`'s git directory either way."""
    if cache_store.folder(root, DIRECTORY) is None:
        return None
    builder = shutil.which(cmd[0])
    try:
        info = os.stat(builder) if builder else None
    except OSError:
        return None
    digest = hashlib.sha256(f"{FORMAT}\0{__version__}\0{cmd}\0{builder}\0".encode())
    digest.update(f"{info.st_size if info else 0}:{info.st_mtime_ns if info else 0}\0".encode())
    budget = MAX_BYTES
    top = root if tree is None else tree
    for directory in sorted(set(directories)):
        # Every directory but git's: kustomize may read a `vendor/` or `node_modules/` too.
        left = cache_store.add_tree(digest, top / directory if directory else top, top, budget)
        if left is None:
            return None
        budget = left
    return digest.hexdigest()


def load(root: Path, digest: str | None) -> list[str] | None:
    images = cache_store.load(root, DIRECTORY, digest, FORMAT)
    if not isinstance(images, list) or not all(isinstance(i, str) for i in images):
        return None
    return images


def store(root: Path, digest: str | None, images: list[str]) -> None:
    cache_store.store(root, DIRECTORY, digest, FORMAT, images)
