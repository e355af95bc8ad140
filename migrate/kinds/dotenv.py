"""Compose `.env` files: the values of variables that the Compose files beside them use as
nothing but images (`image: ${FLAGD_IMAGE}`), rewritten where they are written.

A variable that anything else also uses (another value, a port, a built image's tag) is left
alone here; the Compose file reports its image with the resolved value instead.
https://docs.docker.com/compose/how-tos/environment-variables/variable-interpolation/
"""

from __future__ import annotations

import os
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from migrate.context import STANDALONE, FileContext, Repo
from migrate.occurrence import Occurrence, Part, ScanError
from migrate.syntax import dotenv
from migrate.syntax import yaml as _yaml
from migrate.syntax.yaml import Mapping, fields, string

NAME = "dotenv"
FILES = r"(?:^|/)\.env$"
# The Compose file names Compose itself looks for, and their -f variants (compose.prod.yaml).
COMPOSE_NAMES = re.compile(r"^(?:docker-)?compose(?:\..+)?\.ya?ml$")
# An image value led by one variable: the whole value (`${IMAGE}`) or the name before a tag.
LEAD = re.compile(
    r"^\$(?:\{(?P<braced>[A-Za-z_][A-Za-z0-9_]*)(?::?-[^{}$]*)?\}|(?P<bare>[A-Za-z_][A-Za-z0-9_]*))"
)


def by_name(path: Path) -> bool:
    return False


def claims(path: Path, text: str) -> bool:
    return path.name == ".env" and bool(compose_files(path.parent))


@dataclass(frozen=True)
class ImageVariable:
    """A variable the Compose files use as nothing but the name of pulled images."""

    role: str  # 'ref': the whole reference (`${IMAGE}`); 'name': before a tag (`${IMAGE}:1`)
    tail: str  # what follows it in its first use (`:${TAG}`), for the reference it makes
    services: tuple[str, ...]  # "compose.yaml: web", where it is used


def scan(text: str, context: FileContext = STANDALONE) -> Iterator[Occurrence]:
    if context.path is None:
        return
    env = dotenv.parse(text, context.path)
    variables = image_variables(context.path.parent, context.repo, env)
    for name, use in variables.items():
        entry = env.entries.get(name)
        if entry is None or not entry.value:
            continue
        tail = (dotenv.interpolate(use.tail, env.get) or "") if use.role == "name" else ""
        written = entry.value + tail
        note = f"the image of {', '.join(use.services)}"
        if entry.span is None:
            at = _line_start(text, entry.line)
            kept = "the value is built from other variables or has escapes"
            yield Occurrence("dotenv", written, (), at, at, note=note, kept=kept)
        else:
            parts = (Part(use.role, *entry.span),)
            yield Occurrence("dotenv", written, parts, *entry.span, note=note)


def image_variables(
    directory: Path, repo: Repo | None, env: dotenv.DotEnv
) -> dict[str, ImageVariable]:
    """The variables of `env` that the Compose files of `directory` use only as pulled images'
    names, each always the same way; a Compose file that does not parse makes it none."""
    total: Counter[str] = Counter(env.uses)
    found: dict[str, list[tuple[str, str, str]]] = {}
    for path in compose_files(directory):
        text = _read(path, repo)
        if text is None:
            return {}
        total.update(name for name, _ in dotenv.references(text))
        try:
            images = list(_pulled_images(text))
        except ScanError:
            return {}
        for service, value in images:
            lead = LEAD.match(value)
            if lead is None:
                continue
            rest = value[lead.end() :]
            if rest and rest[0] not in ":@":
                continue
            name = lead["braced"] or lead["bare"]
            found.setdefault(name, []).append(
                ("name" if rest else "ref", rest, f"{path.name}: {service}")
            )
    out = {}
    for name, uses in found.items():
        roles = {role for role, _, _ in uses}
        if len(roles) == 1 and len(uses) == total[name] and name in env.entries:
            out[name] = ImageVariable(roles.pop(), uses[0][1], tuple(u[2] for u in uses))
    return out


def carried(directory: Path, repo: Repo | None) -> dict[str, ImageVariable]:
    """`image_variables` for the `.env` on disk, once per run: what the Compose scanner leaves
    to the `.env` it reads."""

    def compute() -> dict[str, ImageVariable]:
        env = dotenv.beside(directory, repo)
        return image_variables(directory, repo, env) if env is not None else {}

    return repo.memo(("dotenv-carried", directory), compute) if repo is not None else compute()


def compose_files(directory: Path) -> list[Path]:
    try:
        names = sorted(os.listdir(directory))
    except OSError:
        return []
    return [
        directory / n for n in names if COMPOSE_NAMES.match(n.lower()) and (directory / n).is_file()
    ]


def _pulled_images(text: str) -> Iterator[tuple[str, str]]:
    """(service, image value) of every service that pulls its image (no `build:`); an anchored
    value shared by several services counts once, as its text is there once."""
    seen: set[int] = set()
    for doc in _yaml.documents(text):
        services = fields(doc).get("services") if isinstance(doc, Mapping) else None
        if not isinstance(services, Mapping):
            continue
        for service, node in fields(services).items():
            keys = fields(node) if isinstance(node, Mapping) else {}
            image = string(keys.get("image"))
            if image is not None and "build" not in keys and id(image) not in seen:
                seen.add(id(image))
                yield service, image.value


def _read(path: Path, repo: Repo | None) -> str | None:
    def read() -> str | None:
        try:
            return path.read_bytes().decode("utf-8-sig")
        except (OSError, UnicodeDecodeError):
            return None

    return repo.memo(("text", path), read) if repo is not None else read()


def _line_start(text: str, line: int) -> int:
    at = 0
    for _ in range(line - 1):
        at = text.index("\n", at) + 1
    return at
