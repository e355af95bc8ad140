"""Dev containers: `"image"` of `devcontainer.json` (JSON with comments and trailing commas).
`features` are OCI artifacts, not images; `dockerComposeFile` points at a Compose file the
compose scanner reads; `build.dockerfile` at a Dockerfile.
https://containers.dev/implementors/json_reference/#image-specific
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

from migrate.context import STANDALONE, FileContext
from migrate.kinds import ci as _ci
from migrate.occurrence import Occurrence
from migrate.syntax.yaml import Mapping, fields

NAME = "devcontainer"
# Renovate's devcontainer manager (lib/modules/manager/devcontainer/index.ts: the first two
# in 39.x, the third since); `^` there is the repository root, here any directory.
FILES = r"(?:^|/)\.devcontainer(?:/[^/]+)?/devcontainer\.json$|(?:^|/)\.devcontainer\.json$"
_WORDS = "image"


by_name = _ci.named(FILES)


def claims(path: Path, text: str) -> bool:
    return by_name(path)


def scan(text: str, context: FileContext = STANDALONE) -> Iterator[Occurrence]:
    if not context.named and re.search(_WORDS, text) is None:
        return
    from migrate.syntax import jsonc as _jsonc  # only when a dev container is read

    doc = _jsonc.document(text)
    if isinstance(doc, Mapping):
        found = _ci.image("image", fields(doc).get("image"))
        if found is not None:
            yield found
