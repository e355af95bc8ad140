"""Woodpecker CI: `steps` and `services` as a list or a map, the old `pipeline:` map and
`clone:` steps; anchored images (`variables: [&golang 'golang:1.24']`, `image: *golang`) are
reported once, at the anchor. Registry credentials live in the server or repository settings,
not in the file. https://woodpecker-ci.org/docs/usage/workflow-syntax
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from migrate.context import STANDALONE, FileContext
from migrate.kinds import ci as _ci
from migrate.occurrence import Occurrence
from migrate.syntax.yaml import Mapping, Node

NAME = "woodpecker"
# Renovate's woodpecker manager (lib/modules/manager/woodpecker/index.ts, 39.x); `^` there is
# the repository root, here any directory.
FILES = r"(?:^|/)\.woodpecker(?:/[^/]+)?\.ya?ml$"
_WORDS = "image"
_SECTIONS = ("steps", "services", "pipeline", "clone")


by_name = _ci.named(FILES)


def claims(path: Path, text: str) -> bool:
    return by_name(path)


def scan(text: str, context: FileContext = STANDALONE) -> Iterator[Occurrence]:
    found: list[Occurrence | None] = []
    for keys in _ci.top_mappings(text, _WORDS, context):
        for section in _SECTIONS:
            kind = "service" if section == "services" else "step"
            for entry in _entries(keys.get(section)):
                found.append(_ci.image(kind, entry.get("image")))
    yield from _ci.once(found)


def _entries(node: Node | None) -> Iterator[dict[str, Node]]:
    yield from _ci.mapping_values(node) if isinstance(node, Mapping) else _ci.mapping_items(node)
