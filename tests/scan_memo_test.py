"""What a scan remembers to go faster gives the answers it would without: per-directory facts
are kept for the runs under way only."""

from __future__ import annotations

from pathlib import Path

from migrate.config import Config
from migrate.facts import directories
from migrate.rewrite import engine
from migrate.rewrite.results import FileResult
from tests.helpers import REGISTRY


def _run(root: Path) -> list[FileResult]:
    return list(engine.run(["."], Config(registry=REGISTRY), root, jobs=1))


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
