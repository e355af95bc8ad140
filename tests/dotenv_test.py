"""Compose `.env` files: Compose's syntax and interpolation rules, and which variables the
Compose files beside one use as nothing but images (`migrate/kinds/dotenv.py` rewrites those)."""

from __future__ import annotations

from pathlib import Path

import pytest

from migrate.cli import main
from migrate.kinds import dotenv as scanner
from migrate.syntax import dotenv
from tests.helpers import REGISTRY


@pytest.mark.parametrize(
    ("line", "value", "literal"),
    [
        pytest.param("A=nginx:1", "nginx:1", "nginx:1", id="plain"),
        pytest.param("export A = nginx:1  ", "nginx:1", "nginx:1", id="export-blanks"),
        pytest.param('A="x y" # c', "x y", "x y", id="double-quoted-comment"),
        pytest.param("A='$B ${B}'", "$B ${B}", "$B ${B}", id="single-quoted-literal"),
        pytest.param('A="a\\tb"', "a\tb", None, id="escape"),
        pytest.param("A=val#no-comment", "val#no-comment", "val#no-comment", id="hash-in-value"),
        pytest.param("A=val # comment", "val", "val", id="comment"),
        pytest.param("A=${B}-x", "b-x", None, id="interpolated"),
        pytest.param("A=", "", "", id="empty"),
        pytest.param("A=x\r", "x", "x", id="crlf"),
    ],
)
def test_parse_value(line: str, value: str, literal: str | None) -> None:
    text = f"B=b\n{line}\n"
    entry = dotenv.parse(text).entries["A"]
    assert entry.value == value and entry.line == 2
    assert (text[slice(*entry.span)] if entry.span else None) == literal


def test_multiline_values_are_skipped_and_lines_stay_right() -> None:
    env = dotenv.parse('# c\nKEY="-----BEGIN\nabc\n-----END"\nIMAGE=redis:7\nnot an entry\n')
    assert set(env.entries) == {"IMAGE"}
    assert env.entries["IMAGE"].line == 5


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("${SET}", "v"),
        ("$SET:1", "v:1"),
        ("${UNSET:-d}", "d"),
        ("${EMPTY:-d}", "d"),
        ("${EMPTY-d}", ""),
        ("${UNSET-d}", "d"),
        ("${SET:+alt}", "alt"),
        ("${UNSET:+alt}", ""),
        ("${SET:?err}", "v"),
        ("${UNSET:?err}", None),
        ("${UNSET}", None),
        ("${UNSET:-${SET}/x}", "v/x"),
        ("$$SET", "$SET"),
        ("${SET", None),
        ("a$", "a$"),
    ],
)
def test_interpolate(text: str, expected: str | None) -> None:
    values = {"SET": "v", "EMPTY": ""}
    assert dotenv.interpolate(text, values.get) == expected


def _tree(tmp: Path, env: str, compose: str) -> Path:
    (tmp / ".env").write_text(env)
    (tmp / "compose.yaml").write_text(compose)
    return tmp


@pytest.mark.parametrize(
    ("compose", "carried"),
    [
        pytest.param("services:\n  a:\n    image: ${I}\n", {"I": "ref"}, id="whole"),
        pytest.param("services:\n  a:\n    image: ${I}:${T}\n", {"I": "name"}, id="name"),
        pytest.param(
            "x: &i ${I}\nservices:\n  a:\n    image: *i\n  b:\n    image: *i\n",
            {"I": "ref"},
            id="alias-counted-once",  # one text, one use, however many services share it
        ),
        pytest.param(
            "services:\n  a:\n    image: ${I}\n    environment: [IMG=${I}]\n", {}, id="other-use"
        ),
        pytest.param("services:\n  a:\n    image: ${I}\n    build: .\n", {}, id="built"),
        pytest.param(
            "services:\n  a:\n    image: ${I}\n  b:\n    image: ${I}:2\n", {}, id="two-roles"
        ),
        pytest.param("services:\n  a:\n    image: ${I}\n  b: [\n", {}, id="invalid-compose"),
    ],
)
def test_image_variables(compose: str, carried: dict[str, str], tmp_path: Path) -> None:
    _tree(tmp_path, "I=redis\nT=7\n", compose)
    env = dotenv.beside(tmp_path, None)
    assert env is not None
    found = scanner.image_variables(tmp_path, None, env)
    assert {name: use.role for name, use in found.items()} == carried


def test_a_variable_used_by_another_value_is_not_carried(tmp_path: Path) -> None:
    _tree(tmp_path, "I=redis\nBANNER=runs ${I}\n", "services:\n  a:\n    image: ${I}\n")
    env = dotenv.beside(tmp_path, None)
    assert env is not None and scanner.image_variables(tmp_path, None, env) == {}


def test_env_without_compose_is_not_claimed(
    in_tmp: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (in_tmp / ".env").write_text("IMAGE=redis:7\n")
    assert not scanner.claims(in_tmp / ".env", "IMAGE=redis:7\n")
    assert main(["lint", "."]) == 0
    assert ".env" not in capsys.readouterr().out


def test_hook_on_env_alone_rewrites_it(in_tmp: Path) -> None:
    _tree(in_tmp, "IMAGE=redis:7\nPORT=6379\n", "services:\n  a:\n    image: $IMAGE\n")
    assert main(["fix", "--registry", REGISTRY, ".env"]) == 1
    assert (in_tmp / ".env").read_text() == (
        f"IMAGE={REGISTRY}/docker-hub/library/redis:7\nPORT=6379\n"
    )
    assert main(["lint", "--registry", REGISTRY, "."]) == 0


def test_compose_reports_a_shared_variable_with_its_value(
    in_tmp: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _tree(
        in_tmp,
        "IMAGE=redis:7\n",
        "services:\n  a:\n    image: ${IMAGE}\n    command: [echo, $IMAGE]\n",
    )
    assert main(["fix", "--registry", REGISTRY, "."]) == 0  # nothing it can rewrite
    assert main(["lint", "--registry", REGISTRY, "."]) == 1
    out = capsys.readouterr().out
    assert "compose.yaml:3:12: PTC001 redis:7 is pulled straight from Docker Hub" in out
    assert "(${IMAGE} with IMAGE from .env:1; not rewritten: IMAGE in .env is used for more" in out


def test_a_variable_holding_part_of_the_name_is_reported(
    in_tmp: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _tree(in_tmp, "REG=quay.io\n", "services:\n  a:\n    image: ${REG}/prometheus/prometheus:v3\n")
    assert main(["lint", "compose.yaml"]) == 1
    out = capsys.readouterr().out
    assert "PTC002 quay.io/prometheus/prometheus:v3 is pulled straight from Quay" in out
    assert "not rewritten: a variable holds part of the name" in out
