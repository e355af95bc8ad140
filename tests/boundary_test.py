"""The symlink boundary: each given path's own repository (or, outside git, the directory it names),
found from where the path is written, whatever the working directory; `fix`, `fix --check`,
`scan` and `lint` say the same about it, and nothing outside it is ever written."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.helpers import REGISTRY, run_cli

COMPOSE = b"services:\n  web:\n    image: nginx:1.27\n"
OUTSIDE = "symlink points outside the repository; not followed"
COMMANDS = [
    ("fix", "--registry", REGISTRY),
    ("fix", "--check", "--registry", REGISTRY),
    ("scan",),
    ("lint",),
]


def _git(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    subprocess.run(["git", "init", "-q", str(path)], check=True)
    return path


def _runs(cwd: Path, *paths: str) -> list[tuple[int, str]]:
    """(exit code, stdout + stderr) of every command on `paths`, run from `cwd`."""
    out = []
    for command in COMMANDS:
        done = run_cli(*command, *paths, cwd=cwd)
        out.append((done.returncode, done.stdout + done.stderr))
    return out


def _refused_everywhere(runs: list[tuple[int, str]], shown: str) -> None:
    for code, output in runs:
        assert code == 2, output
        assert f"{shown}:1:1: PTC900 {OUTSIDE}" in output, output
        assert "Traceback" not in output


def _from(tmp_path: Path, where: str, target: Path) -> tuple[Path, str]:
    """Working directory and the path to `target` as written from it."""
    cwd = {"parent": tmp_path, "root": Path("/"), "inside": target.parent}[where]
    return cwd, os.path.relpath(target, cwd)


WHERE = ["parent", "root", "inside"]


@pytest.mark.parametrize("where", WHERE)
def test_issue_reproduction_is_refused_from_anywhere(where: str, tmp_path: Path) -> None:
    # git init repo; ln -s ../outside/compose.yaml repo/compose.yaml; ecr-ptc fix repo
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "compose.yaml").write_bytes(COMPOSE)
    repo = _git(tmp_path / "repo")
    os.symlink("../outside/compose.yaml", repo / "compose.yaml")
    cwd, given = _from(tmp_path, where, repo / "compose.yaml")
    directory = os.path.dirname(given) or "."

    for paths in ([directory], [given]):
        shown = given if where != "inside" else "compose.yaml"
        _refused_everywhere(_runs(cwd, *paths), shown)
    assert (tmp_path / "outside" / "compose.yaml").read_bytes() == COMPOSE


@pytest.mark.parametrize("where", WHERE)
def test_repository_under_a_symlinked_parent_is_its_own_boundary(
    where: str, tmp_path: Path
) -> None:
    # /tmp -> /private/tmp on macOS, a symlinked home or workspace: the link above the
    # repository is not the boundary, the repository is.
    real = tmp_path / "real"
    repo = _git(real / "repo")
    (real / "sibling.Dockerfile").write_bytes(b"FROM nginx:1.27\n")
    os.symlink("../sibling.Dockerfile", repo / "escape.Dockerfile")
    os.symlink(real, tmp_path / "alias")
    cwd, given = _from(tmp_path, where, tmp_path / "alias" / "repo" / "escape.Dockerfile")
    if where == "inside":  # the working directory is always a real path
        cwd, given = repo, "escape.Dockerfile"

    _refused_everywhere(_runs(cwd, given), given)
    _refused_everywhere(_runs(cwd, os.path.dirname(given) or "."), given)
    assert (real / "sibling.Dockerfile").read_bytes() == b"FROM nginx:1.27\n"


def test_symlinked_directory_inside_a_repository_is_refused_when_walked(tmp_path: Path) -> None:
    other = _git(tmp_path / "other")  # even when it leads into another repository
    (other / "compose.yaml").write_bytes(COMPOSE)
    repo = _git(tmp_path / "repo")
    os.symlink("../other", repo / "linked")

    for given in ("repo/linked", "repo/linked/compose.yaml"):
        _refused_everywhere(_runs(tmp_path, given), given)
    assert (other / "compose.yaml").read_bytes() == COMPOSE


def test_symlink_to_a_whole_repository_is_walked(tmp_path: Path) -> None:
    # `ecr-ptc fix ~/work` where ~/work links to the checkout: that repository is the boundary.
    repo = _git(tmp_path / "checkout")
    (repo / "compose.yaml").write_bytes(COMPOSE)
    os.symlink(repo, tmp_path / "work")

    checked = run_cli("lint", "work", cwd=tmp_path)
    fixed = run_cli("fix", "--registry", REGISTRY, "work", cwd=tmp_path)

    assert checked.returncode == 1 and ":3:12: PTC001 " in checked.stdout, checked.stdout
    assert fixed.returncode == 1, fixed.stdout + fixed.stderr
    assert REGISTRY.encode() in (repo / "compose.yaml").read_bytes()


@pytest.mark.parametrize("where", WHERE)
def test_outside_git_an_explicit_file_is_bounded_by_its_own_directory(
    where: str, tmp_path: Path
) -> None:
    # Not the working directory: from `/` that would be the whole file system.
    (tmp_path / "shared").mkdir()
    (tmp_path / "shared" / "Dockerfile").write_bytes(b"FROM nginx:1.27\n")
    plain = tmp_path / "plain"
    plain.mkdir()
    os.symlink("../shared/Dockerfile", plain / "Dockerfile")
    cwd, given = _from(tmp_path, where, plain / "Dockerfile")

    _refused_everywhere(_runs(cwd, given), given)
    assert (tmp_path / "shared" / "Dockerfile").read_bytes() == b"FROM nginx:1.27\n"
