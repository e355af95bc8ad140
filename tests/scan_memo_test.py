"""What a scan remembers to go faster gives the answers it would without: per-directory facts
are kept for the runs under way only, a chart's values.yaml is composed once per run, and a
walk resolves each directory once."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from migrate.config import Config
from migrate.facts import directories
from migrate.kinds import helm
from migrate.rewrite import engine
from migrate.rewrite.results import FileResult
from migrate.rewrite.walk import OUTSIDE, display_path, walk
from migrate.syntax import yaml as _yaml
from tests.helpers import REGISTRY

VALUES = "image:\n  repository: nginx\n  tag: '1.27'\nsidecar:\n  image: redis:7.4\n"
OVERRIDE = "sidecar:\n  image: busybox:1.36\n"


def _run(root: Path, *, fix: bool = False) -> list[FileResult]:
    return list(engine.run(["."], Config(registry=REGISTRY), root, fix=fix, jobs=1))


def _chart(root: Path) -> Path:
    """A chart in a git repository, whose listing is sorted: ci/ comes before values.yaml."""
    subprocess.run(["git", "init", "-q"], cwd=root, check=True)
    chart = root / "chart"
    (chart / "ci").mkdir(parents=True)
    (chart / "Chart.yaml").write_text("apiVersion: v2\nname: app\nversion: 1.0.0\n")
    (chart / "values.yaml").write_text(VALUES)
    (chart / "ci" / "a-values.yaml").write_text(OVERRIDE)  # walked before values.yaml
    return chart


def test_a_directory_answer_is_kept_during_a_run_and_asked_again_after(tmp_path: Path) -> None:
    here = str(tmp_path)
    with directories.remembered():
        assert not directories.holds(here, "Chart.yaml")
        (tmp_path / "Chart.yaml").write_text("")
        assert not directories.holds(here, "Chart.yaml")  # the run's answer
    assert directories.holds(here, "Chart.yaml")


def test_outside_a_run_every_question_is_asked_again(tmp_path: Path) -> None:
    here = str(tmp_path)
    assert not directories.holds(here, "Chart.yaml")
    (tmp_path / "Chart.yaml").write_text("")
    assert directories.holds(here, "Chart.yaml")


def test_answers_last_until_the_last_of_two_runs_under_way_ends(tmp_path: Path) -> None:
    here = str(tmp_path)
    with directories.remembered():
        with directories.remembered():
            assert not directories.holds(here, "Chart.yaml")
        (tmp_path / "Chart.yaml").write_text("")
        assert not directories.holds(here, "Chart.yaml")
    assert directories.holds(here, "Chart.yaml")


def test_a_chart_made_between_two_runs_is_seen_by_the_second(tmp_path: Path) -> None:
    (tmp_path / "app.yaml").write_text("image: nginx:1.27\n")
    assert [r.path for r in _run(tmp_path)] == []  # YAML of no kind
    (tmp_path / "Chart.yaml").write_text("apiVersion: v2\nname: app\nversion: 1.0.0\n")
    assert [(r.path, r.file_kind) for r in _run(tmp_path)] == [("app.yaml", "helm")]


def test_values_yaml_is_composed_once_when_an_override_file_comes_first(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _chart(tmp_path)
    composed: list[str] = []
    documents = _yaml.documents

    def counted(text: str, *args: object, **kwargs: object) -> list[_yaml.Node]:
        composed.append(text)
        return documents(text, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(_yaml, "documents", counted)
    found = _run(tmp_path)
    assert [r.path for r in found] == ["chart/ci/a-values.yaml", "chart/values.yaml"]
    assert composed.count(VALUES) == 1


def test_values_yaml_composed_once_scans_as_when_composed_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _chart(tmp_path)
    kept = _run(tmp_path)
    monkeypatch.setattr(helm, "_composed_defaults", lambda *args: [])
    assert kept == _run(tmp_path)
    assert any(
        f.code == "PTC001" for r in kept if r.path == "chart/values.yaml" for f in r.findings
    )


def test_a_rewritten_values_yaml_is_verified_on_its_own_tree(tmp_path: Path) -> None:
    # The verifying re-scan of the rewritten values.yaml must not be served the tree composed
    # from the file as written: its spans would no longer match, and the rewrite be refused.
    _chart(tmp_path)
    (values,) = [r for r in _run(tmp_path, fix=True) if r.path == "chart/values.yaml"]
    assert values.after is not None and REGISTRY.encode() in values.after
    assert not [f for f in values.findings if f.code == "PTC900"]


def test_a_walk_through_a_symlinked_directory_resolves_as_each_file_would(
    tmp_path: Path,
) -> None:
    real = tmp_path / "real"
    (real / "a" / "b").mkdir(parents=True)
    subprocess.run(["git", "init", "-q"], cwd=real, check=True)
    for rel in ("Dockerfile", "a/Dockerfile", "a/b/compose.yaml"):
        (real / rel).write_text("FROM alpine\n")
    os.symlink(tmp_path / "real" / "a" / "Dockerfile", real / "a" / "b" / "linked.Dockerfile")
    os.symlink(tmp_path / "elsewhere" / "Dockerfile", real / "a" / "broken.Dockerfile")
    (tmp_path / "outside.Dockerfile").write_text("FROM alpine\n")
    os.symlink(tmp_path / "outside.Dockerfile", real / "a" / "b" / "escape.Dockerfile")
    os.symlink(real, tmp_path / "alias")

    found = list(walk(["alias"], Config(), tmp_path))
    assert [(c.display, c.problem) for c in found] == [
        ("alias/Dockerfile", None),
        ("alias/a/Dockerfile", None),
        ("alias/a/b/compose.yaml", None),
        ("alias/a/b/escape.Dockerfile", OUTSIDE),
        ("alias/a/broken.Dockerfile", "broken symlink"),
    ]
    for candidate in found:
        if candidate.real is not None:
            assert candidate.real == (tmp_path / candidate.display).resolve(strict=True)


@pytest.mark.parametrize(
    ("cwd", "given"),
    [
        ("repo", "."),
        (".", "repo"),
        ("elsewhere", "../repo"),
        ("repo/a/b", "../.."),
        ("repo/a", "../a"),
    ],
)
def test_a_walk_shows_each_file_as_display_path_does(tmp_path: Path, cwd: str, given: str) -> None:
    repo = tmp_path / "repo"
    (repo / "a" / "b").mkdir(parents=True)
    (tmp_path / "elsewhere").mkdir()
    for rel in ("Dockerfile", "a/Dockerfile", "a/b/compose.yaml"):
        (repo / rel).write_text("FROM alpine\n")
    found = list(walk([given], Config(), tmp_path / cwd))
    assert len(found) == (3 if given != "../a" else 2)
    for candidate in found:
        assert candidate.real is not None
        assert candidate.display == display_path(candidate.real, (tmp_path / cwd).resolve())
