"""Compose files: `services.*.image`, through `<<:` merges, with `${VAR:-default}` defaults and
the variables of the `.env` beside the file (`kinds/dotenv.py` rewrites those there).

https://docs.docker.com/reference/compose-file/interpolation/
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

from migrate.context import STANDALONE, FileContext
from migrate.kinds import dotenv as dotenv_scanner
from migrate.kinds import helm
from migrate.kinds.paths import YAML_SUFFIXES, in_helm_templates
from migrate.occurrence import Occurrence, Part
from migrate.reference import split_variable_tag as reference_split
from migrate.syntax import dotenv
from migrate.syntax import yaml as _yaml
from migrate.syntax.yaml import Mapping, Scalar, fields, reference, string, unresolved

NAME = "compose"
# By name: compose.yaml, docker-compose.yml, compose.override.yaml, docker-compose.prod.yml;
# other YAML is sniffed for a Compose-shaped `services:`.
FILES = r"\.ya?ml$"
_NAMES = re.compile(r"^(?:docker-)?compose(?:\..+)?\.ya?ml$")
# Sniffing other names stays textual: a top-level `services:` whose first entry is a nested
# mapping (`  web:`), an indented `image:`/`build:`, and no top-level apiVersion/kind.
# GitLab CI's top-level `services:` is a list, so it does not match.
_SERVICES = re.compile(
    r"^services:[ \t]*(?:#.*)?\r?\n(?:[ \t]*(?:#.*)?\r?\n)*[ \t]+[^\s#:-][^:\n]*:[ \t]*(?:#.*)?\r?$",
    re.MULTILINE,
)
_SERVICE_KEY = re.compile(r"^[ \t]+(?:image|build)[ \t]*:", re.MULTILINE)
_KUBERNETES = re.compile(r"^(?:apiVersion|kind)[ \t]*:", re.MULTILINE)
_WORDS = re.compile("image")

_VARIABLE = r"\$\{[A-Za-z_][A-Za-z0-9_]*"
# `${VAR:-default}` / `${VAR-default}` opening the value; a default with `$` or `}` in it is
# nested interpolation, which is not resolved.
_DEFAULT = re.compile(_VARIABLE + r":?-([^${}]*)\}")
_BARE = re.compile(r"^(?:" + _VARIABLE + r"(?::?\?[^}]*)?\}|\$[A-Za-z_][A-Za-z0-9_]*)$")


def by_name(path: Path) -> bool:
    return _NAMES.match(path.name.lower()) is not None and not in_helm_templates(path)


def claims(path: Path, text: str) -> bool:
    name = path.name.lower()
    if not name.endswith(YAML_SUFFIXES) or in_helm_templates(path):
        return False
    if _NAMES.match(name):
        return True
    if helm.is_values(path) or name.startswith("kustomization"):
        return False
    return bool(
        "services:" in text  # first: `_SERVICES` may start at any line start, so is slow
        and _SERVICES.search(text)
        and _SERVICE_KEY.search(text)
        and not _KUBERNETES.search(text)
    )


def scan(text: str, context: FileContext = STANDALONE) -> Iterator[Occurrence]:
    if not _yaml.mentions(text, _WORDS, context):
        return
    # merged `x-*` images come first
    yield from sorted(_images(text, context), key=lambda occ: occ.at)


def services(docs: list[_yaml.Node]) -> Iterator[Mapping]:
    """Every service of every document: `services.<name>` mappings."""
    for doc in docs:
        found = fields(doc).get("services") if isinstance(doc, Mapping) else None
        if isinstance(found, Mapping):
            yield from (s for s in fields(found).values() if isinstance(s, Mapping))


def _images(text: str, context: FileContext) -> Iterator[Occurrence]:
    seen: set[int] = set()  # an anchored image shared by several services is reported once
    env: dotenv.DotEnv | None = None
    if context.path is not None and "$" in text:
        env = dotenv.beside(context.path.parent, context.repo)
    for service in services(_yaml.documents(text, context.parsing)):
        keys = fields(service)
        if "build" in keys:  # then `image:` names the image being built, not pulled
            continue
        node = string(keys.get("image"))
        if node is not None and id(node) not in seen:
            seen.add(id(node))
            if env is not None and _from_env(node.value, env):
                found = _through_env(node, env, context)
                if found is not None:
                    yield found
            else:
                yield _image(node)


def _from_env(value: str, env: dotenv.DotEnv) -> bool:
    """Does the `.env` decide this image's name? (A variable only in the tag is kept as written
    and the reference rewritten in place, as without a `.env`.)"""
    if "$" not in value or "$$" in value or reference_split(value) is not None:
        return False
    return any(name in env.entries for name, _ in dotenv.references(value))


def _through_env(node: Scalar, env: dotenv.DotEnv, context: FileContext) -> Occurrence | None:
    """An image named by `.env`: left to the `.env` scanner when it rewrites the variable there,
    else reported here with the resolved value."""
    assert context.path is not None
    lead = dotenv_scanner.LEAD.match(node.value)
    name = (lead["braced"] or lead["bare"]) if lead else None
    if name in dotenv_scanner.carried(context.path.parent, context.repo):
        # `.env` is rewritten; a default beside it (`${IMAGE:-redis:7}`) is rewritten here.
        return _image(node) if _DEFAULT.match(node.value) else None
    resolved = dotenv.interpolate(node.value, env.get)
    if not resolved:
        return unresolved("image", node.value, node, "variable without default")
    used = dict.fromkeys(n for n, _ in dotenv.references(node.value) if n in env.entries)
    source = ", ".join(f"{n} from .env:{env.entries[n].line}" for n in used)
    whole = lead is not None and node.value[lead.end() :][:1] in ("", ":", "@")
    why = (
        f"{name} in .env is used for more than this image's name"
        if whole and name in env.entries
        else "a variable holds part of the name"
    )
    note = f"{node.value} with {source}"
    return Occurrence("image", resolved, (), *_yaml.where(node), note=note, kept=why)


def _image(node: Scalar) -> Occurrence:
    value = node.value
    if node.span is None or "$" not in value:
        return reference("image", node)
    if "$$" in value:
        # `$$` is a literal `$`; no valid reference holds one, and the engine cannot prove its
        # rewrite keeps the escape, so it is refused.
        return unresolved("image", value, node, "literal $$ in image")
    if _BARE.match(value):
        return unresolved("image", value, node, "variable without default")
    match = _DEFAULT.match(value)
    if match is None:
        return reference("image", node)  # a variable in the tag only is fine; else unresolved
    default, rest = match[1], value[match.end() :]
    start, end = node.span[0] + match.start(1), node.span[0] + match.end(1)
    if not default:
        return unresolved("compose-default", value, node, "empty default")
    if _yaml.templated(default) is not None:
        return unresolved("compose-default", value, node, "variable in image name")
    if not rest:
        return Occurrence("compose-default", default, (Part("ref", start, end),), start, end)
    has_tag = "@" in default or ":" in default and "/" not in default.rpartition(":")[2]
    if rest[0] not in ":@" or has_tag:
        return unresolved("compose-default", value, node, "variable in image name")
    # `${IMAGE:-nginx}:${TAG}`: the default is the name, the tag follows the variable.
    return Occurrence("compose-default", default + rest, (Part("name", start, end),), start, end)
