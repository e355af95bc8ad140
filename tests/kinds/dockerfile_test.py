from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from migrate.cli import main
from migrate.kinds import dockerfile
from tests.helpers import FIXTURES, REGISTRY, run_cli


def _found(text: str) -> list[tuple[str, str, list[tuple[str, str]], str | None]]:
    return [
        (o.kind, o.written, [(p.role, text[p.start : p.end]) for p in o.parts], o.unresolved)
        for o in dockerfile.scan(text)
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    (
        pytest.param(
            "FROM alpine:3.20\n",
            [("from", "alpine:3.20", [("ref", "alpine:3.20")], None)],
            id="from",
        ),
        pytest.param(
            "from --platform=$BUILDPLATFORM node:20 as b\n",
            [("from", "node:20", [("ref", "node:20")], None)],
            id="flags-lowercase",
        ),
        pytest.param(
            "FROM \\\n  nginx:1 \\\n  AS web\n",
            [("from", "nginx:1", [("ref", "nginx:1")], None)],
            id="continuation",
        ),
        pytest.param(
            "FROM \\\r\n  nginx:1\r\n", [("from", "nginx:1", [("ref", "nginx:1")], None)], id="crlf"
        ),
        pytest.param(
            "# escape=`\nFROM `\n  nginx:1\n",
            [("from", "nginx:1", [("ref", "nginx:1")], None)],
            id="backtick-escape",
        ),
        pytest.param(
            "# syntax = docker/dockerfile:1\nFROM a:1\n",
            [
                ("syntax", "docker/dockerfile:1", [("ref", "docker/dockerfile:1")], None),
                ("from", "a:1", [("ref", "a:1")], None),
            ],
            id="syntax-directive",
        ),
        pytest.param(
            "FROM a AS b\nCOPY --from=redis:7 /x /y\n",
            [
                ("from", "a", [("ref", "a")], None),
                ("copy-from", "redis:7", [("ref", "redis:7")], None),
            ],
            id="copy-from",
        ),
        pytest.param(
            "FROM a\nRUN --mount=type=bind,from=quay.io/x/y:1,target=/t true\n",
            [
                ("from", "a", [("ref", "a")], None),
                ("mount-from", "quay.io/x/y:1", [("ref", "quay.io/x/y:1")], None),
            ],
            id="mount-from",
        ),
        pytest.param(
            "ARG BASE=nginx:1\nFROM ${BASE}\nFROM $BASE AS two\n",
            [("arg", "nginx:1", [("ref", "nginx:1")], None)],
            id="arg-default-once",
        ),
        pytest.param(
            "ARG BASE='nginx:1'\nFROM $BASE\n",
            [("arg", "nginx:1", [("ref", "nginx:1")], None)],
            id="arg-quoted",
        ),
        pytest.param(
            "ARG A=1 BASE=nginx:1\nFROM $BASE\n",
            [("arg", "nginx:1", [("ref", "nginx:1")], None)],
            id="arg-several-on-a-line",
        ),
        pytest.param(
            "ARG BASE\nFROM $BASE\n",
            [("from", "$BASE", [], "ARG BASE has no default")],
            id="arg-without-default",
        ),
        pytest.param(
            "FROM node:${V}\n",
            [("from", "node:${V}", [("ref", "node:${V}")], None)],
            id="variable-in-tag-left-to-classify",
        ),
        pytest.param(
            "FROM a\nARG B=nginx\nFROM $B\n",
            [("from", "a", [("ref", "a")], None), ("from", "$B", [], "ARG B has no default")],
            id="stage-arg-does-not-feed-from",
        ),
        pytest.param(
            "FROM nginx\\\n:1\n", [("from", "nginx:1", [], "split across lines")], id="split-token"
        ),
    ),
)
def test_scan(text: str, expected: list[object]) -> None:
    assert _found(text) == expected


