"""Kubernetes manifests: container images only, in every document (`_containers`: the
containers of pod templates at any depth, image volumes, the container-shaped fields of common
CRDs). An `image:` key anywhere else — a volume plugin's `rbd.image`, a CRD's own setting, text
in a ConfigMap — is not a reference this tool may rewrite.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

from migrate.context import STANDALONE, FileContext
from migrate.kinds import containers as _containers
from migrate.kinds.paths import YAML_SUFFIXES, in_helm_templates
from migrate.occurrence import Occurrence
from migrate.syntax import prefilter as _prefilter
from migrate.syntax import yaml as _yaml

NAME = "kubernetes"
# No naming convention: any YAML whose documents have a top-level apiVersion and kind.
FILES = r"\.ya?ml$"

# Top-level keys start a line; a manifest inside a block scalar (indented) does not count.
_API_VERSION = re.compile(r"""^["']?apiVersion["']?[ \t]*:""", re.MULTILINE)
_KIND = re.compile(r"""^["']?kind["']?[ \t]*:""", re.MULTILINE)
_WORDS = re.compile("image|package")
# The keys an image can sit under, with the child keys that make a mapping value hold one
# (`_prefilter`: a CRD's schema names them as properties, with no image anywhere).
_KEYS = {"image": ("reference",), "package": ()}


def by_name(path: Path) -> bool:
    return False


def claims(path: Path, text: str) -> bool:
    if not path.name.lower().endswith(YAML_SUFFIXES) or in_helm_templates(path):
        return False
    if "templates" in path.parts[:-1] and "{{" in text:
        return False  # a chart's templates whose Chart.yaml is not in view: Go, not YAML
    return bool(_API_VERSION.search(text) and _KIND.search(text))


def scan(text: str, context: FileContext = STANDALONE) -> Iterator[Occurrence]:
    # More than the word: CRD schemas name `image` as a property hundreds of times, with
    # mapping values that hold no image (`_prefilter`); such files are not composed at all.
    if not _yaml.mentions(text, _WORDS, context):
        return
    if not any(_prefilter.may_hold(text, k, c, context.parsing) for k, c in _KEYS.items()):
        return
    docs = _prefilter.documents(text, _KEYS, context.parsing)  # the CRDs of a bundle are skipped
    found = [
        _containers.occurrence(key, node)
        for doc in docs
        for key, node in _containers.keyed_images(doc)
    ]
    yield from sorted(found, key=lambda occ: occ.at)  # walk order != text order
