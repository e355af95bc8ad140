"""Dockerfile ARG chains: `FROM ${REG}/base:${VER}` resolved from the ARG defaults before the
first FROM, rewritten through the ARG that leads the name when that ARG holds nothing else
(fixtures/dockerfile/arg_chain.* shows the bytes)."""

from __future__ import annotations

import pytest

from migrate.kinds import dockerfile


def _one(text: str) -> tuple[str, tuple[str, ...], str | None, str | None, str | None]:
    (occ,) = list(dockerfile.scan(text))
    roles = tuple(f"{p.role}:{text[p.start : p.end]}" for p in occ.parts)
    return occ.written, roles, occ.unresolved, occ.note, occ.kept


@pytest.mark.parametrize(
    ("text", "written", "roles", "kept"),
    [
        pytest.param(
            "ARG R=docker.io\nARG V=1\nFROM ${R}/library/node:${V}\n",
            "docker.io/library/node:1",
            ("head:docker.io",),
            None,
            id="registry-head",
        ),
        pytest.param(
            "ARG B=node\nARG V=1\nFROM $B:$V\n", "node:1", ("name:node",), None, id="whole-name"
        ),
        pytest.param(
            "ARG R=quay.io\nFROM ${R:-x}/a/b:1\n",
            "quay.io/a/b:1",
            (),
            "the name does not start with a plain ${VARIABLE}",
            id="operator-resolved-not-led",
        ),
        pytest.param(
            "ARG R=docker.io\nFROM ${R}/node:1\n",
            "docker.io/node:1",
            (),
            "docker.io/node is short for docker.io/library/node: write it out to rewrite ARG R",
            id="short-docker-hub-path",
        ),
        pytest.param(
            "ARG R=ghcr.io\nFROM ${R}/a/b:1\nRUN curl https://${R}/token\n",
            "ghcr.io/a/b:1",
            (),
            "ARG R is also used outside image names",
            id="used-elsewhere",
        ),
        pytest.param(
            "ARG B=node\nFROM ${B}-slim:1\n",
            "node-slim:1",
            (),
            "ARG B holds part of a path component",
            id="part-of-component",
        ),
        pytest.param(
            "ARG B=node:20\nFROM ${B}@sha256:" + "a" * 64 + "\n",
            "node:20@sha256:" + "a" * 64,
            (),
            "ARG B holds a tag as well",
            id="tag-in-default",
        ),
        pytest.param(
            "ARG R=ghcr.io\nARG O=acme\nFROM ${R}/${O}/app:1\n",
            "ghcr.io/acme/app:1",
            (),
            "more than one variable in the name",
            id="two-variables",
        ),
    ],
)
def test_chain(text: str, written: str, roles: tuple[str, ...], kept: str | None) -> None:
    found, parts, unresolved, note, why = _one(text)
    assert (found, parts, unresolved, why) == (written, roles, None, kept)
    assert note is not None and note.endswith("with the ARG defaults")


def test_missing_default_stays_unresolved() -> None:
    written, parts, unresolved, _, _ = _one("ARG R\nFROM ${R}/library/alpine:3\n")
    assert (written, parts, unresolved) == ("${R}/library/alpine:3", (), "ARG R has no default")


def test_arg_default_built_from_other_args_is_resolved() -> None:
    written, parts, unresolved, note, _ = _one("ARG R=ghcr.io\nARG I=${R}/a/b:1\nFROM ${I}\n")
    assert (written, parts, unresolved) == ("ghcr.io/a/b:1", (), None)
    assert note == "ARG I=${R}/a/b:1 with the ARG defaults"


def test_only_args_before_the_first_from_count() -> None:
    text = "FROM scratch\nARG R=docker.io\nFROM ${R}/library/alpine:3\n"
    _written, parts, unresolved, _, _ = _one(text)
    assert (parts, unresolved) == ((), "ARG R has no default")
