"""The provers a run consults, in order: the first whose `unit` claims a file holds its rewrite."""

from __future__ import annotations

from migrate.provers import helm, kustomize
from migrate.provers.protocol import Prover

PROVERS: tuple[Prover, ...] = (helm, kustomize)


def stop() -> None:
    """End every child process the provers started (the run is ending on a signal)."""
    import sys

    child = sys.modules.get("migrate.provers.helm_child")  # loaded only if a chart was proven
    if child is not None:
        child.stop()
