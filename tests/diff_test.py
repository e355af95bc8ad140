"""`fix --diff` prints patches `git apply` takes: over every fixture case, the diff applies to
the input (`git apply --check`, then `git apply`) and gives exactly the fixed file — a missing
final newline, CRLF, a BOM and odd line separators included."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from migrate.cli import main
from tests.helpers import FIXTURES, REGISTRY
from tests.kinds.fixtures_test import CASES as KIND_CASES
from tests.kinds.fixtures_test import _files, _prepare

DOCKERFILES = sorted(p.name for p in (FIXTURES / "dockerfile").glob("*.in.Dockerfile"))


def _diff_then_apply(capsys: pytest.CaptureFixture[str], where: Path) -> str:
    capsys.readouterr()
    main(["fix", "--diff", "--registry", REGISTRY, "."])
    diff = capsys.readouterr().out
    for check in (["--check"], []) if diff else ():
        done = subprocess.run(
            ["git", "apply", *check, "-"],
            check=False,
            cwd=where,
            input=diff.encode(),
            capture_output=True,
        )
        assert done.returncode == 0, done.stderr.decode() + diff
    return diff


@pytest.mark.parametrize("case", DOCKERFILES)
def test_dockerfile_diff_applies(
    case: str, in_tmp: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = (FIXTURES / "dockerfile" / case).read_bytes()
    expected = (FIXTURES / "dockerfile" / case.replace(".in.", ".out.")).read_bytes()
    (in_tmp / "Dockerfile").write_bytes(source)

    diff = _diff_then_apply(capsys, in_tmp)

    assert (diff == "") is (source == expected)
    assert (in_tmp / "Dockerfile").read_bytes() == expected


@pytest.mark.parametrize(("kind", "case"), KIND_CASES, ids=[f"{k}/{c}" for k, c in KIND_CASES])
def test_yaml_diff_applies(
    kind: str, case: str, in_tmp: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before, expected = _prepare(kind, case, in_tmp)

    diff = _diff_then_apply(capsys, in_tmp)

    assert (diff == "") is (before == expected)
    assert _files(in_tmp) == expected
