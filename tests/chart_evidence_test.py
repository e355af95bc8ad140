"""A chart's template evidence is worked out once per chart per run, whatever the number of its
values files, and once per content between runs (kept under .git, bounded); the findings are
the same with the cache, without it, and with a broken one."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from migrate.config import Config
from migrate.facts.charts import _cache
from migrate.facts.charts import evidence as _evidence
from migrate.rewrite import engine
from tests.helpers import FIXTURES, REGISTRY, corpus

CHART = FIXTURES / "helm" / "namespace_name" / "in"


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many times the templates were worked out (this process's memory cleared)."""
    monkeypatch.setattr(_cache, "_memory", {})
    calls: list[int] = []
    real = _evidence.read

    def counted(templates: list[tuple[str, str]]) -> _evidence.Evidence:
        calls.append(len(templates))
        return real(templates)

    monkeypatch.setattr(_evidence, "read", counted)
    return calls


def _scan(root: Path) -> list[tuple[str, int, str | None, str | None]]:
    results = engine.run(["."], Config(registry=REGISTRY), root, jobs=1)
    return sorted((f.path, f.line, f.code, f.target) for r in results for f in r.findings)


def _chart(root: Path) -> Path:
    shutil.copytree(CHART, root / "chart")
    for name in ("values-dev.yaml", "values-prod.yaml", "ci/values-test.yaml"):
        (root / "chart" / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(CHART / "values.yaml", root / "chart" / name)
    subprocess.run(["git", "init", "-q"], cwd=root, check=True)
    return root / "chart"


def test_once_per_chart_per_run_then_once_per_content(tmp_path: Path, reads: list[int]) -> None:
    chart = _chart(tmp_path)
    first = _scan(tmp_path)
    assert len(reads) == 1  # four values files, one reading of the templates
    assert len({f[0] for f in first}) >= 4

    _cache._memory.clear()  # a new process: only .git remembers
    assert _scan(tmp_path) == first
    assert len(reads) == 1
    assert len(list((tmp_path / ".git" / _cache.DIRECTORY).iterdir())) == 1

    template = next((chart / "templates").glob("*.yaml"))
    template.write_text(template.read_text() + "\n# changed\n")
    _cache._memory.clear()
    assert _scan(tmp_path) == first
    assert len(reads) == 2


def test_a_broken_entry_is_read_again(tmp_path: Path, reads: list[int]) -> None:
    _chart(tmp_path)
    first = _scan(tmp_path)
    (entry,) = (tmp_path / ".git" / _cache.DIRECTORY).iterdir()
    for broken in ("{", '{"format": 1, "used": [1]}', '{"format": 0}', "[]"):
        entry.write_text(broken)
        _cache._memory.clear()
        assert _scan(tmp_path) == first
    assert len(reads) == 5


def test_the_cache_is_bounded(
    tmp_path: Path, reads: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_cache, "MAX_ENTRIES", 3)
    store = tmp_path / "store"
    for n in range(6):
        _cache.evidence([("t.yaml", f"image: {{{{ .Values.image{n} }}}}\n")], store)
    assert len(list(store.iterdir())) == 3
    assert len(reads) == 6


@pytest.mark.corpus
def test_corpus_charts_scan_the_same_with_the_cache(tmp_path: Path, reads: list[int]) -> None:
    shutil.copytree(corpus() / "charts", tmp_path, dirs_exist_ok=True, symlinks=True)
    _cache._memory.clear()
    without = _scan(tmp_path)  # not a git repository: nothing kept between runs
    assert not (tmp_path / ".git").exists()
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    _cache._memory.clear()
    assert _scan(tmp_path) == without  # read, stored
    charts = len(reads)
    _cache._memory.clear()
    assert _scan(tmp_path) == without  # from .git
    assert len(reads) == charts
