"""Makefiles and shell scripts: `docker build`, `docker buildx build`, `docker image build`,
`podman build`, `nerdctl build`, `buildah bud` with `-t`/`--tag`, variables resolved from
the file's own assignments (`IMAGE ?= app`, `IMAGE := app`, `IMAGE=app`, `export IMAGE=app`)
and defaults (`IMAGE=${IMAGE:-app}`, `: "${IMAGE:=app}"`): the name a build gets when the
caller sets nothing. `builds_in` reads a CI step's script the same way (`ci_scripts`).
"""

from __future__ import annotations

import functools
import re
import shlex
from collections.abc import Iterator, Mapping
from pathlib import Path

from migrate.context import Repo
from migrate.syntax import dotenv

TOOL = "docker build"

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


# `${NAME:=word}` assigns word when NAME is unset (`: "${IMAGE:=app}"`, or inline).
_DEFAULT_ASSIGN = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(:?)=([^{}$]*)\}")


def names(path: Path, text: str, repo: Repo) -> Iterator[tuple[str, int]]:
    for name, offset in builds_in(text):
        yield name, text.count("\n", 0, offset) + 1


def mentions_build(text: str) -> bool:
    return _BUILD.search(text) is not None


def builds_in(text: str, outer: Mapping[str, str] | None = None) -> Iterator[tuple[str, int]]:
    """The tags `text` builds, with the offset of each build command; `outer`: variables set
    around the script (a CI job's and pipeline's), which its own assignments override."""
    if not _BUILD.search(text):
        return
    joined = text.replace("\\\r\n", "  ").replace("\\\n", " ")  # continuations, offsets kept
    variables = dict(outer or {})
    for match in _DEFAULT_ASSIGN.finditer(joined):
        variables.setdefault(match[1], match[3])
    for match in _ASSIGN.finditer(joined):
        value = _unquote(match[2])
        # `NAME=${NAME:-x}` reads the value NAME had before: unset here, so the default
        variables[match[1]] = _resolve(value, variables) or value
    for match in _BUILD.finditer(joined):
        line_end = joined.find("\n", match.end())
        command = joined[match.end() : line_end if line_end >= 0 else len(joined)]
        for tag in _tags(command):
            name = _resolve(tag, variables)
            if name and _name_known(name):
                yield name, match.start()


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


def _resolve(value: str, variables: Mapping[str, str]) -> str | None:
    """`value` with variables substituted; a variable set nowhere stays as written (in a tag,
    `app:${TAG}` still names `app`); None where a name cannot be read (`$(command)`)."""
    for _ in range(8):  # variables defined through variables, a few levels deep
        if "$" not in value:
            return value
        value = _DEFAULT_ASSIGN.sub(r"${\1\2-\3}", _MAKE_VARIABLE.sub(r"${\1}", value))
        resolved = dotenv.interpolate(value, variables.get)
        if resolved is None:  # something unset without a default: keep it as written
            resolved = dotenv.interpolate(value, functools.partial(_as_written, variables))
        if resolved is None or resolved == value:  # `$(command)`: left as it is
            return resolved
        value = resolved
    return None


def _as_written(variables: Mapping[str, str], name: str) -> str:
    return variables.get(name) or "${" + name + "}"


def _name_known(value: str) -> bool:
    """Only the tag may still hold a variable (`app:${TAG}`)."""
    head = value.partition("$")[0]
    return head == value or ":" in head.rpartition("/")[2]


def _unquote(value: str) -> str:
    value = value.split(" #", 1)[0].strip()
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        return value[1:-1]
    return value
