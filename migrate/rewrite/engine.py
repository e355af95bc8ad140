"""A run over files: the walk's candidates through the per-file pipeline (`one_file`), in this
process or a pool, then the rewrites held for provers ruled on (`held`); results in walk order.

Files a prover claims (a chart's files, a kustomization's) are held back after the re-scan
until the prover has ruled on their unit (`migrate.provers`), then written or refused."""

from __future__ import annotations

import functools
import itertools
import os
from collections.abc import Iterable, Iterator
from dataclasses import replace
from pathlib import Path

from migrate.config import Config
from migrate.context import Parsing
from migrate.facts.directories import remembered
from migrate.provers.protocol import Prover
from migrate.provers.registry import PROVERS
from migrate.rewrite import pool
from migrate.rewrite.held import ruled_in_order
from migrate.rewrite.one_file import lean_result
from migrate.rewrite.results import FileResult
from migrate.rewrite.settings import Settings
from migrate.rewrite.walk import Candidate, Tally, walk


def run(
    paths: Iterable[str],
    config: Config,
    cwd: Path,
    *,
    fix: bool = False,
    write: bool = False,
    jobs: int | None = None,
    parsing: Parsing | None = None,
    provers: tuple[Prover, ...] = PROVERS,
    tally: Tally | None = None,
) -> Iterator[FileResult]:
    """Every candidate's result, in walk order. Large trees are spread over `jobs` processes
    (default: $ECR_PTC_JOBS, else one per CPU); small ones, such as a hook's files, stay in
    this process, where forking would cost more than it saves."""
    paths = list(paths)
    if parsing is None:
        # A directory is a tree walk: its YAML repays libyaml's import (PyYAML) from the first
        # file on, where ruamel's pure composer would cost both its own import and ~10x per byte.
        # A hook names its files: they stay with the pure composer until they add up.
        walks_a_tree = any(os.path.isdir(os.path.join(cwd, path)) for path in paths)
        parsing = Parsing(fast=True) if walks_a_tree else Parsing()
    settings = Settings(config, fix, write, parsing, provers)
    with remembered():
        results = _in_walk_order(walk(paths, config, cwd, tidy=write, tally=tally), settings, jobs)
        yield from ruled_in_order(results, settings, cwd) if fix and provers else results


def _in_walk_order(
    candidates: Iterator[Candidate], settings: Settings, jobs: int | None
) -> Iterator[FileResult]:
    workers = pool.workers(jobs)
    head: list[Candidate] = []
    if workers > 1:
        work = 0
        for candidate in candidates:
            head.append(candidate)
            work += pool.work(candidate)
            if work >= pool.MIN_WORK:
                everything = itertools.chain(head, candidates)
                # A big run composes much YAML: libyaml repays its import whatever a file's size.
                if settings.parsing.fast is None:
                    settings.parsing = replace(settings.parsing, fast=True)
                yield from pool.run(everything, _task(settings), workers)
                return
    each = _task(settings)
    read = 0
    for candidate in itertools.chain(head, candidates):
        result = each(candidate)
        if result is not None:
            yield result
        if settings.parsing.fast is None:
            # A hook's few small files stay with the pure parser (PyYAML's import costs more than
            # the pure parser spends on them);
            # past that, the run is a tree walk and libyaml repays its import on every file.
            read += pool.size(candidate)
            if read >= Parsing.FAST_FROM:
                settings.parsing = replace(settings.parsing, fast=True)


def _task(settings: Settings) -> functools.partial[FileResult | None]:
    """One file's work with the run's settings: what the pool's workers call, by name."""
    return functools.partial(lean_result, settings=settings)
