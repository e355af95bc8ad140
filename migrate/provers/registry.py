"""The provers a run consults, in order: the first whose `unit` claims a file holds its rewrite.

A prover's module, and the graph, renderer or builder it brings, is imported only when a file
its FILES can name is rewritten: a hook on a Dockerfile never loads one. FILES (searched in the
file's name) covers every file the prover's `unit` can claim (tests/provers_test.py checks it
against the module); a new prover is still one line here."""

from __future__ import annotations

import importlib
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from types import ModuleType

from migrate.config import Config
from migrate.context import Repo
from migrate.provers.protocol import Change, Objection, Prover


class Lazy:
    """A prover's module, imported when a file its FILES names is first asked about."""

    def __init__(self, name: str, files: str) -> None:
        self.NAME = name  # the module's NAME, and its name in this package
        self.FILES = files
        self._files = re.compile(files)

    def load(self) -> ModuleType:
        return importlib.import_module(f"{__package__}.{self.NAME}")

    def unit(self, path: Path, repo: Repo) -> Path | None:
        if self._files.search(path.name) is None:
            return None
        found: Path | None = self.load().unit(path, repo)
        return found

    def prove(
        self, unit: Path, changes: Mapping[Path, Change], repo: Repo, config: Config
    ) -> Iterator[Objection]:
        objections: Iterator[Objection] = self.load().prove(unit, changes, repo, config)
        return objections


PROVERS: tuple[Prover, ...] = (
    Lazy("helm", r"(?i)\.(?:ya?ml|tpl)$"),  # a chart's values files and templates
    Lazy("kustomize", r"\.ya?ml$|^Kustomization$"),  # kustomizations and the files they read
)


def start() -> None:
    """A run begins: children may be started again after an earlier run's `stop`."""
    for module in _children():
        module.reset()


def stop() -> None:
    """End every child process the provers started (the run is ending on a signal)."""
    for module in _children():
        module.stop()


def _children() -> list[ModuleType]:
    """The loaded modules that start children: only a run that proved something loaded them."""
    import sys

    names = ("migrate.provers.helm_child", "migrate.provers.kustomize_build")
    return [sys.modules[name] for name in names if name in sys.modules]
