"""Docker Bake: the `tags` of every target, in `docker-bake.hcl` and `docker-bake.json` (and
their `.override` files), with `${VAR}` from the file's `variable` defaults.

https://docs.docker.com/build/bake/reference/#targettags
HCL is read with two regular expressions, not python-hcl2: that library spends ~1 s building
its parser on every run, ten times a hook's whole budget, and bake files name tags plainly.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from migrate import dotenv
from migrate.context import Repo

TOOL = "Bake"
FILES = r"(?:^|/)docker-bake(?:\.[^/]*)?\.(?:hcl|json)$"
_STRING = r'"((?:[^"\\\n]|\\.)*)"'
_TAGS = re.compile(r"(?m)^[ \t]*tags[ \t]*=[ \t]*\[([^\]]*)\]")
_VARIABLE = re.compile(
    r'(?m)^[ \t]*variable[ \t]+"([A-Za-z_][A-Za-z0-9_-]*)"[ \t]*\{[^}]*?\bdefault[ \t]*=[ \t]*'
    + _STRING
)
_COMMENT = re.compile(r"(?m)(?:#|//).*$")


def names(path: Path, text: str, repo: Repo) -> Iterator[tuple[str, int]]:
    if path.suffix == ".json":
        yield from _json(text)
        return
    defaults = {m[1]: m[2] for m in _VARIABLE.finditer(text)}
    for match in _TAGS.finditer(text):
        listed = _COMMENT.sub("", match[1])
        for tag in re.finditer(_STRING, listed):
            value = dotenv.interpolate(tag[1], defaults.get) if "$" in tag[1] else tag[1]
            if value:
                yield value, text.count("\n", 0, match.start()) + 1


def _json(text: str) -> Iterator[tuple[str, int]]:
    try:
        data: Any = json.loads(text)
    except ValueError:
        return
    targets = data.get("target") if isinstance(data, dict) else None
    variables = data.get("variable") if isinstance(data, dict) else None
    defaults = {
        name: str(spec["default"])
        for name, spec in (variables or {}).items()
        if isinstance(spec, dict) and "default" in spec
    }
    for target in (targets or {}).values():
        tags = target.get("tags") if isinstance(target, dict) else None
        for tag in tags if isinstance(tags, list) else ():
            if isinstance(tag, str):
                value = dotenv.interpolate(tag, defaults.get) if "$" in tag else tag
                if value:
                    yield value, _line(text, tag)


def _line(text: str, value: str) -> int:
    at = text.find(json.dumps(value))
    return text.count("\n", 0, at) + 1 if at >= 0 else 1
