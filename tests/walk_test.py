from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from migrate.config import Config
from migrate.rewrite.walk import Tally, walk


def _walk(root: Path, *paths: str, config: Config | None = None) -> list[tuple[str, str | None]]:
    return [(c.display, c.problem) for c in walk(paths or (".",), config or Config(), root)]


def test_plain_directory_walk_skips_vendored_trees(tmp_path: Path) -> None:
    for rel in (
        "Dockerfile",
        "a/compose.yaml",
        "node_modules/x/Dockerfile",
        ".git/Dockerfile",
        "vendor/y/Dockerfile",
        "docs/README.md",
    ):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text("")
    assert _walk(tmp_path) == [("Dockerfile", None), ("a/compose.yaml", None)]


def test_git_walk_honours_gitignore_and_lists_untracked(tmp_path: Path) -> None:
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    (tmp_path / ".gitignore").write_text("ignored/\n")
    for rel in ("ignored/Dockerfile", "new/Dockerfile", "x.yaml"):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text("")
    assert _walk(tmp_path) == [("new/Dockerfile", None), ("x.yaml", None)]


def test_symlinks_never_leave_the_root(tmp_path: Path) -> None:
    root, outside = tmp_path / "root", tmp_path / "outside"
    root.mkdir()
    outside.mkdir()
    (outside / "Dockerfile").write_text("FROM alpine\n")
    (root / "Dockerfile").write_text("FROM alpine\n")
    os.symlink(outside / "Dockerfile", root / "escape.Dockerfile")
    os.symlink(root / "Dockerfile", root / "inside.Dockerfile")
    os.symlink(root / "missing", root / "broken.Dockerfile")
    os.symlink(outside, root / "linked-dir")

    assert _walk(root) == [
        ("Dockerfile", None),
        ("broken.Dockerfile", "broken symlink"),
        ("escape.Dockerfile", "symlink points outside the repository; not followed"),
    ]


def test_explicit_files_and_excludes(tmp_path: Path) -> None:
    (tmp_path / "charts" / "vendor").mkdir(parents=True)
    (tmp_path / "charts" / "vendor" / "values.yaml").write_text("")
    (tmp_path / "Dockerfile").write_text("")
    (tmp_path / "notes.txt").write_text("")
    config = Config(exclude=("charts/vendor/**",))
    assert _walk(tmp_path, config=config) == [("Dockerfile", None)]
    assert _walk(tmp_path, "Dockerfile", "notes.txt", "Dockerfile") == [("Dockerfile", None)]


def test_fifo_named_like_a_dockerfile_is_reported_not_opened(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "Dockerfile")
    (tmp_path / "Containerfile").mkdir()
    assert _walk(tmp_path) == [("Dockerfile", "not a regular file")]


def test_a_path_that_does_not_exist_is_an_error_not_a_clean_run(in_tmp: Path) -> None:
    from migrate.cli import main

    assert main(["lint", "deplyo"]) == 2  # a typo of a directory: nothing would be linted
    assert main(["lint", "deploy/Dockerfile"]) == 2


_TREE = (
    "Dockerfile",
    "tests/e2e/Dockerfile",
    "pkg/testdata/compose.yaml",
    "web/__fixtures__/Dockerfile",
    "web/__tests__/Dockerfile",
    "bower_components/x/Dockerfile",
    "test/Dockerfile",
    "contest/Dockerfile",  # a name that only contains `test`
)


def _tree(root: Path) -> None:
    for rel in _TREE:
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text("")


@pytest.mark.parametrize("git", [False, True], ids=["plain", "git"])
def test_test_directories_are_skipped_and_counted(git: bool, tmp_path: Path) -> None:
    _tree(tmp_path)
    if git:
        subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    tally = Tally()
    found = [c.display for c in walk(["."], Config(), tmp_path, tally=tally)]
    assert found == ["Dockerfile", "contest/Dockerfile"]
    assert tally.tests == 6


def test_test_directories_are_read_when_asked(tmp_path: Path) -> None:
    _tree(tmp_path)
    found = [c.display for c in walk(["."], Config(include_tests=True), tmp_path)]
    assert len(found) == len(_TREE)


def test_a_test_directory_or_file_named_explicitly_is_read(tmp_path: Path) -> None:
    _tree(tmp_path)
    (tmp_path / "tests" / "e2e" / "testdata").mkdir()
    (tmp_path / "tests" / "e2e" / "testdata" / "Dockerfile").write_text("")
    tally = Tally()
    paths = ["tests", "test/Dockerfile", "pkg/testdata/compose.yaml"]
    found = [c.display for c in walk(paths, Config(), tmp_path, tally=tally)]
    # A directory given is read; test directories below it are still test data.
    assert found == ["tests/e2e/Dockerfile", "test/Dockerfile", "pkg/testdata/compose.yaml"]
    assert tally.tests == 1


def test_a_charts_helm_test_templates_are_read(tmp_path: Path) -> None:
    for rel in ("chart/templates/tests/test-connection.yaml", "chart/tests/values_test.yaml"):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text("")
    found = [c.display for c in walk(["."], Config(), tmp_path)]
    assert found == ["chart/templates/tests/test-connection.yaml"]
    found = [c.display for c in walk(["chart/templates"], Config(), tmp_path)]
    assert found == ["chart/templates/tests/test-connection.yaml"]
