"""Kustomize: `images:` overrides.

`newName` is a reference like any other. `name` is what kustomize matches against the images of
the bases (https://kubectl.docs.kubernetes.io/references/kustomize/kustomization/images/), so it
must become whatever those images become: when every base is a local path, the bases are
migrated too and `name` follows them (role 'name', the same target name); when a base is remote,
its images stay as they are and so must `name` (PTC004).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

from migrate.context import STANDALONE, FileContext
from migrate.occurrence import Occurrence
from migrate.scanners import _yaml
from migrate.scanners._yaml import Mapping, Node, Sequence, fields, reference, string, unresolved

NAME = "kustomize"
# The file names kustomize itself recognises (konfig.RecognizedKustomizationFileNames).
FILES = r"(?:^|/)(?:kustomization\.ya?ml|Kustomization)$"
_NAMES = frozenset({"kustomization.yaml", "kustomization.yml", "Kustomization"})
_BASE_KEYS = ("resources", "bases", "components")
# Remote targets: URLs, git forms, `?ref=` query, or a host-like first component
# (`github.com/org/repo//path`). https://github.com/kubernetes-sigs/kustomize/blob/master/examples/remoteBuild.md
_REMOTE = re.compile(
    r"^(?:[a-z][a-z0-9+.-]*://|git@|git::|ssh:)|\?(?:ref|version|timeout|submodules)=",
    re.IGNORECASE,
)
_HOST_LIKE = re.compile(r"^[a-z0-9-]+(?:\.[a-z0-9-]+)+/", re.IGNORECASE)
_WORDS = re.compile("images")
REMOTE = "bases are remote: name must match them"


def by_name(path: Path) -> bool:
    return path.name in _NAMES


def claims(path: Path, text: str) -> bool:
    return by_name(path)


def scan(text: str, context: FileContext = STANDALONE) -> Iterator[Occurrence]:
    if not _yaml.mentions(text, _WORDS, context):
        return
    for doc in _yaml.documents(text, context.parsing):
        if not isinstance(doc, Mapping):
            continue
        keys = fields(doc)
        images = keys.get("images")
        if not isinstance(images, Sequence):
            continue
        remote = _has_remote_base(keys)
        for entry in images.items:
            if isinstance(entry, Mapping):
                yield from _entry(fields(entry), remote)


def _entry(keys: dict[str, Node], remote: bool) -> Iterator[Occurrence]:
    name = string(keys.get("name"))
    if name is not None:
        if remote:
            yield unresolved("kustomize-name", name.value, name, REMOTE)
        else:
            yield reference("kustomize-name", name, "name")
    new_name = string(keys.get("newName"))
    if new_name is not None:
        suffix = _yaml.tag_suffix(keys.get("newTag"), keys.get("digest"))
        yield reference("kustomize-newName", new_name, "name", written=new_name.value + suffix)


def _has_remote_base(keys: dict[str, Node]) -> bool:
    # Images produced by chart inflation come from outside the repository as well.
    if "helmCharts" in keys or "helmChartInflationGenerator" in keys:
        return True
    for key in _BASE_KEYS:
        entries = keys.get(key)
        if isinstance(entries, Sequence):
            for item in entries.items:
                base = string(item)
                if base is not None and is_remote(base.value):
                    return True
    return False


def is_remote(base: str) -> bool:
    if _REMOTE.search(base):
        return True
    host = base.split("/", 1)[0]
    return bool(_HOST_LIKE.match(base)) and not host.endswith((".yaml", ".yml", ".json"))
