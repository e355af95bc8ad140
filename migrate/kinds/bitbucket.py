"""Bitbucket Pipelines: `image:` (a string or `name:`) at the top and in every step, service
images under `definitions.services`, and `pipe: docker://IMAGE` steps.

An image mapping can carry its own credentials (`username`/`password`, or `aws:` with an
access key or an `oidc-role`), which is what pulling from private ECR needs.
https://support.atlassian.com/bitbucket-cloud/docs/use-docker-images-as-build-environments/
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

from migrate.context import STANDALONE, FileContext
from migrate.kinds import ci as _ci
from migrate.occurrence import Occurrence
from migrate.syntax import yaml as _yaml
from migrate.syntax.yaml import Mapping, Scalar, fields

NAME = "bitbucket-pipelines"
# Renovate's bitbucket-pipelines manager (lib/modules/manager/bitbucket-pipelines/index.ts, 39.x).
FILES = r"(?:^|/)\.?bitbucket-pipelines\.ya?ml$"
_WORDS = "image|docker://"
_CREDENTIALS = ("username", "password", "aws")


by_name = _ci.named(FILES)


def claims(path: Path, text: str) -> bool:
    return by_name(path)


def scan(text: str, context: FileContext = STANDALONE) -> Iterator[Occurrence]:
    if not _yaml.mentions(text, re.compile(_WORDS), context):
        return
    found: list[Occurrence | None] = []
    # Images sit at the top, in steps at any depth (parallel, stages, custom pipelines, steps
    # anchored under `definitions`) and in service definitions: every `image` key is one.
    for mapping in _yaml.mappings(_yaml.documents(text, context.parsing)):
        for key, value in mapping.pairs:
            if not isinstance(key, Scalar):
                continue
            if key.value == "image":
                credentials = isinstance(value, Mapping) and any(
                    k in fields(value) for k in _CREDENTIALS
                )
                node = _ci.image_or_name(value, "name")
                found.append(_ci.image("image", node, credentials=credentials))
            elif key.value == "pipe":
                found.append(_ci.image("pipe", value, prefix="docker://"))
    yield from _ci.once(found)
