"""dockerfile-parse as the oracle of our Dockerfile tokenizer: over every Dockerfile of the
fixtures and the corpus without heredocs (which dockerfile-parse reads as instructions), the
same instructions on the same lines, and the same parent images once build args are applied.

Why our own tokenizer at all: dockerfile-parse reports lines but no columns, and a byte-exact
rewrite needs columns (migrate/kinds/dockerfile.py)."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from dockerfile_parse import DockerfileParser

from migrate.kinds import dockerfile
from tests.helpers import CORPUS, FIXTURES

# Where dockerfile-parse is not BuildKit, and we follow BuildKit.
DIVERGES = {
    # A blank line inside a continuation: BuildKit skips it and the instruction goes on
    # (moby/buildkit frontend/dockerfile/parser: "empty continuation lines"); dockerfile-parse
    # ends the instruction there.
    "continuation.in.Dockerfile",
    "continuation.out.Dockerfile",
}


def _dockerfiles() -> list[Path]:
    roots = [FIXTURES / "dockerfile", *([CORPUS] if CORPUS else [])]
    found = sorted(p for root in roots for p in root.rglob("*") if dockerfile.by_name(p))
    return [
        p
        for p in found
        if p.is_file()
        and p.name not in DIVERGES
        and "<<" not in p.read_text(encoding="utf-8-sig")  # heredocs: read as instructions
    ]


FILES = _dockerfiles()


def _ours(text: str) -> list[tuple[str, int, int]]:
    lines = text.split("\n")
    lines = [line + "\n" for line in lines[:-1]] + ([lines[-1]] if lines[-1] else [])
    escape, first, _ = dockerfile._directives(lines)
    out = []
    for logical in dockerfile._instructions(lines, first, escape):
        words = logical.text.split()
        if words:
            start = text.count("\n", 0, logical.origins[0]) + 1
            end = text.count("\n", 0, logical.origins[-1]) + 1
            out.append((words[0].upper(), start, end))
    return out


def _parser(text: str) -> DockerfileParser:
    return DockerfileParser(fileobj=io.BytesIO(text.encode()))


def test_there_are_dockerfiles_to_compare() -> None:
    assert len(FILES) >= (80 if CORPUS else 8)


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.as_posix().rsplit("/", 3)[-3:].__str__())
def test_instructions_and_parent_images_agree(path: Path) -> None:
    text = path.read_text(encoding="utf-8-sig")
    parser = _parser(text)
    theirs = [
        (i["instruction"], i["startline"] + 1, i["endline"] + 1)
        for i in parser.structure
        if i["instruction"] != "COMMENT"
    ]
    assert _ours(text) == theirs

    defaults: dict[str, str] = {}
    for instruction in parser.structure:
        if instruction["instruction"] == "FROM":
            break
        if instruction["instruction"] == "ARG" and "=" in instruction["value"]:
            name, _, value = instruction["value"].partition("=")
            defaults[name.strip()] = value.strip().strip("\"'")
    stages = {
        match[1].lower()
        for i in parser.structure
        if i["instruction"] == "FROM"
        for match in [re.search(r"\s[Aa][Ss]\s+(\S+)", i["value"])]
        if match
    }
    # Distinct images: an ARG default feeding two FROMs is one reference of ours (kind 'arg').
    # An undefined variable reads as empty for dockerfile-parse (`/library/alpine`); ours keep
    # it, unresolved (PTC004): both are left out.
    parents = {
        p
        for p in parser.parent_images
        if p and not p.startswith(("/", ":")) and p.lower() not in stages and p != "scratch"
    }
    ours = {
        re.sub(r"\$\{?(\w+)\}?", lambda m: defaults.get(m[1], m[0]), occ.written)
        for occ in dockerfile.scan(text)
        if occ.kind in ("from", "arg")
    }
    assert {image for image in ours if "$" not in image} == parents
