""" "Before" renders between runs: `fix` on a chart it has rendered before, unchanged, renders
only the rewrite. A render is a function of the staged chart (every regular file of the copy
Helm reads: the chart and the dependencies staged beside it), the override values, Helm's
renderer and this program: that is the key. Only renders that succeeded for every values set
are kept (`cache_store`: in the git directory, bounded)."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from migrate import __version__
from migrate.provers import cache_store

if TYPE_CHECKING:
    from migrate.provers.helm_child import Result

FORMAT = 1
MAX_BYTES = 256 * 1024 * 1024  # what staging copies at most (`staging.MAX_BYTES`)
DIRECTORY = "ecr-ptc-renders"  # not `ecr-ptc-helm-*`: the stale staging copies' sweep takes those


def key(root: Path, staged: Path, overrides: Mapping[str, str]) -> str | None:
    """The key of rendering the staged copy with these overrides, or None: not cacheable."""
    if cache_store.folder(root, DIRECTORY) is None:
        return None
    digest = hashlib.sha256(f"{FORMAT}\0{__version__}\0{_renderer()}\0".encode())
    for name in sorted(overrides):
        text = overrides[name].encode("utf-8", "surrogateescape")
        digest.update(f"{len(name)}:{name}:{len(text)}\0".encode("utf-8", "surrogateescape"))
        digest.update(text)
    if cache_store.add_tree(digest, staged, staged, MAX_BYTES) is None:
        return None
    return digest.hexdigest()


def load(root: Path, digest: str | None) -> Result | None:
    from migrate.provers.rendered import Rendered

    value = cache_store.load(root, DIRECTORY, digest, FORMAT)
    if not isinstance(value, dict):
        return None
    out: Result = {}
    for name, images in value.items():
        if not isinstance(images, list) or not all(
            isinstance(i, list) and len(i) == 2 and all(isinstance(p, str) for p in i)
            for i in images
        ):
            return None
        out[str(name)] = [Rendered(where, image) for where, image in images]
    return out


def store(root: Path, digest: str | None, result: Result) -> None:
    if any(isinstance(images, str) for images in result.values()):
        return  # a render that failed may succeed next time (a time limit, a busy machine)
    value = {name: [list(i) for i in images] for name, images in result.items()}
    cache_store.store(root, DIRECTORY, digest, FORMAT, value)


def _renderer() -> str:
    """The installed renderer's version: a new Helm may render the same chart otherwise."""
    from importlib import metadata

    try:
        return metadata.version("helm-python-sdk")
    except metadata.PackageNotFoundError:
        return "none"
