"""Rewrites a prover claims wait for its ruling: held after the re-scan, the unit proven (units
side by side), then each written as any other rewrite, or refused with the prover's reasons."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

from migrate.context import Repo
from migrate.findings import Finding, Status, file_error
from migrate.provers.protocol import Change, Objection, Prover
from migrate.provers.registry import start, stop
from migrate.rewrite import pool, source
from migrate.rewrite.results import FileResult, Held, lean
from migrate.rewrite.settings import Settings
from migrate.rewrite.walk import display_path
from migrate.rewrite.write import os_reason, write


def holder(
    settings: Settings, real: Path, repo: Repo | None, stamp: source.Stamp | None
) -> Held | None:
    """The first prover that claims the file: its rewrite waits for that prover's ruling."""
    if repo is None:
        return None
    for prover in settings.provers:
        unit = prover.unit(real, repo)
        if unit is not None:
            return Held(prover.NAME, unit, real, repo.root, stamp)
    return None


def ruled_in_order(
    results: Iterator[FileResult], settings: Settings, cwd: Path
) -> Iterator[FileResult]:
    """Results in walk order, each held-back rewrite ruled on by its prover first. Results
    stream until the first held one; from there on they wait, so the order stays the walk's."""
    waiting: list[FileResult] = []
    for result in results:
        if result.held is None and not waiting:
            yield result
        else:
            waiting.append(result)
    units: dict[tuple[str, Path], dict[Path, int]] = {}
    for index, result in enumerate(waiting):
        if result.held is not None:
            units.setdefault((result.held.prover, result.held.unit), {})[result.held.real] = index
    rulings = _rulings(units, waiting, settings)
    for held in units.values():
        ruling = next(rulings)
        if settings.config.prove == "require":
            ruling = _required(ruling, held)
        objections: dict[Path, list[Objection]] = {}
        for objection in ruling:
            objections.setdefault(objection.path, []).append(objection)
        for real, found in objections.items():
            if real in held:
                waiting[held[real]] = _ruled(waiting[held[real]], found)
            else:  # a file of the unit that this run does not rewrite
                display = display_path(real, cwd)
                waiting.append(FileResult(display, None, tuple(_objected(display, found))))
        for i in held.values():
            if settings.config.prove == "off" and waiting[i].after is not None:
                waiting[i] = replace(waiting[i], unproven=_rewrites(waiting[i]))
            waiting[i] = lean(_write_held(waiting[i], settings))
    yield from waiting


def _required(ruling: list[Objection], held: dict[Path, int]) -> list[Objection]:
    """--prove require: a unit any of whose rewrites could not be proven (PTC011) is not
    written at all. The whole unit, not just the files the note is on: a prover's note may sit
    on a file this run does not rewrite (a kustomization whose build could not run), and
    refusing part of a unit could break what the prover's static rules checked over all of it
    (an overlay's `images:` renamed with its base refused)."""
    unproven = [o for o in ruling if o.code == "PTC011" and not o.blocks]
    if not unproven:
        return ruling
    why = f"not proven, not written (--prove require): {unproven[0].message}"
    out = [o._replace(blocks=True) if o in unproven else o for o in ruling]
    noted = {o.path for o in out if o.blocks}
    out += [Objection(real, 1, "PTC011", why, True) for real in held if real not in noted]
    return out


def _rewrites(result: FileResult) -> int:
    return sum(1 for f in result.findings if f.target)


def _rulings(
    units: dict[tuple[str, Path], dict[Path, int]], waiting: list[FileResult], settings: Settings
) -> Iterator[list[Objection]]:
    """Each unit's objections, in the order of `units`. Units are proven side by side: what a
    prover waits for is Helm's Go code (ctypes lets go of the GIL) or a kubectl process."""
    provers = {prover.NAME: prover for prover in settings.provers}
    start()
    jobs = []
    for (name, unit), held in units.items():
        repo = settings.repo(waiting[next(iter(held.values()))].held.root)  # type: ignore[union-attr]
        assert repo is not None
        changes = {real: _change(waiting[i]) for real, i in held.items()}
        jobs.append((provers[name], unit, changes, repo))

    def prove(job: tuple[Prover, Path, dict[Path, Change], Repo]) -> list[Objection]:
        prover, unit, changes, repo = job
        return list(prover.prove(unit, changes, repo, settings.config))

    if len(jobs) < 2:
        yield from map(prove, jobs)
        return
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=min(len(jobs), pool.workers(None))) as threads:
        try:
            yield from threads.map(prove, jobs)
        except BaseException as exc:  # SIGTERM, Ctrl-C: the threads' renders and builds end
            if not isinstance(exc, GeneratorExit):  # now, not when they would have (the
                stop()  # executor waits for its threads)
            raise


def _change(result: FileResult) -> Change:
    return Change(result.before or b"", result.after or b"")


def _objected(display: str, objections: list[Objection]) -> Iterator[Finding]:
    for o in objections:
        status = Status.REFUSED if o.blocks else Status.UNRESOLVED
        yield Finding(display, o.line, 1, o.line, 1, o.code, status, o.message)


def _ruled(result: FileResult, objections: list[Objection]) -> FileResult:
    findings = (*result.findings, *_objected(result.path, objections))
    if any(o.blocks for o in objections):
        # Nothing of this file is written; its references stay findings, without a target.
        kept = tuple(replace(f, target=None) if f.target else f for f in findings)
        return replace(result, findings=kept, after=None)
    return replace(result, findings=findings)


def _write_held(result: FileResult, settings: Settings) -> FileResult:
    """A held rewrite the prover did not block, written as any other (same checks, same tidy)."""
    held = result.held
    assert held is not None
    result = replace(result, held=None)
    if not settings.write or result.after is None or result.after == result.before:
        return result
    try:
        write(held.real, result.after, result.before or b"", held.stamp, settings.tidied)
    except OSError as exc:
        failed = file_error(result.path, 1, 1, f"not rewritten: {os_reason(exc)}", result.file_kind)
        return replace(result, findings=(*result.findings, failed), after=None)
    return replace(result, written=True)
