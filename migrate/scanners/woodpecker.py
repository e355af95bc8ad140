"""Woodpecker CI: `steps` and `services` as a list or a map, the old `pipeline:` map and
`clone:` steps; anchored images (`variables: [&golang 'golang:1.24']`, `image: *golang`) are
reported once, at the anchor. Registry credentials live in the server or repository settings,
not in the file. https://woodpecker-ci.org/docs/usage/workflow-syntax
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

from migrate.context import STANDALONE, FileContext
from migrate.occurrence import Occurrence
from migrate.scanners import _ci, _yaml
from migrate.scanners._yaml import Mapping, Node, fields

NAME = "woodpecker"
# Renovate's woodpecker manager (lib/modules/manager/woodpecker/index.ts, 39.x); `^` there is
# the repository root, here any directory.
FILES = r"(?:^|/)\.woodpecker(?:/[^/]+)?\.ya?ml$"
_WORDS = "image"
_SECTIONS = ("steps", "services", "pipeline", "clone")


def by_name(path: Path) -> bool:
    return re.search(FILES, path.as_posix()) is not None


def claims(path: Path, text: str) -> bool:
    return by_name(path)


def scan(text: str, context: FileContext = STANDALONE) -> Iterator[Occurrence]:
    if not _yaml.mentions(text, re.compile(_WORDS), context):
        return
    found: list[Occurrence | None] = []
    for doc in _yaml.documents(text, context.parsing):
        if not isinstance(doc, Mapping):
            continue
        keys = fields(doc)
        for section in _SECTIONS:
            kind = "service" if section == "services" else "step"
            for entry in _entries(keys.get(section)):
                found.append(_ci.image(kind, entry.get("image")))
    yield from _ci.once(found)


def _entries(node: Node | None) -> Iterator[dict[str, Node]]:
    yield from _ci.mapping_values(node) if isinstance(node, Mapping) else _ci.mapping_items(node)
