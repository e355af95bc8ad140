"""Hostile input never ends in a traceback: each case is one line and exit 2, and a directory
that cannot be listed is a finding, never a silent skip (a skip would read as 'clean')."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from migrate.cli import main
from migrate.rewrite import engine
from tests.bad_input_test import ecr_ptc
from tests.helpers import REGISTRY, run_cli

COMPOSE = b"services:\n  web:\n    image: nginx:1.27\n"
HUB = "Dockerfile:1:6: PTC001 "


def _tree(tmp_path: Path, git: bool = False) -> Path:
    tree = tmp_path / "repo"
    tree.mkdir()
    if git:
        subprocess.run(["git", "init", "-q", str(tree)], check=True)
    (tree / "Dockerfile").write_bytes(b"FROM nginx:1.27\n")
    return tree


def _one_line_exit_2(code: int, out: str, err: str) -> str:
    assert "Traceback" not in out + err
    assert code == 2, out + err
    return err


HOSTILE_CONFIGS = [
    pytest.param("exclude: " + "[" * 400 + "]" * 400 + "\n", 1, "nested", id="exclude-flow-400"),
    pytest.param("exclude:\n  " + "- " * 400 + "x\n", 1, "nested", id="exclude-block-400"),
    pytest.param(
        "exclude:\n" + "".join(f"{'  ' * i}k{i}:\n" for i in range(1, 400)),
        1,
        "nested",
        id="exclude-mappings-400",
    ),
    pytest.param("max-file-size: 9223372036854775807\n", 1, "max-file-size", id="max-file-size"),
    pytest.param("max-file-size: 1e400\n", 1, "max-file-size", id="max-file-size-float"),
    pytest.param(
        "rules:\n  docker-hub: {upstream: registry-1.docker.io, upstream-prefix: [1, 2]}\n",
        2,
        "upstream-prefix",
        id="upstream-prefix-list",
    ),
    pytest.param("rules:\n  ? [a]\n  : quay.io\n", 2, "prefix", id="complex-key"),
    pytest.param("? [a, b]\n: 1\n", 1, "unknown key", id="complex-top-key"),
    pytest.param("lint:\n  fail-on: {a: 1}\n", 2, "fail-on", id="fail-on-mapping"),
    pytest.param("private: [[x]]\n", 1, "private", id="private-nested"),
    pytest.param("&a [*a]\n", 1, "mapping", id="self-alias"),
    pytest.param("exclude: !!binary aGVsbG8=\n", 1, "exclude", id="binary-tag"),
    pytest.param("registry: !!python/name:os.system\n", 1, "", id="python-tag"),
]


@pytest.mark.parametrize(("text", "line", "word"), HOSTILE_CONFIGS)
def test_hostile_config_is_one_line_and_exit_2(
    text: str, line: int, word: str, tmp_path: Path
) -> None:
    tree = _tree(tmp_path)
    (tree / ".ecr-ptc.yaml").write_text(text)

    for command in (
        ["lint"],
        ["fix", "--registry", REGISTRY],
        ["rules", "plan", "--registry", REGISTRY],
    ):
        ran = ecr_ptc(*command, cwd=tree)
        err = _one_line_exit_2(ran.code, ran.out, ran.err)
        assert err.startswith(f"ecr-ptc: config error: .ecr-ptc.yaml:{line}: "), err
        assert word in err and err.count("\n") == 1, err
    assert (tree / "Dockerfile").read_bytes() == b"FROM nginx:1.27\n"


def test_explicit_path_under_an_unreadable_directory(tmp_path: Path) -> None:
    tree = _tree(tmp_path)
    (tree / "locked" / "sub").mkdir(parents=True)
    (tree / "locked" / "sub" / "Dockerfile").write_bytes(b"FROM nginx:1.27\n")
    os.chmod(tree / "locked", 0)
    try:
        ran = ecr_ptc("lint", "locked/sub", "locked/sub/Dockerfile", "Dockerfile", cwd=tree,
                      honour_modes=True)  # fmt: skip
    finally:
        os.chmod(tree / "locked", 0o755)

    _one_line_exit_2(ran.code, ran.out, ran.err)
    assert ran.out.splitlines()[:3] == [
        "locked/sub:1:1: PTC900 cannot read: Permission denied",
        "locked/sub/Dockerfile:1:1: PTC900 cannot read: Permission denied",
        f"{HUB}nginx:1.27 is pulled straight from Docker Hub; cache it under docker-hub/",
    ]


@pytest.mark.parametrize(
    "name",
    [
        pytest.param("a" * 300, id="directory"),
        pytest.param("a" * 300 + "/Dockerfile", id="under-a-long-directory"),
        pytest.param("b" * 256 + ".Dockerfile", id="file"),
    ],
)
def test_path_name_over_255_bytes(name: str, tmp_path: Path) -> None:
    tree = _tree(tmp_path)
    for command in (["lint"], ["scan"], ["fix", "--registry", REGISTRY]):
        ran = ecr_ptc(*command, name, "Dockerfile", cwd=tree)
        _one_line_exit_2(ran.code, ran.out, ran.err)
        assert f"{name}:1:1: PTC900 cannot read: File name too long" in ran.out + ran.err


@pytest.mark.parametrize("git", [False, True], ids=["plain", "git"])
@pytest.mark.parametrize("mode", [0o000, 0o311], ids=["no-access", "search-only"])
def test_directory_that_cannot_be_listed_is_a_finding(git: bool, mode: int, tmp_path: Path) -> None:
    tree = _tree(tmp_path, git)
    (tree / "sub").mkdir()
    (tree / "sub" / "compose.yaml").write_bytes(COMPOSE)
    (tree / "node_modules" / "x").mkdir(parents=True)  # skipped anyway: never reported
    os.chmod(tree / "sub", mode)
    os.chmod(tree / "node_modules" / "x", 0)
    try:
        linted = ecr_ptc("lint", ".", cwd=tree, honour_modes=True)
        fixed = ecr_ptc("fix", "--registry", REGISTRY, cwd=tree, honour_modes=True)
    finally:
        os.chmod(tree / "sub", 0o755)
        os.chmod(tree / "node_modules" / "x", 0o755)

    assert linted.code == 2 and "Traceback" not in linted.err
    assert linted.out.splitlines()[:2] == [
        f"{HUB}nginx:1.27 is pulled straight from Docker Hub; cache it under docker-hub/",
        "sub:1:1: PTC900 cannot list directory: Permission denied",
    ]
    assert fixed.code == 2
    assert fixed.err.splitlines() == ["sub:1:1: PTC900 cannot list directory: Permission denied"]
    assert (tree / "sub" / "compose.yaml").read_bytes() == COMPOSE


def test_non_utf8_file_names_from_git(tmp_path: Path) -> None:
    tree = _tree(tmp_path, git=True)
    name = os.fsdecode(b"caf\xe9.Dockerfile")
    (tree / name).write_bytes(b"FROM nginx:1.27\n")

    ran = run_cli("lint", cwd=tree)

    assert "Traceback" not in ran.stderr and ran.returncode == 1, ran.stderr
    assert "caf\\xe9.Dockerfile:1:6: PTC001 " in ran.stdout


# --- the last resort ---------------------------------------------------------------------------


def _broken(*args: object, **kwargs: object) -> None:
    raise RuntimeError("something nobody foresaw")


def test_unexpected_exception_is_one_line_and_exit_2(
    in_tmp: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (in_tmp / "Dockerfile").write_bytes(b"FROM nginx:1.27\n")
    monkeypatch.setattr(engine, "run", _broken)

    code = main(["lint"])

    err = capsys.readouterr().err
    assert code == 2
    assert err == (
        "ecr-ptc: internal error: RuntimeError: something nobody foresaw "
        "(rerun with --debug for the traceback)\n"
    )


@pytest.mark.parametrize(
    ("args", "env"),
    [
        pytest.param(["--debug", "lint"], {}, id="group-flag"),
        pytest.param(["lint", "--debug"], {}, id="command-flag"),
        pytest.param(["lint"], {"ECR_PTC_DEBUG": "1"}, id="environment"),
    ],
)
def test_debug_shows_the_traceback(
    args: list[str],
    env: dict[str, str],
    in_tmp: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setattr(engine, "run", _broken)
    for key, value in env.items():
        monkeypatch.setenv(key, value)

    code = main(args)

    err = capsys.readouterr().err
    assert code == 2
    assert "Traceback (most recent call last)" in err
    assert err.rstrip().endswith("RuntimeError: something nobody foresaw")
