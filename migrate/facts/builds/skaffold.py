"""skaffold: `build.artifacts[].image`, in every config of the file and in every profile.

https://skaffold.dev/docs/references/yaml/#build-artifacts
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from migrate.context import Repo
from migrate.occurrence import ScanError

if TYPE_CHECKING:
    from migrate.syntax import yaml as _yaml
    from migrate.syntax.yaml import Mapping

TOOL = "skaffold"


def names(path: Path, text: str, repo: Repo) -> Iterator[tuple[str, int]]:
    if "artifacts" not in text:
        return
    from migrate.syntax import yaml as _yaml  # only for a skaffold file that builds
    from migrate.syntax.yaml import fields, string

    try:
        docs = _yaml.documents(text)
    except ScanError:
        return
    for doc in docs:
        for artifact in artifacts(doc):
            image = string(fields(artifact).get("image"))
            if image is not None:
                yield image.value, text.count("\n", 0, image.start) + 1


def artifacts(doc: _yaml.Node | None) -> Iterator[Mapping]:
    """The artifact mappings of one skaffold config document (top level and profiles)."""
    from migrate.syntax.yaml import Mapping, fields, string

    if not isinstance(doc, Mapping):
        return
    keys = fields(doc)
    api = string(keys.get("apiVersion"))
    if api is None or not api.value.startswith("skaffold/"):
        return
    profiles = keys.get("profiles")
    configs = [keys, *(fields(p) for p in getattr(profiles, "items", ()) if isinstance(p, Mapping))]
    for config in configs:
        build = config.get("build")
        found = fields(build).get("artifacts") if isinstance(build, Mapping) else None
        for artifact in getattr(found, "items", ()):
            if isinstance(artifact, Mapping):
                yield artifact
