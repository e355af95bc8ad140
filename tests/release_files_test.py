"""The values files a helmfile release, an Argo CD Application or a Flux HelmRelease installs
a chart with (`guard.of`) are found whatever the release files' line endings."""

from __future__ import annotations

import shutil
from pathlib import Path

from migrate.context import Repo
from migrate.facts.charts import guard
from tests.helpers import FIXTURES

RELEASES = ("helmfile.yaml", "apps/postgresql.yaml", "flux/mongodb/release.yaml")


def _released(root: Path) -> dict[str, str]:
    return {str(path.relative_to(root)): chart for path, chart in guard.of(Repo(root)).items()}


def test_release_files_with_crlf_line_endings_name_the_same_values(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    shutil.copytree(FIXTURES / "helm" / "bitnami_guard" / "in", repo)
    as_written = _released(repo)
    assert {"values/redis.yaml", "values/postgresql.yaml", "flux/mongodb/mongodb.yaml"} <= set(
        as_written
    )
    for name in (*RELEASES, "flux/mongodb/kustomization.yaml"):
        path = repo / name
        path.write_bytes(path.read_bytes().replace(b"\n", b"\r\n"))
    assert _released(repo) == as_written
