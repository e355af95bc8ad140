"""Staging a chart's dependencies that are not vendored in its charts/ but live in the same
repository (`migrate.facts.charts.dependencies`): the prover renders a copy with each found one
copied into the copy's charts/, so a chart repository that holds everything it needs is proven;
the user's chart is never written."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path, PurePath
from typing import Any

from migrate.facts.charts import dependencies

# Dependencies of dependencies, each staged in its own parent's charts/: deeper is not a chart
# repository's layout but a cycle.
_MAX_DEPTH = 4


def found(
    chart: Path, missing: Callable[[Path], set[str]], root: Path, depth: int = 0
) -> list[tuple[Path, list[Any]]]:
    """Each missing dependency of `chart` that the repository holds, as (its directory, its own
    found dependencies, the same shape), in Chart.yaml's order."""
    if depth >= _MAX_DEPTH:
        return []
    absent = missing(chart)
    out: list[tuple[Path, list[Any]]] = []
    for dependency in dependencies.declared(chart):
        if dependency["name"] not in absent:
            continue
        source = dependencies.local(chart, dependency, root)
        if source is not None:
            out.append((source, found(source, missing, root, depth + 1)))
    return out


def missing(chart: Path) -> set[str]:
    """The declared dependencies the chart's charts/ does not hold, as a directory of that name
    or a packaged `<name>-<version>.tgz`. Read from the files, not through Helm: the parent
    process never loads Helm's library, and never reads the user's chart with it."""
    vendored = chart / "charts"
    try:
        packaged = [p.name for p in vendored.iterdir() if p.name.endswith(".tgz")]
    except OSError:
        packaged = []
    absent = set()
    for dependency in dependencies.declared(chart):
        name = dependency["name"]
        if (vendored / name / "Chart.yaml").is_file():
            continue
        if any(p.startswith(f"{name}-") for p in packaged):
            continue
        absent.add(name)
    return absent


def stage(
    copy: PurePath,
    found: list[tuple[Path, list[Any]]],
    copier: Callable[[Path, PurePath], Any],
    exists: Callable[[PurePath], bool] = lambda path: Path(path).exists(),
) -> None:
    """Copy each found dependency into `copy`'s charts/, its own ones into its copy's charts/."""
    for source, nested in found:
        target = copy / "charts" / source.name
        if exists(target):
            continue  # a vendored copy Helm did not accept (a wrong version): leave it
        copier(source, target)
        stage(target, nested, copier, exists)
