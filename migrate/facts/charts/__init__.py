"""Helm charts as wholes: where a chart starts, what its templates say about its values, and
(with the optional renderer) what Helm itself renders from them.

A values file means something only through its chart's templates; the scanners ask this
package for the facts of the chart a file belongs to (`Charts`, one per repository, cached on
`of(repo)`), and the Helm prover renders charts before and after a rewrite.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import TYPE_CHECKING, Any

from migrate.context import Repo
from migrate.facts.directories import holds

if TYPE_CHECKING:
    from migrate.facts.charts.evidence import Evidence

CHART_FILE = "Chart.yaml"
# A values file or template sits at most this deep below its chart (templates/a/b/c.yaml).
_MAX_DEPTH = 6
_TEMPLATE_SUFFIXES = (".yaml", ".yml", ".tpl", ".txt", ".json")


def chart_root(path: Path, stop: Path | None = None) -> Path | None:
    """The nearest directory above `path` (or `path` itself) holding a Chart.yaml, not above
    `stop`: the chart a values file or template belongs to."""
    for depth, directory in enumerate((path, *path.parents) if path.is_dir() else path.parents):
        if depth > _MAX_DEPTH or (stop is not None and not directory.is_relative_to(stop)):
            return None
        if holds(str(directory), CHART_FILE):
            return directory
    return None


class Chart:
    """The facts of one chart, computed on first use: its templates' evidence, its own
    values.yaml as text (the defaults an override file is merged with)."""

    def __init__(self, root: Path, store: Path | None = None) -> None:
        self.root = root
        self.store = store  # where evidence is kept between runs (`_cache`), if anywhere
        self.defaults: object = None  # values.yaml composed, set by the values scanner
        self.defaults_read = False
        # (values.yaml's text, composed by libyaml?, its documents), once composed without error
        self.composed: tuple[str, bool, list[Any]] | None = None

    @functools.cached_property
    def evidence(self) -> Evidence:
        from migrate.facts.charts import _cache

        templates = self.root / "templates"
        found = []
        if templates.is_dir():
            for path in sorted(templates.rglob("*")):
                if path.suffix in _TEMPLATE_SUFFIXES and path.is_file() and not path.is_symlink():
                    try:
                        found.append((path.name, path.read_text("utf-8", "replace")))
                    except OSError:
                        continue
        return _cache.evidence(found, self.store)

    @functools.cached_property
    def values(self) -> str | None:
        try:
            return (self.root / "values.yaml").read_text("utf-8-sig")
        except (OSError, UnicodeDecodeError):
            return None


class Charts:
    """The charts of one repository (`of(repo)`), each read once per run."""

    def __init__(self, store: Path | None = None) -> None:
        self._charts: dict[Path, Chart] = {}
        self.store = store

    def of(self, path: Path, stop: Path | None = None) -> Chart | None:
        root = chart_root(path, stop)
        if root is None:
            return None
        if root not in self._charts:
            self._charts[root] = Chart(root, self.store)
        return self._charts[root]


def of(repo: Repo | None) -> Charts:
    """The charts of `repo`, kept for the run; a text scanned on its own gets a fresh set."""
    if repo is None:
        return Charts()
    from migrate.facts.charts import _cache

    return repo.memo(of, lambda: Charts(_cache.store_of(repo.root)))
