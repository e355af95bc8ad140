"""Buildkite: the images steps run in: the Docker plugin's `image:` and a step's own `image:`
(hosted agents, the Kubernetes agent stack). The Docker Compose plugin's images live in its
compose file, which the compose scanner reads. A step whose plugins include the ECR plugin logs
in before the Docker plugin pulls.
https://github.com/buildkite-plugins/docker-buildkite-plugin
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

from migrate.context import STANDALONE, FileContext
from migrate.kinds import ci as _ci
from migrate.occurrence import Occurrence
from migrate.syntax import yaml as _yaml
from migrate.syntax.yaml import Mapping, Node, Scalar, fields

NAME = "buildkite"
# Renovate's buildkite manager (lib/modules/manager/buildkite/index.ts, 39.x) reads plugin
# versions only, from the same files.
FILES = r"buildkite\.ya?ml$|(?:^|/)\.buildkite/.+\.ya?ml$"
_WORDS = "image"
_DOCKER = r"(?:^|/)docker(?:-buildkite-plugin)?(?:\.git)?#"
_ECR = r"(?:^|/)ecr(?:-buildkite-plugin)?(?:\.git)?#"
_STEP_KEYS = ("command", "commands", "plugins", "label", "key", "name")


by_name = _ci.named(FILES)
# The pattern is a whole directory or a loose name: Compose, Helm values, Kustomize and
# Kubernetes files there are theirs (`registry.scanner_for`).
DEFERS_TO_GENERIC = True


def claims(path: Path, text: str) -> bool:
    return by_name(path)


def scan(text: str, context: FileContext = STANDALONE) -> Iterator[Occurrence]:
    if not _yaml.mentions(text, re.compile(_WORDS), context):
        return
    found: list[Occurrence | None] = []
    docs = _yaml.documents(text, context.parsing)
    for doc in docs:
        if isinstance(doc, Mapping):
            found.append(_ci.image("image", fields(doc).get("image")))
    for mapping in _yaml.mappings(docs):
        keys = fields(mapping)
        if "image" in keys and any(k in keys for k in _STEP_KEYS):
            found.append(_ci.image("image", keys["image"]))
        plugins = list(_plugins(keys.get("plugins")))
        logs_in = any(re.search(_ECR, name) for name, _ in plugins)
        for name, config in plugins:
            if re.search(_DOCKER, name) and isinstance(config, Mapping):
                image = fields(config).get("image")
                found.append(_ci.image("docker-plugin", image, credentials=logs_in))
    yield from _ci.once(found)


def _plugins(node: Node | None) -> Iterator[tuple[str, Node]]:
    """`plugins:` as a list of one-key mappings (or bare names), or as one mapping."""
    entries = _ci.items(node) if not isinstance(node, Mapping) else [node]
    for entry in entries:
        if isinstance(entry, Mapping):
            for key, value in entry.pairs:
                if isinstance(key, Scalar):
                    yield key.value, value
