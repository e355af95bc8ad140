"""Dockerfile ARG chains: `FROM ${REG}/base:${VER}` resolved from the ARG defaults before the
first FROM, and rewritten through the ARG that leads the name when that ARG holds nothing but
image names (`dockerfile.py` finds the instructions; this reads their variables).

Expansion as the builder's shell lexer does it for FROM: `$VAR`, `${VAR}`, `${VAR:-word}`,
`${VAR:+word}` (https://docs.docker.com/reference/dockerfile/#environment-replacement).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, replace

from migrate import reference
from migrate.occurrence import Occurrence, Part
from migrate.syntax import dotenv

# The variable a reference starts with, plain (`${REG}`, `$REG`): the ARG a rewrite goes through.
LEAD = re.compile(r"\$(?:\{(?P<braced>[A-Za-z_][A-Za-z0-9_]*)\}|(?P<bare>[A-Za-z_][A-Za-z0-9_]*))")
USE = re.compile(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)")


@dataclass(frozen=True)
class Args:
    """The ARGs before the first FROM (the only ones FROM sees) and where they are used."""

    defaults: dict[str, tuple[str, int, int]]  # name -> (default, start, end)
    in_images: Counter[str]
    everywhere: Counter[str]

    def lookup(self, name: str) -> str | None:
        return self.defaults[name][0] if name in self.defaults else None

    def only_images(self, name: str) -> bool:
        return self.everywhere[name] == self.in_images[name]


def uses(text: str) -> Iterator[str]:
    for match in USE.finditer(text):
        yield match[1]


def resolved(kind: str, value: str, args: Args, span: tuple[int, int], shown: str) -> Occurrence:
    """A reference assembled from ARG defaults, reported with its value, not rewritten."""
    expanded = None if "\\$" in value else dotenv.interpolate(value, args.lookup)
    if not expanded:
        missing = [n for n in uses(value) if n not in args.defaults]
        reason = f"ARG {missing[0]} has no default" if missing else "templated value"
        return Occurrence(kind, value, (), *span, reason)
    return Occurrence(kind, expanded, (), *span, note=f"{shown} with the ARG defaults")


def chain(kind: str, value: str, span: tuple[int, int], args: Args) -> Occurrence:
    """`FROM ${REG}/base:${VER}`: resolved from the ARG defaults, and rewritten through the ARG
    that leads the name when it holds nothing but image names: `ARG BASE=node` before
    `${BASE}:${VER}` becomes the target name ('name'); `ARG REG=docker.io` before
    `${REG}/library/node` becomes the cache's prefix for it ('head')."""
    found = resolved(kind, value, args, span, value)
    lead = LEAD.match(value)
    if found.unresolved:
        return found
    if lead is None:
        return replace(found, kept="the name does not start with a plain ${VARIABLE}")
    name = lead["braced"] or lead["bare"]
    default, arg_start, arg_end = args.defaults[name]
    rest = value[lead.end() :]
    cut = re.search(r"[:@]", rest)
    literal = rest[: cut.start()] if cut else rest  # the rest of the name, before the tag
    why = None
    if not args.only_images(name):
        why = f"ARG {name} is also used outside image names"
    elif "$" in literal:
        why = "more than one variable in the name"
    elif literal and not literal.startswith("/"):
        why = f"ARG {name} holds part of a path component"
    elif not literal and ("@" in default or ":" in default.rpartition("/")[2]):
        why = f"ARG {name} holds a tag as well"
    role = "name" if not literal else "head"
    if why is None and role == "head":
        try:
            normalised = reference.parse(found.written).name
        except reference.ReferenceError:
            return found  # the verdict says what is wrong with it
        if normalised != default + literal:  # `${REG}/node` on Docker Hub means library/node
            why = (
                f"{default}{literal} is short for {normalised}: write it out to rewrite ARG {name}"
            )
    if why is not None:
        return replace(found, kept=why)
    return replace(found, parts=(Part(role, arg_start, arg_end),))
