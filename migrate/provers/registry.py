"""The provers a run consults, in order: the first whose `unit` claims a file holds its rewrite."""

from __future__ import annotations

from migrate.provers import helm, kustomize
from migrate.provers.protocol import Prover

PROVERS: tuple[Prover, ...] = (helm, kustomize)
