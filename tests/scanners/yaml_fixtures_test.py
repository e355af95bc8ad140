"""fixtures/{compose,kubernetes,helm,kustomize}: `fix` turns each `.in` into its `.out` byte for
byte, then changes nothing the second time. A case is a file pair `<case>.in.<ext>` /
`<case>.out.<ext>`, or a directory `<case>/in/` + `<case>/out/` when several files are needed."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from migrate.cli import main
from tests.helpers import FIXTURES, REGISTRY

KINDS = ("compose", "kubernetes", "helm", "kustomize")
# The name a single-file case is copied to, so that the scanner of its kind claims it.
_TARGET = {
    "compose": "compose",
    "kubernetes": "manifest",
    "helm": "values",
    "kustomize": "kustomization",
}


def _cases() -> list[tuple[str, str]]:
    found = []
    for kind in KINDS:
        for path in sorted((FIXTURES / kind).iterdir()):
            if path.is_dir() or ".in." in path.name:
                found.append((kind, path.name))
    return found


CASES = _cases()


def _files(root: Path) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def _prepare(kind: str, case: str, tmp: Path) -> tuple[dict[str, bytes], dict[str, bytes]]:
    """Copy the case's input into tmp; return (input, expected) as relative path -> bytes."""
    source = FIXTURES / kind / case
    if source.is_dir():
        shutil.copytree(source / "in", tmp, dirs_exist_ok=True)
        return _files(source / "in"), _files(source / "out")
    ext = case.rsplit(".", 1)[1]
    target = f"{_TARGET[kind]}.{ext}"
    shutil.copyfile(source, tmp / target)
    expected = (source.parent / case.replace(".in.", ".out.")).read_bytes()
    return {target: source.read_bytes()}, {target: expected}


def test_every_kind_has_cases() -> None:
    for kind in KINDS:
        assert sum(1 for k, _ in CASES if k == kind) >= 2, kind


@pytest.mark.parametrize(("kind", "case"), CASES, ids=[f"{k}/{c}" for k, c in CASES])
def test_fix_matches_expected_bytes(kind: str, case: str, in_tmp: Path) -> None:
    before, expected = _prepare(kind, case, in_tmp)
    assert set(before) == set(expected), "in/ and out/ must hold the same files"

    first = main(["fix", "--registry", REGISTRY, "."])

    assert _files(in_tmp) == expected
    assert first == (0 if before == expected else 1)
    assert main(["fix", "--registry", REGISTRY, "."]) == 0
    assert _files(in_tmp) == expected


@pytest.mark.parametrize(("kind", "case"), CASES, ids=[f"{k}/{c}" for k, c in CASES])
def test_check_and_diff_write_nothing(kind: str, case: str, in_tmp: Path) -> None:
    before, expected = _prepare(kind, case, in_tmp)
    changes = int(before != expected)

    assert main(["fix", "--check", "--registry", REGISTRY, "."]) == changes
    assert main(["fix", "--diff", "--registry", REGISTRY, "."]) == changes
    assert _files(in_tmp) == before


def _load(path: Path) -> Any:
    return YAML(typ="safe", pure=True).load(path.read_text(encoding="utf-8-sig"))


def _names(root: Path) -> tuple[set[str], set[str]]:
    """(base image names without tag, overlay `images[].name` values)."""
    containers = _load(root / "base" / "deployment.yaml")["spec"]["template"]["spec"]["containers"]
    overrides = _load(root / "overlay" / "kustomization.yaml")["images"]
    return {c["image"].rsplit(":", 1)[0] for c in containers}, {i["name"] for i in overrides}


def test_kustomize_override_still_matches_the_migrated_base(in_tmp: Path) -> None:
    """kustomize matches `images[].name` against the base's image names: after migration each
    rewritten name must be exactly the rewritten base image without its tag."""
    _prepare("kustomize", "overlay", in_tmp)
    base, overrides = _names(in_tmp)
    assert overrides <= base

    assert main(["fix", "--registry", REGISTRY, "."]) == 1

    base, overrides = _names(in_tmp)
    assert overrides <= base
    assert all(name.startswith(REGISTRY + "/") for name in base | overrides)


def test_every_scanner_has_fixtures(in_tmp: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A new file kind comes with its fixtures: a scan of every fixture tree meets every kind
    `SCANNERS` lists (file_kind names the scanner that claimed each file)."""
    from migrate.scanners import SCANNERS

    for tree in ("dockerfile", "compose", "kubernetes", "helm", "kustomize", "builds", "ci"):
        shutil.copytree(FIXTURES / tree, in_tmp / tree)
    for path in list(in_tmp.rglob("*")):  # single-file cases, under the names their kinds claim
        if path.is_file() and ".in." in path.name:
            kind = path.relative_to(in_tmp).parts[0]
            target = _TARGET.get(kind, "Dockerfile") + ("" if kind == "dockerfile" else path.suffix)
            (path.parent / path.name.split(".in.")[0]).mkdir()
            path.rename(path.parent / path.name.split(".in.")[0] / target)
    main(["scan", "--format", "json", "."])
    seen = {f["file_kind"] for f in json.loads(capsys.readouterr().out)["findings"]}
    assert {s.NAME for s in SCANNERS} <= seen
