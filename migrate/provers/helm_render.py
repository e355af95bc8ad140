"""Helm's own engine, offline: render a chart's templates as `helm template` would, with no
cluster and no network (`lookup` returns nothing). The optional `helm` extra installs it
(`helm-python-sdk`, Helm 4's Go SDK behind ctypes); it is imported only here, only when a chart
is proven, so a run that touches no chart never loads its 85 MB library."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from pathlib import Path
from typing import Any

RELEASE = "release"  # what `helm template` calls a release when given no name
NAMESPACE = "default"


@functools.cache
def available() -> str | None:
    """None when the renderer can be used, else why not (one line for the user)."""
    try:
        import helm_python  # noqa: F401
    except ImportError:
        return "Helm's renderer is not installed (pip install 'ecr-ptc[helm]')"
    except OSError as exc:  # the bundled libhelm_c could not be loaded on this platform
        return f"Helm's renderer could not be loaded: {exc}"
    return None


def render(chart: Path, overrides: Mapping[str, str]) -> dict[str, dict[str, str] | str]:
    """For the chart's defaults ('' key) and each override values file (name -> YAML text):
    template path -> rendered manifest text, or why that values set does not render alone."""
    import helm_python

    out: dict[str, dict[str, str] | str] = {}
    try:
        with helm_python.Chart.load(chart) as loaded:
            # Helm's dependency list loads the whole chart again: only for a chart with some.
            missing = _missing(chart) if loaded.metadata.get("dependencies") else set()
            for name, text in {"": "", **overrides}.items():
                try:
                    values = helm_python.values_from_yaml(text) if text.strip() else None
                    # `helm template` refuses a chart whose enabled dependencies are not in
                    # charts/; the engine alone would render it without them, silently.
                    # (Merging the values crosses into Helm and back as JSON: only if needed.)
                    absent = (
                        _enabled(loaded, loaded.merge_values(values), missing) if missing else []
                    )
                    if absent:
                        out[name] = (
                            "dependencies neither vendored in charts/ nor in this repository: "
                            + ", ".join(absent)
                        )
                    else:
                        out[name] = _render(loaded, values)
                except helm_python.HelmError as exc:
                    out[name] = _first_line(str(exc))
    except helm_python.HelmError as exc:
        return dict.fromkeys(("", *overrides), _first_line(str(exc)))
    return out


def missing(chart: Path) -> set[str]:
    """The dependencies Helm does not find in the chart's charts/ (none when it cannot say)."""
    import helm_python

    try:
        return _missing(chart)
    except helm_python.HelmError:
        return set()


def _missing(chart: Path) -> set[str]:
    import helm_python

    listed = helm_python.dependency_list(chart)
    return {d["name"] for d in listed if d.get("status") not in ("ok", "unpacked")}


def _render(chart: Any, values: dict[str, Any] | None) -> dict[str, str]:
    rendered: dict[str, str] = chart.render(values, name=RELEASE, namespace=NAMESPACE)
    return rendered


def _enabled(chart: Any, values: dict[str, Any], missing: set[str]) -> list[str]:
    """The missing dependencies whose `condition` does not turn them off for `values`."""
    out = []
    for dependency in chart.metadata.get("dependencies") or ():
        name = dependency.get("name")
        if name not in missing:
            continue
        conditions = [c.strip() for c in str(dependency.get("condition") or "").split(",")]
        decided = [v for v in (_lookup(values, c) for c in conditions if c) if isinstance(v, bool)]
        if not decided or decided[0]:  # Helm: the first condition path that resolves decides
            out.append(str(name))
    return out


def _lookup(values: Any, dotted: str) -> Any:
    for key in dotted.split("."):
        if not isinstance(values, dict) or key not in values:
            return None
        values = values[key]
    return values


def _first_line(message: str) -> str:
    line = " ".join(message.split()) or "render failed"
    return line if len(line) <= 300 else line[:297] + "..."
