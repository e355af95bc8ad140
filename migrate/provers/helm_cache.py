""" "Before" renders between runs: `fix` on a chart it has rendered before, unchanged, renders
only the rewrite. A render is a function of the staged chart (every regular file of the copy
Helm reads: the chart and the dependencies staged beside it, as `staging.Plan` finds them
before any copy is made), the override values, Helm's
renderer and this program: that is the key. Only renders that succeeded for every values set
are kept (`cache_store`: in the git directory, bounded), each with its documents' images by
their text (`rendered.Memo`): a new rewrite's render parses only the documents it changed."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from migrate import __version__
from migrate.provers import cache_store

if TYPE_CHECKING:
    from migrate.provers.helm_child import Rendering, Result
    from migrate.provers.staging import Plan

FORMAT = 3  # 3: with the documents' images (2: keyed by the planned copy's files)
MAX_BYTES = 256 * 1024 * 1024  # what staging copies at most (`staging.MAX_BYTES`)
DIRECTORY = "ecr-ptc-renders"  # not `ecr-ptc-helm-*`: the stale staging copies' sweep takes those


def keys(
    root: Path, plan: Plan, renders: Sequence[tuple[Mapping[str, str], Mapping[str, bytes]]]
) -> list[str | None]:
    """The key of each render of the copy `plan` makes, as (override values, files replaced
    by these bytes); None: not cacheable (a file that cannot be read, or too many bytes).
    Computed from the plan, so that a kept render needs no copy; each file is read once."""
    if cache_store.folder(root, DIRECTORY) is None:
        return [None] * len(renders)
    digests = []
    for overrides, _ in renders:
        digest = hashlib.sha256(f"{FORMAT}\0{__version__}\0{_renderer()}\0".encode())
        for values in sorted(overrides):
            text = overrides[values].encode("utf-8", "surrogateescape")
            digest.update(
                f"{len(values)}:{values}:{len(text)}\0".encode("utf-8", "surrogateescape")
            )
            digest.update(text)
        digests.append(digest)
    budgets = [MAX_BYTES] * len(renders)
    for rel in sorted({*plan.files, *(rel for _, replaced in renders for rel in replaced)}):
        data = plan.read(rel)
        planned = None if data is None else (len(data), hashlib.sha256(data).digest())
        encoded = rel.encode("utf-8", "surrogateescape")
        for i, (digest, (_, replaced)) in enumerate(zip(digests, renders)):
            if rel in replaced:
                size, of_file = len(replaced[rel]), hashlib.sha256(replaced[rel]).digest()
            elif planned is not None:
                size, of_file = planned
            else:
                return [None] * len(renders)
            budgets[i] -= size
            if budgets[i] < 0:
                return [None] * len(renders)
            digest.update(b"%d:%s:%d\0" % (len(encoded), encoded, size))
            digest.update(of_file)
    return [d.hexdigest() for d in digests]


def load(root: Path, digest: str | None) -> Rendering | None:
    from migrate.provers.helm_child import Rendering
    from migrate.provers.rendered import Rendered, memo_of, pairs

    value = cache_store.load(root, DIRECTORY, digest, FORMAT)
    if not isinstance(value, dict) or not isinstance(by_values := value.get("images"), dict):
        return None
    documents = memo_of(value.get("documents"))
    if documents is None:
        return None
    out: Result = {}
    for name, images in by_values.items():
        read = pairs(images)
        if read is None:
            return None
        out[str(name)] = [Rendered(where, image) for where, image in read]
    return Rendering(out, documents)


def store(root: Path, digest: str | None, rendering: Rendering) -> None:
    if any(isinstance(images, str) for images in rendering.result.values()):
        return  # a render that failed may succeed next time (a time limit, a busy machine)
    value = {
        "images": {name: [list(i) for i in images] for name, images in rendering.result.items()},
        "documents": {
            key: [list(pair) for pair in found] for key, found in rendering.documents.items()
        },
    }
    cache_store.store(root, DIRECTORY, digest, FORMAT, value)


def _renderer() -> str:
    """The installed renderer's version: a new Helm may render the same chart otherwise."""
    from importlib import metadata

    try:
        return metadata.version("helm-python-sdk")
    except metadata.PackageNotFoundError:
        return "none"
