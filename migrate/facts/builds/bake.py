"""Docker Bake: the `tags` of every target, in `docker-bake.hcl` and `docker-bake.json` (and
their `.override` files), with `${VAR}` from the file's `variable` defaults, and the named
contexts that another target builds (`contexts = { base = "target:base" }`).

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

from migrate.context import Repo
from migrate.syntax import dotenv

TOOL = "Bake"
_STRING = r'"((?:[^"\\\n]|\\.)*)"'
_TAGS = re.compile(r"(?m)^[ \t]*tags[ \t]*=[ \t]*\[([^\]]*)\]")
_VARIABLE = re.compile(
    r'(?m)^[ \t]*variable[ \t]+"([A-Za-z_][A-Za-z0-9_-]*)"[ \t]*\{[^}]*?\bdefault[ \t]*=[ \t]*'
    + _STRING
)
_COMMENT = re.compile(r"(?m)(?:#|//).*$")
# Named contexts (`contexts = { base = "target:base" }`): a Dockerfile's `FROM base` is then the
# output of another target, built here. https://docs.docker.com/build/bake/contexts/
_CONTEXTS = re.compile(r"(?m)^[ \t]*contexts[ \t]*=[ \t]*\{([^}]*)\}")
_CONTEXT = re.compile(r'(?m)^[ \t]*"?([A-Za-z0-9][A-Za-z0-9_.:/-]*)"?[ \t]*=[ \t]*"target:')


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
    for match in _CONTEXTS.finditer(text):
        for name in _CONTEXT.finditer(match[1]):
            yield name[1], text.count("\n", 0, match.start(1) + name.start(1)) + 1


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
        if not isinstance(target, dict):
            continue
        tags = target.get("tags")
        for tag in tags if isinstance(tags, list) else ():
            if isinstance(tag, str):
                value = dotenv.interpolate(tag, defaults.get) if "$" in tag else tag
                if value:
                    yield value, _line(text, tag)
        contexts = target.get("contexts")
        for name, source in contexts.items() if isinstance(contexts, dict) else ():
            if isinstance(source, str) and source.startswith("target:"):
                yield name, _line(text, name)


def _line(text: str, value: str) -> int:
    at = text.find(json.dumps(value))
    return text.count("\n", 0, at) + 1 if at >= 0 else 1
