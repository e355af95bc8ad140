"""Tilt: `docker_build(ref, ...)` and `custom_build(ref, ...)` in a Tiltfile (Starlark).

https://docs.tilt.dev/api.html#api.docker_build
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

from migrate.context import Repo

TOOL = "Tilt"
# The first argument, positional or `ref=`, as a string literal; a computed ref is not known.
_BUILD = re.compile(
    r"""\b(?:docker_build|custom_build|docker_build_with_restart)\s*\(\s*(?:ref\s*=\s*)?"""
    r"""(?P<q>['"])(?P<ref>[^'"\n]+)(?P=q)"""
)


def names(path: Path, text: str, repo: Repo) -> Iterator[tuple[str, int]]:
    for match in _BUILD.finditer(text):
        line_start = text.rfind("\n", 0, match.start()) + 1
        if "#" in text[line_start : match.start()]:  # commented out
            continue
        yield match["ref"], text.count("\n", 0, match.start()) + 1
