"""The provers a run consults, in order: the first whose `unit` claims a file holds its rewrite."""

from __future__ import annotations

from migrate.provers import helm, kustomize, kustomize_build
from migrate.provers.protocol import Prover

PROVERS: tuple[Prover, ...] = (helm, kustomize)


def start() -> None:
    """A run begins: children may be started again after an earlier run's `stop`."""
    import sys

    child = sys.modules.get("migrate.provers.helm_child")
    if child is not None:
        child.reset()
    kustomize_build.reset()


def stop() -> None:
    """End every child process the provers started (the run is ending on a signal)."""
    import sys

    child = sys.modules.get("migrate.provers.helm_child")  # loaded only if a chart was proven
    if child is not None:
        child.stop()
    kustomize_build.stop()
