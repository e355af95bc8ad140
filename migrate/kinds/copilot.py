"""AWS Copilot service and job manifests: `image.location`, each sidecar's `image` (a string or
its `location`) and `logging.image`, at the top level and in each `environments.<name>`
override. `image.build` is built by Copilot and pushed to the app's own ECR: never read.
https://aws.github.io/copilot-cli/docs/manifest/lb-web-service/#image-location
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from migrate.context import STANDALONE, FileContext
from migrate.kinds import ci as _ci
from migrate.occurrence import Occurrence
from migrate.syntax.yaml import Mapping, Node, fields, string

NAME = "copilot"
# `copilot/<service>/manifest.yml`; environment manifests (`copilot/environments/<env>/`) are
# one level deeper and hold no image.
FILES = r"(?:^|/)copilot/[^/]+/manifest\.ya?ml$"
_WORDS = "image"


by_name = _ci.named(FILES)


def claims(path: Path, text: str) -> bool:
    return by_name(path)


def scan(text: str, context: FileContext = STANDALONE) -> Iterator[Occurrence]:
    found: list[Occurrence | None] = []
    for keys in _ci.top_mappings(text, _WORDS, context):
        found.extend(_images(keys))
        for overrides in _ci.mapping_values(keys.get("environments")):
            found.extend(_images(overrides))
    yield from _ci.once(found)


def _images(keys: dict[str, Node]) -> Iterator[Occurrence | None]:
    yield _location("image", keys.get("image"))
    for sidecar in _ci.mapping_values(keys.get("sidecars")):
        image = sidecar.get("image")
        yield _location("sidecar", image) if string(image) is None else _ci.image("sidecar", image)
    logging = keys.get("logging")
    if isinstance(logging, Mapping):
        yield _ci.image("logging", fields(logging).get("image"))


def _location(kind: str, node: Node | None) -> Occurrence | None:
    return _ci.image(kind, fields(node).get("location")) if isinstance(node, Mapping) else None
