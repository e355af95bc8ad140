"""Kustomize: `images:` overrides and inline patches.

`newName` is a reference like any other. `name` is what kustomize matches against the images of
the kustomization's resources (https://kubectl.docs.kubernetes.io/references/kustomize/kustomization/images/),
so it may only be renamed together with what it matches. The scan decides what it can from the
repository (`migrate.facts.kustomize.graph`): a name whose resources are remote, generated or unreadable stays
(PTC004); so does one that matches no image of its resources here. A name that matches images
of its resources (or their cache targets: a base migrated before) is rewritten like a
reference, and the kustomize prover (`migrate/provers/kustomize.py`) holds the run to the rule:
the images it matches must be rewritten in the same run, or the rename is refused.

Inline patches (`patches[].patch`, `patchesJson6902[].patch`, `patchesStrategicMerge[]` text)
are scanned as patch files are (`migrate.facts.kustomize.patches`).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

from migrate import reference, registries
from migrate.context import STANDALONE, FileContext
from migrate.facts.kustomize import model, patches
from migrate.facts.kustomize.flow import on_disk
from migrate.facts.kustomize.graph import of as graph_of
from migrate.occurrence import Occurrence
from migrate.syntax import yaml as _yaml
from migrate.syntax.yaml import Mapping, unresolved
from migrate.syntax.yaml import reference as found_reference

NAME = "kustomize"
# The file names kustomize itself recognises (konfig.RecognizedKustomizationFileNames).
FILES = r"(?:^|/)(?:kustomization\.ya?ml|Kustomization)$"
_WORDS = re.compile("images|patch")
REMOTE = "bases are remote: name must match them"
UNREADABLE = "some resources could not be read: name must match them"
UNMATCHED = "matches no image of its resources in this repository: left as it is"
is_remote = model.is_remote

# What the graph knows of a kustomization's resources: (the images its `images:` meet, all known)
_Scope = tuple[list[str], bool]


def by_name(path: Path) -> bool:
    return path.name in model.NAMES


def claims(path: Path, text: str) -> bool:
    return by_name(path)


def scan(text: str, context: FileContext = STANDALONE) -> Iterator[Occurrence]:
    if not _yaml.mentions(text, _WORDS, context):
        return
    found: list[Occurrence] = []
    for doc in _yaml.documents(text, context.parsing):
        if not isinstance(doc, Mapping):
            continue
        kustomization = model.of(doc)
        scope = None if kustomization.remote or not kustomization.entries else _scope(context)
        for entry in kustomization.entries:
            found += _entry(entry, kustomization.remote, scope)
        for node in kustomization.inline_patches:
            found += patches.inline(text, node, context.parsing)
    yield from sorted(found, key=lambda occ: occ.at)


def _entry(entry: model.Entry, remote: bool, scope: _Scope | None) -> Iterator[Occurrence]:
    name = entry.name
    if name is not None:
        if remote:
            yield unresolved("kustomize-name", name.value, name, REMOTE)
        elif scope is not None and not scope[1]:
            yield unresolved("kustomize-name", name.value, name, UNREADABLE)
        elif scope is not None and not any(_follows(image, name.value) for image in scope[0]):
            yield unresolved("kustomize-name", name.value, name, UNMATCHED)
        else:
            yield found_reference("kustomize-name", name, "name")
    new_name = entry.new_name
    if new_name is not None:
        suffix = _yaml.tag_suffix(entry.new_tag, entry.digest)
        written = new_name.value + suffix
        yield found_reference("kustomize-newName", new_name, "name", written=written)


def _scope(context: FileContext) -> _Scope | None:
    """The images this kustomization's `images:` meet, as the repository has them now; None
    without repository facts (a text scanned on its own)."""
    if context.repo is None or context.path is None:
        return None
    try:
        rel = context.path.relative_to(context.repo.root).as_posix()
    except ValueError:
        return None
    graph = graph_of(context.repo)
    directory = rel.rpartition("/")[0]
    if graph.dirs.get(directory) != rel:
        return None
    flow = on_disk(graph)
    if graph.node(directory).component:
        flow.everything()  # a component meets the images of every kustomization using it
    else:
        flow.output(directory)
    images = [image.value for image in flow.seen.get(directory, [])]
    return images, flow.complete.get(directory, False)


def _follows(image: str, name: str) -> bool:
    """Does `name` match `image`, or would it once both are migrated (the image already is)?"""
    if model.matches(image, name):
        return True
    try:
        wanted = reference.parse(name)
        ref = reference.parse(model.split(image)[0])
    except reference.ReferenceError:
        return False
    path = registries.upstream_path(wanted.domain, wanted.path)
    return registries.ecr_host(ref.domain) is not None and ref.path.endswith("/" + path)
