"""engine.run across a process pool: the same results, in the same order, as one process; small
runs (a hook's few files) never start a pool."""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Generator, Iterator
from pathlib import Path
from typing import Any

import pytest

from migrate.config import Config
from migrate.rewrite import engine, pool
from migrate.rewrite.results import FileResult
from migrate.rewrite.walk import Candidate
from tests.helpers import REGISTRY, ROOT

CONFIG = Config(registry=REGISTRY)
FILES: dict[str, str | bytes] = {
    "Dockerfile": "FROM node:20 AS build\nFROM nginx:1.27\nCOPY --from=build /a /b\n",
    "compose.yaml": "services:\n  web:\n    image: redis:7.4\n  app:\n    build: .\n    image: app\n",
    "deploy.yaml": "apiVersion: v1\nkind: Pod\nspec:\n  containers:\n  - image: quay.io/x/y:1\n",
    "values.yaml": "image:\n  registry: docker.io\n  repository: bitnami/redis\n  tag: 7.4.1\n",
    "broken.yaml": "apiVersion: v1\nkind: Pod\nspec: {image: [\n",
    "latin1/compose.yaml": b"services:\n  web:\n    image: nginx # caf\xe9\n",
}


def _tree(root: Path, copies: int = 12) -> Path:
    for n in range(copies):
        for name, body in FILES.items():
            path = root / f"svc{n:02d}" / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(body if isinstance(body, bytes) else body.encode())
    return root


@pytest.fixture
def pooled(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Force the pool for any tree, and count the pools started."""
    started: list[int] = []
    real = pool.run

    def spy(*args: Any) -> Iterator[FileResult]:
        started.append(args[-1])
        return real(*args)

    monkeypatch.setattr(pool, "MIN_WORK", 0)
    monkeypatch.setattr(pool, "_BATCH_FILES", 3)  # several batches even for a small tree
    monkeypatch.setattr(pool, "run", spy)
    return started


@pytest.mark.parametrize("fix", [False, True], ids=["scan", "fix"])
def test_pool_matches_one_process(tmp_path: Path, pooled: list[int], fix: bool) -> None:
    tree = _tree(tmp_path / "tree")
    serial = list(engine.run(["tree"], CONFIG, tmp_path, fix=fix, jobs=1))
    parallel = list(engine.run(["tree"], CONFIG, tmp_path, fix=fix, jobs=2))

    assert pooled == [2]
    assert parallel == serial
    assert len(serial) == 12 * len(FILES)
    assert any(r.changed for r in serial) == fix
    assert tree.exists()


def test_pool_writes_what_one_process_writes(tmp_path: Path, pooled: list[int]) -> None:
    _tree(tmp_path / "one")
    shutil.copytree(tmp_path / "one", tmp_path / "two")

    serial = list(engine.run(["one"], CONFIG, tmp_path, fix=True, write=True, jobs=1))
    parallel = list(engine.run(["two"], CONFIG, tmp_path, fix=True, write=True, jobs=2))

    assert pooled == [2]
    assert [r.written for r in parallel] == [r.written for r in serial]
    assert sum(r.written for r in serial) == 12 * 4
    for path in sorted((tmp_path / "one").rglob("*")):
        if path.is_file():
            assert (
                tmp_path / "two" / path.relative_to(tmp_path / "one")
            ).read_bytes() == path.read_bytes()


def test_small_runs_stay_in_process(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _tree(tmp_path / "tree", copies=2)
    monkeypatch.setattr(pool, "run", lambda *args: pytest.fail("pool started"))

    results = list(engine.run(["tree"], CONFIG, tmp_path, jobs=2))

    assert len(results) == 2 * len(FILES)


def test_stopping_early_shuts_the_pool_down(tmp_path: Path, pooled: list[int]) -> None:
    _tree(tmp_path / "tree")
    results = engine.run(["tree"], CONFIG, tmp_path, jobs=2)
    assert isinstance(results, Generator)

    first = next(results)
    results.close()  # the consumer stops: the workers must not outlive the generator

    assert pooled == [2] and first.path.endswith("svc00/Dockerfile")


@pytest.mark.parametrize(
    ("setting", "expected"),
    [
        pytest.param("1", 1, id="one"),
        pytest.param("3", 3, id="three"),
        pytest.param("0", None, id="zero-means-auto"),
        pytest.param("many", None, id="invalid-means-auto"),
    ],
)
def test_jobs_from_environment(
    monkeypatch: pytest.MonkeyPatch, setting: str, expected: int | None
) -> None:
    monkeypatch.setenv("ECR_PTC_JOBS", setting)
    auto = pool.workers(0)

    assert pool.workers(None) == (expected or auto)
    assert pool.workers(5) == 5  # an explicit count wins


def test_benchmark_tree_same_through_the_pool(tmp_path: Path, pooled: list[int]) -> None:
    """bench/generate.py: the same bytes for the same seed, and its realistic tree (CRDs, charts,
    bundles) gives the same results through the pool as in one process."""
    sys.path.insert(0, str(ROOT / "bench"))
    try:
        from generate import generate  # type: ignore[import-not-found]
    finally:
        sys.path.remove(str(ROOT / "bench"))
    one, two = tmp_path / "one", tmp_path / "two"
    assert generate(one, 2, seed=3) == generate(two, 2, seed=3) >= 2_000_000
    for path in one.rglob("*"):
        if path.is_file() and ".git" not in path.parts:
            assert (two / path.relative_to(one)).read_bytes() == path.read_bytes()

    serial = list(engine.run(["one"], CONFIG, tmp_path, fix=True, jobs=1))
    parallel = list(engine.run(["one"], CONFIG, tmp_path, fix=True, jobs=2))

    assert pooled == [2]
    assert parallel == serial
    assert sum(r.changed for r in serial) > 10
    assert not [f for r in serial for f in r.findings if f.code == "PTC900"]


def _where(candidate: Candidate) -> tuple[str, int]:
    return candidate.display, os.getpid()


def _candidates(count: int) -> list[Candidate]:
    return [Candidate(f"f{n:02d}", None) for n in range(count)]


def test_this_process_runs_every_countth_batch_and_workers_the_rest(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The parent is one of the `count` processes: it runs batches 0, 2, 4... itself (no core
    left to a worker that pays imports and facts again), results still in order."""
    monkeypatch.setattr(pool, "_BATCH_FILES", 3)

    results = list(pool.run(_candidates(12), _where, 2))

    assert [display for display, _ in results] == [f"f{n:02d}" for n in range(12)]
    here = [pid == os.getpid() for _, pid in results]
    assert here == [True] * 3 + [False] * 3 + [True] * 3 + [False] * 3
    assert len({pid for _, pid in results}) == 2  # one worker beside this process


def test_one_batch_never_forks(monkeypatch: pytest.MonkeyPatch) -> None:
    """One dense file past MIN_WORK is one batch: run here, its results never pickled."""
    monkeypatch.setattr(pool, "_BATCH_FILES", 3)
    forked: list[str] = []
    monkeypatch.setattr(os, "fork", lambda: forked.append("fork") or pytest.fail("forked"))

    results = list(pool.run(_candidates(2), _where, 2))

    assert results == [("f00", os.getpid()), ("f01", os.getpid())] and not forked
