"""A chart's dependencies as Chart.yaml (requirements.yaml for apiVersion v1) declares them, and
where the repository holds one: a `file://` repository, or a chart of that name beside it under
the charts root (`bitnami/common` for every Bitnami chart's `common`)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import yaml

_SIBLINGS = 2000  # charts looked at beside one, by their Chart.yaml name


def declared(chart: Path) -> list[dict[str, Any]]:
    """The dependencies a chart declares, as written (no chart: none)."""
    found: list[dict[str, Any]] = []
    for name in ("Chart.yaml", "requirements.yaml"):
        data = load(chart / name)
        listed = data.get("dependencies") if isinstance(data, dict) else None
        if isinstance(listed, list):
            found.extend(
                d for d in listed if isinstance(d, dict) and isinstance(d.get("name"), str)
            )
    return found


def local(chart: Path, dependency: dict[str, Any], root: Path) -> Path | None:
    """The directory of the repository's own copy of `dependency`, if it holds one."""
    name, repository = dependency["name"], str(dependency.get("repository") or "")
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
        if resolved is not None and resolved != chart.resolve() and _name(resolved) == name:
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
    data = load(chart / "Chart.yaml")
    name = data.get("name") if isinstance(data, dict) else None
    return name if isinstance(name, str) else None


def load(path: Path) -> object:
    """A small YAML file of a chart (Chart.yaml), safely; None when it is not one."""
    import yaml

    try:
        if path.is_symlink() or not path.is_file():
            return None
        # libyaml's parser with the safe constructor: `yaml.safe_load` is the pure-Python
        # parser, a tenth of proving a chart tree whose renders are kept.
        loader = _safe_loader()(path.read_text("utf-8-sig"))
        try:
            return loader.get_single_data()
        finally:
            loader.dispose()
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return None


def _safe_loader() -> type[yaml.SafeLoader | yaml.CSafeLoader]:
    import yaml

    if yaml.__with_libyaml__:
        return yaml.CSafeLoader
    return yaml.SafeLoader
