"""Drone: the images of each pipeline's `steps` and `services`, in every document of
`.drone.yml`. A pipeline's `image_pull_secrets` is where its registry credentials go.
https://docs.drone.io/pipeline/docker/syntax/images/

Drone 0.8's syntax, which Renovate still reads: `pipeline:` (and `clone:`, `services:`) as maps
of steps by name (https://0-8-0.docs.drone.io/pipeline-steps/); its registry credentials live
in the server's registry settings, not in the file.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from migrate.context import STANDALONE, FileContext
from migrate.kinds import ci as _ci
from migrate.occurrence import Occurrence
from migrate.syntax.yaml import Mapping

NAME = "drone"
# Renovate's droneci manager (lib/modules/manager/droneci/index.ts, 39.x).
FILES = r"(?:^|/)\.drone\.yml$"
_WORDS = "image"


by_name = _ci.named(FILES)


def claims(path: Path, text: str) -> bool:
    return by_name(path)


def scan(text: str, context: FileContext = STANDALONE) -> Iterator[Occurrence]:
    found: list[Occurrence | None] = []
    for keys in _ci.top_mappings(text, _WORDS, context):
        credentials = "image_pull_secrets" in keys
        for section in ("steps", "services"):
            for entry in _ci.mapping_items(keys.get(section)):
                found.append(_ci.image(section[:-1], entry.get("image"), credentials=credentials))
        for section in ("pipeline", "services", "clone"):  # 0.8: maps of steps by name
            node = keys.get(section)
            if isinstance(node, Mapping):
                kind = "service" if section == "services" else "step"
                found += (_ci.image(kind, entry.get("image")) for entry in _ci.mapping_values(node))
    yield from _ci.once(found)
