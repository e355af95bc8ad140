"""`images[].name` follows only what the same run rewrites, file by file as pre-commit runs the
hook; `kubectl kustomize` builds the cache targets of what it built before (where kubectl is)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from migrate.cli import main
from migrate.config import Config
from migrate.findings import Status
from migrate.provers import kustomize_build as build
from migrate.rewrite import engine
from tests.helpers import FIXTURES, REGISTRY

CASE = FIXTURES / "kustomize" / "overlay"
BASE, OVERLAY = "base/deployment.yaml", "overlay/kustomization.yaml"
needs_kubectl = pytest.mark.skipif(build.command() is None, reason="kubectl is not on PATH")


def _tree(root: Path, state: str = "in") -> dict[str, bytes]:
    shutil.copytree(CASE / state, root, dirs_exist_ok=True)
    return _files(root)


def _files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def _expected() -> dict[str, bytes]:
    return _files(CASE / "out")


def _fix(*paths: str) -> int:
    return main(["fix", "--registry", REGISTRY, *paths])


@pytest.mark.parametrize("alone", [BASE, OVERLAY])
def test_one_file_of_a_pair_alone_is_refused(
    alone: str, in_tmp: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = _tree(in_tmp)

    assert _fix(alone) == 0  # nothing written

    assert _files(in_tmp) == before
    err = capsys.readouterr().err
    assert f"{alone}:" in err and "PTC010" in err
    assert "fix both files in one run" in err or f"fix {OVERLAY} in the same run" in err


@pytest.mark.parametrize("first", [BASE, OVERLAY])
def test_each_order_then_both_migrates_the_pair(first: str, in_tmp: Path) -> None:
    _tree(in_tmp)
    second = OVERLAY if first == BASE else BASE

    assert _fix(first) == 0 and _fix(second) == 0  # each alone: refused, nothing changes
    assert _fix(first, second) == 1

    assert _files(in_tmp) == _expected()
    assert _fix(first, second) == 0


def test_a_name_left_by_an_earlier_migration_is_renamed_alone(in_tmp: Path) -> None:
    """The base is migrated already (by hand, or an older ecr-ptc) and the override matches
    nothing: renaming it alone makes it apply again, as it did before the base moved."""
    _tree(in_tmp)
    shutil.copyfile(CASE / "out" / BASE, in_tmp / BASE)

    assert _fix(OVERLAY) == 1

    assert _files(in_tmp) == _expected()


def test_refusal_is_reported_with_the_line_of_the_image(in_tmp: Path) -> None:
    _tree(in_tmp)
    results = list(engine.run([BASE], Config(registry=REGISTRY), in_tmp, fix=True, jobs=1))
    ((result),) = results
    refused = [f for f in result.findings if f.status is Status.REFUSED]
    assert [(f.code, f.line) for f in refused] == [("PTC010", 10)]
    assert "images[0].name 'nginx' in overlay/kustomization.yaml" in refused[0].message
    assert not any(f.target for f in result.findings)  # nothing claims a rewrite


def _builds(root: Path) -> list[str]:
    cmd = build.command()
    assert cmd is not None
    found = build.images(cmd, root / "overlay")
    assert isinstance(found, list), found
    return found


@needs_kubectl
@pytest.mark.parametrize("case", ["overlay", "patches", "components"])
def test_kubectl_builds_the_cache_targets(case: str, tmp_path: Path) -> None:
    before, after = (
        _builds(FIXTURES / "kustomize" / case / "in"),
        _builds(FIXTURES / "kustomize" / case / "out"),
    )
    assert len(before) == len(after) > 2
    for was, now in zip(before, after):
        assert now.startswith(REGISTRY + "/") and now.endswith(was.rpartition("/")[2]), (was, now)


def test_a_build_that_differs_refuses_every_rewritten_file(
    in_tmp: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = _tree(in_tmp)
    calls: list[Path] = []

    def fake(cmd: list[str], directory: Path) -> list[str] | str:
        calls.append(directory)
        return ["nginx:1.27.1"] if directory.is_relative_to(in_tmp) else ["busybox:1"]

    monkeypatch.setattr(build, "command", lambda: ["kubectl", "kustomize"])
    monkeypatch.setattr(build, "images", fake)
    results = list(
        engine.run(["."], Config(registry=REGISTRY), in_tmp, fix=True, write=True, jobs=1)
    )

    assert _files(in_tmp) == before
    refused = {r.path: f.message for r in results for f in r.findings if f.code == "PTC010"}
    assert set(refused) == {BASE, OVERLAY}
    assert "kubectl kustomize overlay: nginx:1.27.1 would build as busybox:1" in refused[OVERLAY]
    assert len(calls) >= 2


def test_without_kubectl_the_rewrite_is_written_with_a_note(
    in_tmp: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _tree(in_tmp)
    monkeypatch.setattr(build, "command", lambda: None)
    results = list(
        engine.run(["."], Config(registry=REGISTRY), in_tmp, fix=True, write=True, jobs=1)
    )

    assert _files(in_tmp) == _expected()
    notes = [(r.path, f.code, f.message) for r in results for f in r.findings if f.code == "PTC011"]
    message = "rewrite not verified by kustomize build: kubectl is not on PATH: static rules only"
    assert all(code == "PTC011" and text == message for _, code, text in notes)
    assert {path for path, _, _ in notes} == {OVERLAY, "base/kustomization.yaml"}
