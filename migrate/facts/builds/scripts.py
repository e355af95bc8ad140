"""Makefiles and shell scripts: `docker build`, `docker buildx build`, `docker image build`,
`podman build`, `nerdctl build`, `buildah bud` with `-t`/`--tag`, variables resolved from
the file's own assignments (`IMAGE ?= app`, `IMAGE=app`, `export IMAGE=app`).
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterator
from pathlib import Path

from migrate.context import Repo
from migrate.syntax import dotenv

TOOL = "docker build"
FILES = r"(?:^|/)(?:[Mm]akefile|GNUmakefile|[^/]+\.mk|[^/]+\.(?:sh|bash))$"

_BUILD = re.compile(
    r"\b(?:(?:docker|podman|nerdctl)\s+(?:buildx\s+|image\s+)?build|buildah\s+(?:bud|build))\b"
)
# NAME = value, NAME ?= value, NAME := value, export NAME=value (Make and shell alike)
_ASSIGN = re.compile(
    r"^[ \t]*(?:export[ \t]+|override[ \t]+)?([A-Za-z_][A-Za-z0-9_]*)[ \t]*(?:\?|::?|\+)?=[ \t]*(.*?)[ \t]*$",
    re.MULTILINE,
)
_MAKE_VARIABLE = re.compile(r"\$\(([A-Za-z_][A-Za-z0-9_]*)\)")
_END = frozenset({"&&", "||", ";", "|", "&", ")"})


def names(path: Path, text: str, repo: Repo) -> Iterator[tuple[str, int]]:
    if not _BUILD.search(text):
        return
    joined = text.replace("\\\r\n", "  ").replace("\\\n", " ")  # continuations, offsets kept
    variables = {m[1]: _unquote(m[2]) for m in _ASSIGN.finditer(joined)}
    for match in _BUILD.finditer(joined):
        line_end = joined.find("\n", match.end())
        command = joined[match.end() : line_end if line_end >= 0 else len(joined)]
        for tag in _tags(command):
            value = _resolve(tag, variables)
            if value:
                yield value, text.count("\n", 0, match.start()) + 1


def _tags(command: str) -> Iterator[str]:
    # `$(VAR)` is Make's `${VAR}`; punctuation splits `cmd; next` and `cmd&&next` as a shell does.
    lexer = shlex.shlex(_MAKE_VARIABLE.sub(r"${\1}", command), posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    try:
        words = list(lexer)
    except ValueError:  # an unbalanced quote: not a command we can read
        return
    for i, word in enumerate(words):
        if word in _END or word.startswith((";", "&", "|")):
            return
        if word in ("-t", "--tag") and i + 1 < len(words):
            yield words[i + 1]
        elif word.startswith("--tag="):
            yield word[len("--tag=") :]
        elif word.startswith("-t") and len(word) > 2 and not word.startswith("--"):
            yield word[2:]


def _resolve(value: str, variables: dict[str, str]) -> str | None:
    for _ in range(8):  # variables defined through variables, a few levels deep
        if "$" not in value:
            return value
        value = _MAKE_VARIABLE.sub(lambda m: "${" + m[1] + "}", value)
        resolved = dotenv.interpolate(value, variables.get)
        if resolved is None or resolved == value:  # unset, or `$(command)`: left as it is
            return resolved
        value = resolved
    return None


def _unquote(value: str) -> str:
    value = value.split(" #", 1)[0].strip()
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        return value[1:-1]
    return value
