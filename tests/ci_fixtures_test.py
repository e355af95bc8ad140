"""fixtures/ci/<kind>/{in,out}/: `fix` turns each `in/` tree into `out/` byte for byte (CI files
keep their real paths: `.github/workflows/`, `.circleci/`, GitLab's local includes), then
changes nothing the second time; `scan --format json` names the CI kind of each file."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from migrate.cli import main
from migrate.scanners import CI_SCANNERS
from tests.helpers import FIXTURES, REGISTRY

CASES = sorted(p.name for p in (FIXTURES / "ci").iterdir())


def _files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def test_every_ci_kind_has_a_case() -> None:
    assert CASES == sorted(s.NAME for s in CI_SCANNERS)


@pytest.mark.parametrize("kind", CASES)
def test_fix_matches_expected_bytes(kind: str, in_tmp: Path) -> None:
    shutil.copytree(FIXTURES / "ci" / kind / "in", in_tmp, dirs_exist_ok=True)
    expected = _files(FIXTURES / "ci" / kind / "out")
    assert _files(in_tmp) != expected

    assert main(["fix", "--registry", REGISTRY, "."]) == 1
    assert _files(in_tmp) == expected
    assert main(["fix", "--registry", REGISTRY, "."]) == 0
    assert _files(in_tmp) == expected


@pytest.mark.parametrize("kind", CASES)
def test_scan_json_names_the_ci_kind(
    kind: str, in_tmp: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    shutil.copytree(FIXTURES / "ci" / kind / "in", in_tmp, dirs_exist_ok=True)
    assert main(["scan", "--format", "json", "."]) == 0
    findings = json.loads(capsys.readouterr().out)["findings"]
    kinds = {f["path"]: f["file_kind"] for f in findings}
    # Buildkite's docker-compose plugin file stays a Compose file.
    assert set(kinds.values()) - {"compose"} == {kind}


def test_fix_says_once_per_ci_system_what_it_needs(
    in_tmp: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for kind in ("github-actions", "circleci"):
        shutil.copytree(FIXTURES / "ci" / kind / "in", in_tmp, dirs_exist_ok=True)
    (in_tmp / "Dockerfile").write_text("FROM alpine:3.20\n")

    assert main(["fix", "--diff", "--registry", REGISTRY, "."]) == 1
    err = capsys.readouterr().err
    assert err.count("ecr-ptc: GitHub Actions must log in to") == 1
    assert err.count("ecr-ptc: CircleCI must log in to") == 1
    assert "aws-actions/amazon-ecr-login@v2" in err and "oidc_role_arn" in err
    assert "GitLab" not in err  # no GitLab file changed

    assert main(["fix", "--registry", REGISTRY, "Dockerfile"]) == 1
    assert "must log in" not in capsys.readouterr().err  # a Dockerfile is not a CI job
