"""The engine's contract with provers: held rewrites wait for the ruling of their unit, blocked
files are not written, the rest are, and results keep the walk's order."""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest

from migrate.config import Config
from migrate.context import Repo
from migrate.findings import Status
from migrate.provers.protocol import Change, Objection, is_cache_target
from migrate.rewrite import engine
from tests.helpers import REGISTRY

CONFIG = Config(registry=REGISTRY)


class _Refuses:
    """Claims files under `unit/`; blocks `unit/b/Dockerfile`, notes `unit/a/Dockerfile`."""

    NAME = "test"

    def __init__(self) -> None:
        self.seen: list[tuple[Path, dict[Path, Change]]] = []

    def unit(self, path: Path, repo: Repo) -> Path | None:
        return repo.root / "unit" if path.is_relative_to(repo.root / "unit") else None

    def prove(
        self, unit: Path, changes: Mapping[Path, Change], repo: Repo, config: Config
    ) -> Iterator[Objection]:
        self.seen.append((unit, dict(changes)))
        for path in changes:
            if path.parent.name == "b":
                yield Objection(path, 1, "PTC010", "would render busybox", blocks=True)
            else:
                yield Objection(path, 1, "PTC011", "not render-verified", blocks=False)


def _tree(root: Path) -> None:
    for name in ("a", "unit/a", "unit/b", "z"):
        (root / name).mkdir(parents=True)
        (root / name / "Dockerfile").write_text("FROM nginx:1.27\n")


def test_held_rewrites_are_ruled_on_then_written(tmp_path: Path) -> None:
    _tree(tmp_path)
    prover = _Refuses()
    results = list(
        engine.run(["."], CONFIG, tmp_path, fix=True, write=True, jobs=1, provers=(prover,))
    )

    assert [r.path for r in results] == [
        "a/Dockerfile", "unit/a/Dockerfile", "unit/b/Dockerfile", "z/Dockerfile",
    ]  # fmt: skip
    ((unit, changes),) = prover.seen
    assert unit == tmp_path.resolve() / "unit"
    assert sorted(p.parent.name for p in changes) == ["a", "b"]
    assert all(
        c.before == b"FROM nginx:1.27\n" and REGISTRY.encode() in c.after for c in changes.values()
    )
    written = {r.path: r.written for r in results}
    assert written == {
        "a/Dockerfile": True, "unit/a/Dockerfile": True, "unit/b/Dockerfile": False, "z/Dockerfile": True,
    }  # fmt: skip
    assert (tmp_path / "unit/b/Dockerfile").read_text() == "FROM nginx:1.27\n"
    assert REGISTRY in (tmp_path / "unit/a/Dockerfile").read_text()
    blocked = results[2]
    assert [(f.code, f.status) for f in blocked.findings] == [
        ("PTC001", Status.PUBLIC), ("PTC010", Status.REFUSED),
    ]  # fmt: skip
    assert blocked.findings[0].target is None  # not rewritten: no target is claimed
    assert [f.code for f in results[1].findings] == ["PTC001", "PTC011"]


@pytest.mark.parametrize(
    ("before", "after", "target"),
    [
        ("nginx:1.27", f"{REGISTRY}/docker-hub/library/nginx:1.27", True),
        (
            "docker.io/bitnami/redis:7.2@sha256:" + "a" * 64,
            f"{REGISTRY}/docker-hub/bitnami/redis:7.2@sha256:" + "a" * 64,
            True,
        ),
        ("quay.io/org/app:v1", f"{REGISTRY}/quay/org/app:v1", True),
        ("nginx:1.27", f"{REGISTRY}/docker-hub/nginx:1.27", False),  # library/ lost
        ("nginx:1.27", f"{REGISTRY}/quay/library/nginx:1.27", False),  # another rule's prefix
        ("nginx:1.27", f"{REGISTRY}/docker-hub/library/nginx", False),  # the tag lost
        (
            "nginx:1.27",
            "210987654321.dkr.ecr.us-east-1.amazonaws.com/docker-hub/library/nginx:1.27",
            False,
        ),
        (
            "gcr.io/distroless/static",
            f"{REGISTRY}/gcr/distroless/static",
            False,
        ),  # no rule serves it
    ],
)
def test_cache_target_is_what_fix_makes_of_it(before: str, after: str, target: bool) -> None:
    assert is_cache_target(before, after, CONFIG) is target


def test_check_mode_rules_but_writes_nothing(tmp_path: Path) -> None:
    _tree(tmp_path)
    results = list(
        engine.run(["."], CONFIG, tmp_path, fix=True, write=False, jobs=1, provers=(_Refuses(),))
    )
    assert [r.changed for r in results] == [True, True, False, True]
    assert all(p.read_text() == "FROM nginx:1.27\n" for p in tmp_path.rglob("Dockerfile"))


class _Touches:
    """While its unit is proven, another process rewrites a file with the very same bytes (a
    writer that is not done with it): the held rewrite must not land, as any other would not."""

    NAME = "touch"

    def unit(self, path: Path, repo: Repo) -> Path | None:
        return repo.root

    def prove(
        self, unit: Path, changes: Mapping[Path, Change], repo: Repo, config: Config
    ) -> Iterator[Objection]:
        for path in changes:
            path.write_bytes(path.read_bytes())  # same bytes, a new mtime
            stat = path.stat()
            os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))
        return iter(())


def test_a_held_rewrite_is_checked_like_any_other_before_it_is_written(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text("FROM nginx:1.27\n")
    (result,) = engine.run(
        ["."], CONFIG, tmp_path, fix=True, write=True, jobs=1, provers=(_Touches(),)
    )
    assert not result.written
    assert [f.code for f in result.findings] == ["PTC001", "PTC900"]
    assert "changed on disk" in result.findings[-1].message
    assert (tmp_path / "Dockerfile").read_text() == "FROM nginx:1.27\n"


def test_a_prover_is_imported_only_for_names_its_unit_can_claim(tmp_path: Path) -> None:
    """The registry asks a prover's module only about names its FILES matches: every name the
    module's `unit` claims must match (here: every file of the fixtures and a chart + overlay)."""
    from migrate.provers.registry import PROVERS, Lazy
    from tests.helpers import FIXTURES

    shutil.copytree(FIXTURES / "kustomize" / "overlay" / "in", tmp_path / "k")
    shutil.copytree(FIXTURES / "helm" / "namespace_name" / "in", tmp_path / "c")
    (tmp_path / "k" / "Dockerfile").write_text("FROM nginx\n")
    repo = Repo(tmp_path)
    names = {p.name for p in FIXTURES.rglob("*") if p.is_file()}
    for prover in PROVERS:
        assert isinstance(prover, Lazy)
        module = prover.load()
        assert module.NAME == prover.NAME
        claimed = [p for p in tmp_path.rglob("*") if p.is_file() and module.unit(p, repo)]
        assert claimed, prover.NAME
        for path in claimed:
            assert prover.unit(path, repo) == module.unit(path, repo)
        for name in names:
            if not re.search(prover.FILES, name):
                assert module.unit(tmp_path / "c" / "templates" / name, repo) is None, name
                assert module.unit(tmp_path / "k" / "base" / name, repo) is None, name
