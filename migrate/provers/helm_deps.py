"""A chart's dependencies that are not vendored in its charts/ but live in the same repository:
a `file://` repository in Chart.yaml (requirements.yaml for apiVersion v1), or a chart of that
name beside it under the charts root (`bitnami/common` for every Bitnami chart's `common`).
The prover renders a staging copy with each found one copied into the copy's charts/, so a
chart repository that holds everything it needs is proven; the user's chart is never written."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

# Dependencies of dependencies, each staged in its own parent's charts/: deeper is not a chart
# repository's layout but a cycle.
_MAX_DEPTH = 4
_SIBLINGS = 2000  # charts looked at beside one, by their Chart.yaml name


def declared(chart: Path) -> list[dict[str, Any]]:
    """The dependencies a chart declares, as written (no chart: none)."""
    found: list[dict[str, Any]] = []
    for name in ("Chart.yaml", "requirements.yaml"):
        data = _load(chart / name)
        listed = data.get("dependencies") if isinstance(data, dict) else None
        if isinstance(listed, list):
            found.extend(
                d for d in listed if isinstance(d, dict) and isinstance(d.get("name"), str)
            )
    return found


def found(
    chart: Path, missing: Callable[[Path], set[str]], root: Path, depth: int = 0
) -> list[tuple[Path, list[Any]]]:
    """Each missing dependency of `chart` that the repository holds, as (its directory, its own
    found dependencies, the same shape), in Chart.yaml's order."""
    if depth >= _MAX_DEPTH:
        return []
    absent = missing(chart)
    out: list[tuple[Path, list[Any]]] = []
    for dependency in declared(chart):
        name = dependency["name"]
        if name not in absent:
            continue
        source = _source(chart, name, str(dependency.get("repository") or ""), root)
        if source is not None and source != chart:
            out.append((source, found(source, missing, root, depth + 1)))
    return out


def stage(
    copy: Path, dependencies: list[tuple[Path, list[Any]]], copier: Callable[..., Any]
) -> None:
    """Copy each found dependency into `copy`'s charts/, its own ones into its copy's charts/."""
    for source, nested in dependencies:
        target = copy / "charts" / source.name
        if target.exists():
            continue  # a vendored copy Helm did not accept (a wrong version): leave it
        copier(source, target)
        stage(target, nested, copier)


def _source(chart: Path, name: str, repository: str, root: Path) -> Path | None:
    if repository.startswith("file://"):
        candidates = [chart / repository.removeprefix("file://")]
    else:
        parent = chart.parent
        candidates = [parent / name]
        try:
            siblings = sorted(p for p in parent.iterdir() if p.is_dir() and p.name != name)
        except OSError:
            siblings = []
        candidates += siblings[:_SIBLINGS]
    for candidate in candidates:
        resolved = _inside(candidate, root)
        if resolved is not None and _name(resolved) == name:
            return resolved
    return None


def _inside(path: Path, root: Path) -> Path | None:
    """`path` resolved, if it stays in the repository (a symlink out of it is never followed)."""
    try:
        resolved = path.resolve()
    except (OSError, RuntimeError):
        return None
    return resolved if resolved.is_relative_to(root.resolve()) and resolved.is_dir() else None


def _name(chart: Path) -> str | None:
    data = _load(chart / "Chart.yaml")
    name = data.get("name") if isinstance(data, dict) else None
    return name if isinstance(name, str) else None


def _load(path: Path) -> object:
    import yaml

    try:
        if path.is_symlink() or not path.is_file():
            return None
        return yaml.safe_load(path.read_text("utf-8-sig"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return None
