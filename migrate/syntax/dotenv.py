"""Compose's `.env` and its variable interpolation, for image values that come from variables.

`.env` syntax and interpolation as Docker Compose reads them:
https://docs.docker.com/compose/how-tos/environment-variables/variable-interpolation/
The shell environment also feeds Compose, and wins over `.env`; it is deliberately not read
here: what a repository holds must resolve the same on every machine and in CI.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from migrate.context import Repo

NAME = r"[A-Za-z_][A-Za-z0-9_]*"
_NAME = re.compile(NAME)
# KEY=VALUE, with an optional `export ` and blanks around the `=`.
_ENTRY = re.compile(rf"[ \t]*(?:export[ \t]+)?({NAME})[ \t]*=[ \t]*")
# `$$` is an escaped `$`; anything else that starts like a variable is one.
_REFERENCE = re.compile(rf"\$\$|\$\{{?({NAME})")
_ESCAPES = {"n": "\n", "r": "\r", "t": "\t", "\\": "\\", '"': '"', "$": "$"}

Lookup = Callable[[str], "str | None"]


@dataclass(frozen=True)
class Entry:
    name: str
    value: str  # interpolated (unquoted, double-quoted), or literal (single-quoted)
    line: int  # 1-based
    span: tuple[int, int] | None  # the value's characters, when they are exactly the value


@dataclass(frozen=True)
class DotEnv:
    path: Path | None
    entries: dict[str, Entry]  # the last definition of each name wins, as in Compose
    uses: tuple[str, ...] = ()  # the variables its own values use (`ADDR=${HOST}:80`)

    def get(self, name: str) -> str | None:
        entry = self.entries.get(name)
        return entry.value if entry else None


def parse(text: str, path: Path | None = None) -> DotEnv:
    entries: dict[str, Entry] = {}
    uses: list[str] = []
    lines = text.split("\n")
    offset, index = 0, 0
    while index < len(lines):
        line, start = lines[index], offset
        offset += len(line) + 1
        index += 1
        match = _ENTRY.match(line)
        if match is None or line.lstrip().startswith("#"):
            continue
        raw = line[match.end() :].rstrip("\r")
        at = start + match.end()
        quote = raw[:1]
        if quote in ("'", '"') and raw.find(quote, 1) < 0:
            # A multi-line quoted value: its lines are skipped, it is never an image.
            while index < len(lines) and quote not in lines[index]:
                offset += len(lines[index]) + 1
                index += 1
            if index < len(lines):
                offset += len(lines[index]) + 1
                index += 1
            continue
        value, span = _value(raw, at, quote)
        if quote != "'":
            uses.extend(name for name, _ in references(value))
            interpolated = interpolate(value, lambda n: _get(entries, n))
            if interpolated != value:
                span = None
            value = interpolated if interpolated is not None else value
        entries[match[1]] = Entry(match[1], value, index, span)
    return DotEnv(path, entries, tuple(uses))


def _value(raw: str, at: int, quote: str) -> tuple[str, tuple[int, int] | None]:
    if quote == "'":
        end = raw.find("'", 1)
        return raw[1:end], (at + 1, at + end)
    if quote == '"':
        out, i = [], 1
        while i < len(raw) and raw[i] != '"':
            if raw[i] == "\\" and i + 1 < len(raw):
                out.append(_ESCAPES.get(raw[i + 1], "\\" + raw[i + 1]))
                i += 2
            else:
                out.append(raw[i])
                i += 1
        value = "".join(out)
        return value, (at + 1, at + i) if i - 1 == len(value) else None
    # Unquoted: an inline comment needs a blank before its `#`.
    comment = re.search(r"[ \t]#", raw)
    value = (raw[: comment.start()] if comment else raw).rstrip(" \t")
    return value, (at, at + len(value))


def _get(entries: dict[str, Entry], name: str) -> str | None:
    entry = entries.get(name)
    return entry.value if entry else None


def interpolate(text: str, lookup: Lookup) -> str | None:
    """`$VAR`, `${VAR}`, `${VAR:-default}`, `${VAR-default}`, `${VAR:?err}`, `${VAR:+alt}`
    (nested), `$$`; None when a variable without a default is unset or the syntax is broken."""
    out: list[str] = []
    i = 0
    while i < len(text):
        char = text[i]
        if char != "$":
            out.append(char)
            i += 1
            continue
        following = text[i + 1 : i + 2]
        if following == "$":
            out.append("$")
            i += 2
        elif following == "{":
            end = _closing(text, i + 2)
            if end is None:
                return None
            value = _braced(text[i + 2 : end], lookup)
            if value is None:
                return None
            out.append(value)
            i = end + 1
        elif match := _NAME.match(text, i + 1):
            value = lookup(match[0])
            if value is None:
                return None
            out.append(value)
            i = match.end()
        else:
            out.append(char)
            i += 1
    return "".join(out)


def _closing(text: str, start: int) -> int | None:
    depth = 1
    for i in range(start, len(text)):
        if text[i] == "{":
            depth += 1
        elif text[i] == "}":
            depth -= 1
            if depth == 0:
                return i
    return None


def _braced(inner: str, lookup: Lookup) -> str | None:
    match = _NAME.match(inner)
    if match is None:
        return None
    value, rest = lookup(match[0]), inner[match.end() :]
    if not rest:
        return value
    for operator in (":-", ":?", ":+", "-", "?", "+"):
        if rest.startswith(operator):
            word = rest[len(operator) :]
            is_set = value is not None and (value != "" or not operator.startswith(":"))
            if operator.endswith("-"):
                return value if is_set else interpolate(word, lookup)
            if operator.endswith("?"):
                return value if is_set else None
            return interpolate(word, lookup) if is_set else ""
    return None


def references(text: str) -> Iterator[tuple[str, int]]:
    """Every variable `text` uses, with its offset (nested defaults included, `$$` excluded)."""
    for match in _REFERENCE.finditer(text):
        if match[1]:
            yield match[1], match.start()


def beside(directory: Path, repo: Repo | None) -> DotEnv | None:
    """The `.env` Compose reads for the Compose files of `directory` (their project directory),
    read once per run."""

    def read() -> DotEnv | None:
        path = directory / ".env"
        try:
            return parse(path.read_bytes().decode("utf-8-sig"), path) if path.is_file() else None
        except (OSError, UnicodeDecodeError):
            return None

    return repo.memo(("dotenv", directory), read) if repo is not None else read()
