"""Every file kind's fixtures, one harness: `fixtures/<NAME>/` for each kind `registry.SCANNERS`
lists. A case is a directory `<case>/in/` + `<case>/out/` holding files under their real names,
or a single-file pair `<case>.in.<ext>` / `<case>.out.<ext>` copied under the name its kind
claims. `fix` turns `in` into `out` byte for byte and changes nothing the second time;
`--check` and `--diff` write nothing; `scan` names the kind on at least one file of the case.

A new kind needs nothing here: its fixtures directory is found by its NAME."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from migrate.cli import main
from migrate.kinds.registry import SCANNERS
from tests.helpers import FIXTURES, REGISTRY

# The name a single-file case is copied to, so that its kind claims it by name.
_SINGLE_FILE_NAME = {
    "dockerfile": "Dockerfile",
    "compose": "compose.{ext}",
    "kubernetes": "manifest.{ext}",
    "helm": "values.{ext}",
    "kustomize": "kustomization.{ext}",
}
KINDS = [scanner.NAME for scanner in SCANNERS]


def _cases() -> list[tuple[str, str]]:
    found = []
    for kind in KINDS:
        folder = FIXTURES / kind
        if folder.is_dir():
            for path in sorted(folder.iterdir()):
                if (path / "in").is_dir() or ".in." in path.name:
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
    target = _SINGLE_FILE_NAME[kind].format(ext=ext)
    shutil.copyfile(source, tmp / target)
    expected = (source.parent / case.replace(".in.", ".out.")).read_bytes()
    return {target: source.read_bytes()}, {target: expected}


@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_has_fixtures(kind: str) -> None:
    assert any(k == kind for k, _ in CASES), f"fixtures/{kind}/ holds no case"


def test_every_fixtures_directory_is_a_kind() -> None:
    shared = {"bad", "builds", "example", "vectors"}  # not one kind's: across kinds
    folders = {p.name for p in FIXTURES.iterdir() if p.is_dir()}
    assert folders - shared == set(KINDS)


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


@pytest.mark.parametrize(("kind", "case"), CASES, ids=[f"{k}/{c}" for k, c in CASES])
def test_scan_names_the_kind(
    kind: str, case: str, in_tmp: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _prepare(kind, case, in_tmp)
    main(["scan", "--format", "json", "."])
    findings = json.loads(capsys.readouterr().out)["findings"]
    assert kind in {f["file_kind"] for f in findings}
