"""The one place that builds replacement text: plan edits from a verdict, splice them in."""

from __future__ import annotations

import itertools
import re
from typing import NamedTuple

from migrate.classify import Verdict
from migrate.occurrence import Occurrence


class Edit(NamedTuple):
    start: int
    end: int
    old: str  # the text the edit expects at [start, end): refuses to apply otherwise
    new: str


class EditConflict(Exception):
    pass


def plan(text: str, occurrence: Occurrence, verdict: Verdict, registry: str) -> list[Edit]:
    assert verdict.target_name and verdict.repository and verdict.ref
    edits = []
    for role, start, end in occurrence.parts:
        old = text[start:end]
        if role == "ref":
            new = verdict.target_name + old[len(_written_name(old, verdict)) :]
        elif role == "name":
            new = verdict.target_name
        elif role == "registry":
            new = registry
        elif role == "path":
            new = verdict.repository
        elif role == "head":
            new = _head(old, occurrence, verdict)
        elif role == "library":
            new = f"library/{old}"
        elif role.startswith("allow"):
            new = _allow(text, role, start)
        else:
            raise ValueError(f"unknown role {role!r}")
        if new != old:
            edits.append(Edit(start, end, old, new))
    return edits


def _head(old: str, occurrence: Occurrence, verdict: Verdict) -> str:
    """The target name less what follows the head in the written name (`docker.io/library` +
    `/traefik` -> `<registry>/docker-hub/library`)."""
    assert verdict.target_name
    name = _written_name(occurrence.written, verdict)
    rest = name[len(old) :]
    if any(part.role == "library" for part in occurrence.parts):
        rest = "/library" + rest  # the name takes `library/`: the head stays the same for all
    if not name.startswith(old + "/") or not verdict.target_name.endswith(rest):
        raise EditConflict(f"{old!r} does not lead {name!r} in its cache target")
    return verdict.target_name[: len(verdict.target_name) - len(rest)]


_SETTING: tuple[str, ...] = ("global", "security", "allowInsecureImages")


def _allow(text: str, role: str, at: int) -> str:
    """`global.security.allowInsecureImages: true`, or the part of it that is missing, as lines
    inserted at `at` (a line's start, or the end of the text), indented as the lines there."""
    if role == "allow":
        return "true"
    newline = "\r\n" if "\r\n" in text else "\n"
    if role == "allow-global":
        found = re.search(r"(?m)^( +)[^ #\r\n-]", text)
        step = len(found[1]) if found else 2
        keys, indent, lead = _SETTING, 0, "" if not text or text.endswith("\n") else newline
    else:
        indent = len(text[at:]) - len(text[at:].lstrip(" "))
        step = max(indent - _parent_indent(text, at, indent), 1)
        keys, lead = _SETTING[2 if role == "allow-key" else 1 :], ""
    lines = [
        f"{' ' * (indent + step * depth)}{key}:{' true' if key == keys[-1] else ''}{newline}"
        for depth, key in enumerate(keys)
    ]
    return lead + "".join(lines)


def _parent_indent(text: str, at: int, indent: int) -> int:
    """The indentation of the key whose mapping starts at `at`: the nearest line above that is
    indented less (comments and blank lines aside)."""
    for line in reversed(text[:at].split("\n")):
        body = line.lstrip(" ")
        if body.strip() and not body.startswith("#") and len(line) - len(body) < indent:
            return len(line) - len(body)
    return 0


def _written_name(old: str, verdict: Verdict) -> str:
    """The name part of a 'ref' span: everything before the tag/digest text as written."""
    if verdict.tail and old.endswith(verdict.tail):
        return old[: len(old) - len(verdict.tail)]
    return old


def apply(text: str, edits: list[Edit]) -> str:
    """Splice back to front so earlier offsets stay valid; every untouched byte is the original."""
    # Duplicates go (a guard's setting, carried by many references, is one edit) in the order
    # planned, text order: sorting a set's hash order instead was half a second per 10^5.
    ordered = sorted(dict.fromkeys(edits), reverse=True)
    for later, earlier in itertools.pairwise(ordered):
        if earlier.end > later.start:
            raise EditConflict(f"overlapping edits at offsets {earlier.start} and {later.start}")
    pieces, cursor = [], len(text)
    for edit in ordered:
        if text[edit.start : edit.end] != edit.old:
            raise EditConflict(f"expected {edit.old!r} at offset {edit.start}")
        pieces.append(text[edit.end : cursor])
        pieces.append(edit.new)
        cursor = edit.start
    pieces.append(text[:cursor])
    return "".join(reversed(pieces))
