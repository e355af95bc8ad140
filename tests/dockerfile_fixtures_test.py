"""fixtures/dockerfile/<case>.in.Dockerfile -> <case>.out.Dockerfile, byte for byte, then idempotent."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from migrate.cli import main
from tests.helpers import FIXTURES, REGISTRY, run_cli

CASES = sorted(
    p.name[: -len(".in.Dockerfile")] for p in (FIXTURES / "dockerfile").glob("*.in.Dockerfile")
)


def test_cases_exist() -> None:
    assert len(CASES) >= 10


@pytest.mark.parametrize("case", CASES)
def test_fix_matches_expected_bytes(case: str, in_tmp: Path) -> None:
    source = FIXTURES / "dockerfile" / f"{case}.in.Dockerfile"
    expected = (FIXTURES / "dockerfile" / f"{case}.out.Dockerfile").read_bytes()
    target = in_tmp / "Dockerfile"
    shutil.copyfile(source, target)
    target.chmod(0o640)

    first = main(["fix", "--registry", REGISTRY, "Dockerfile"])

    assert target.read_bytes() == expected
    assert first == (0 if expected == source.read_bytes() else 1)
    assert target.stat().st_mode & 0o777 == 0o640
    assert main(["fix", "--registry", REGISTRY, "Dockerfile"]) == 0
    assert target.read_bytes() == expected


@pytest.mark.parametrize("case", CASES)
def test_diff_and_check_write_nothing(case: str, in_tmp: Path) -> None:
    source = (FIXTURES / "dockerfile" / f"{case}.in.Dockerfile").read_bytes()
    changes = source != (FIXTURES / "dockerfile" / f"{case}.out.Dockerfile").read_bytes()
    (in_tmp / "Dockerfile").write_bytes(source)

    assert main(["fix", "--check", "--registry", REGISTRY]) == int(changes)
    assert main(["fix", "--diff", "--registry", REGISTRY]) == int(changes)
    assert (in_tmp / "Dockerfile").read_bytes() == source


def test_subprocess_fix_of_a_whole_directory(tmp_path: Path) -> None:
    for case in CASES:
        (tmp_path / case).mkdir()
        shutil.copyfile(
            FIXTURES / "dockerfile" / f"{case}.in.Dockerfile", tmp_path / case / "Dockerfile"
        )

    done = run_cli("fix", "--registry", REGISTRY, ".", cwd=tmp_path)

    assert done.returncode == 1, done.stderr
    for case in CASES:
        expected = (FIXTURES / "dockerfile" / f"{case}.out.Dockerfile").read_bytes()
        assert (tmp_path / case / "Dockerfile").read_bytes() == expected, case
    assert run_cli("fix", "--registry", REGISTRY, ".", cwd=tmp_path).returncode == 0