@pytest.mark.parametrize(
    "text",
    (
        pytest.param("FROM scratch\n", id="scratch"),
        pytest.param(
            "FROM a AS build\nFROM build\nCOPY --from=build /a /b\nCOPY --from=0 /a /b\n",
            id="stages",
        ),
        pytest.param("FROM a AS Build\nFROM BUILD\n", id="stage-names-case-insensitive"),
        pytest.param("RUN <<EOF\nFROM nginx\nEOF\n", id="heredoc-body"),
        pytest.param("COPY <<-EOF /x\n\tFROM nginx\n\tEOF\n", id="heredoc-tab-stripped"),
        pytest.param("# FROM nginx\n", id="comment"),
        pytest.param(
            "FROM a\n# syntax=docker/dockerfile:1\n", id="directive-after-instruction-is-comment"
        ),
        pytest.param("", id="empty"),
    ),
)
def test_scan_noop(text: str) -> None:
    """Nothing but the plain base image `a` some cases need to be valid Dockerfiles."""
    assert [o for o in _found(text) if o[1] != "a"] == []


def test_positions_point_at_the_reference() -> None:
    text = "\ufeffFROM --platform=x alpine:3.20 AS a\n"[1:]
    (occ,) = dockerfile.scan(text)
    assert text[occ.at : occ.end] == "alpine:3.20"


@pytest.mark.parametrize(
    ("name", "claimed"),
    (
        ("Dockerfile", True),
        ("Dockerfile.prod", True),
        ("api.Dockerfile", True),
        ("x.dockerfile", True),
        ("Containerfile", True),
        ("Containerfile.dev", True),
        ("compose.yaml", False),
        ("README.md", False),
    ),
)
def test_claims(name: str, claimed: bool) -> None:
    assert dockerfile.claims(Path(name), "") is claimed


def test_fix_keeps_the_file_mode(in_tmp: Path) -> None:
    target = in_tmp / "Dockerfile"
    shutil.copyfile(FIXTURES / "dockerfile" / "multistage.in.Dockerfile", target)
    target.chmod(0o640)

    assert main(["fix", "--registry", REGISTRY, "Dockerfile"]) == 1
    assert target.stat().st_mode & 0o777 == 0o640


def test_subprocess_fix_of_a_whole_directory(tmp_path: Path) -> None:
    cases = sorted(p.name[: -len(".in.Dockerfile")] for p in _DOCKERFILES.glob("*.in.Dockerfile"))
    for case in cases:
        (tmp_path / case).mkdir()
        shutil.copyfile(_DOCKERFILES / f"{case}.in.Dockerfile", tmp_path / case / "Dockerfile")

    done = run_cli("fix", "--registry", REGISTRY, ".", cwd=tmp_path)

    assert done.returncode == 1, done.stderr
    for case in cases:
        expected = (_DOCKERFILES / f"{case}.out.Dockerfile").read_bytes()
        assert (tmp_path / case / "Dockerfile").read_bytes() == expected, case
    assert run_cli("fix", "--registry", REGISTRY, ".", cwd=tmp_path).returncode == 0


_DOCKERFILES = FIXTURES / "dockerfile"


@pytest.mark.parametrize(
    "text",
    (
        pytest.param("FROM nginx\u00a0:1.27\n", id="nbsp-inside"),
        pytest.param("FROM\u00a0nginx:1.27\n", id="nbsp-after-keyword"),
        pytest.param("FROM nginx:1.27\u2003AS web\n", id="em-space"),
    ),
)
def test_only_ascii_whitespace_separates_words(text: str, in_tmp: Path) -> None:
    # BuildKit splits an instruction on [ \t\v\f\r]: a no-break space is part of the word, so
    # `nginx\u00a0:1.27` is one (invalid) argument and nothing here is a reference to rewrite.
    (in_tmp / "Dockerfile").write_text(text, encoding="utf-8")

    main(["fix", "--registry", REGISTRY, "Dockerfile"])

    assert (in_tmp / "Dockerfile").read_text(encoding="utf-8") == text
    assert "nginx" not in [o[1] for o in _found(text)]
