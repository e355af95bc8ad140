"""One file through the pipeline: read -> scan -> verdicts -> edits -> splice -> re-scan to
verify -> write, or hold for a prover. Every failure becomes the file's PTC900 finding."""

from __future__ import annotations

import gc
from pathlib import Path

from migrate.classify import Verdict
from migrate.config import Config
from migrate.context import FileContext, Repo
from migrate.findings import Finding, Status, file_error
from migrate.kinds.registry import Scanner, scanner_for
from migrate.occurrence import Occurrence, ScanError
from migrate.rewrite import edits, source, suppressions
from migrate.rewrite.held import holder
from migrate.rewrite.results import FileResult, lean
from migrate.rewrite.settings import Settings
from migrate.rewrite.verdicts import findings, verdict_for
from migrate.rewrite.verify import Unverified, in_text_order, verify
from migrate.rewrite.walk import Candidate
from migrate.rewrite.write import os_reason, write
from migrate.syntax import kept_trees


def lean_result(candidate: Candidate, settings: Settings) -> FileResult | None:
    """What the pool's workers call (by name): one file's result without the bytes nobody reads."""
    return lean(result(candidate, settings))


def process(candidate: Candidate, config: Config, *, fix: bool, write: bool) -> FileResult | None:
    """One file on its own, provers aside (tests and the fuzz harness)."""
    return result(candidate, Settings(config, fix, write, provers=()))


def result(candidate: Candidate, settings: Settings) -> FileResult | None:
    # A file's work allocates several objects per reference and keeps them until the file is
    # done, so the cyclic collector would walk an ever larger heap for nothing: a large share of
    # `fix` on a dense values file (bench/dense.py). Nothing here outlives the file in a cycle;
    # what does form one (an alias `&a [*a]`) is collected once the collector is back on.
    enabled = gc.isenabled()
    gc.disable()
    try:
        return _rewrite(candidate, settings)
    finally:
        if enabled:
            gc.enable()


def _rewrite(candidate: Candidate, settings: Settings) -> FileResult | None:
    config, fix = settings.config, settings.fix
    display = candidate.display
    if candidate.real is None:
        if candidate.problem is None:
            return None
        return FileResult(display, None, (file_error(display, 1, 1, candidate.problem),))
    try:
        src = source.read(candidate.real, config.max_file_size)
    except source.SourceError as exc:
        return FileResult(display, None, (file_error(display, exc.line, 1, exc.reason),))
    repo = settings.repo(candidate.repo or candidate.root)
    scanner = scanner_for(candidate.real, src.text, repo)
    if scanner is None:
        return None
    # The scan's trees of this very text are kept for the verifying re-scan (`_verified`).
    with kept_trees.keeping(src.text if fix and config.registry is not None else None):
        return _scanned(candidate.real, display, src, scanner, repo, settings)


def _scanned(
    real: Path,
    display: str,
    src: source.Source,
    scanner: Scanner,
    repo: Repo | None,
    settings: Settings,
) -> FileResult:
    config, fix = settings.config, settings.fix
    kind = scanner.NAME
    context = FileContext(real, repo, settings.parsing, scanner.by_name(real))
    try:
        occurrences = in_text_order(scanner.scan(src.text, context))
    except ScanError as exc:
        line, column = src.position(exc.offset)
        return FileResult(display, kind, (file_error(display, line, column, exc.reason, kind),))
    suppressed = suppressions.of(src.text)
    verdicts = [verdict_for(occ, settings, repo) for occ in occurrences]

    def report(*extra: Finding) -> tuple[Finding, ...]:
        # Built last, once the rewrite is verified: a dense file's findings (~200 bytes each)
        # need not sit beside the verifying re-scan's tree.
        found = findings(display, kind, src, occurrences, verdicts, suppressed, settings)
        return (*found, *extra)

    if not fix or config.registry is None:
        return FileResult(display, kind, report())
    rewrites = bytearray(  # one flag per occurrence: rewritten or left as written
        v.status is Status.PUBLIC
        and bool(v.target_name)
        and bool(occ.parts)
        and not (
            suppressed and suppressions.suppressed(suppressed, src.position(occ.at)[0], v.code)
        )
        for occ, v in zip(occurrences, verdicts)
    )
    if not any(rewrites):
        kept_trees.forget()  # nothing to verify: the tree need not sit beside the findings
        return FileResult(display, kind, report(), src.raw)
    try:
        new_text = _verified(scanner, context, src.text, occurrences, verdicts, rewrites, config)
        if new_text is None:
            return FileResult(display, kind, report(), src.raw)
        beside = _beside(display, kind, src, occurrences, rewrites)
        changed = new_text != src.text  # as the bytes would differ: UTF-8 is one to one
        after = src.encode(new_text)
        del new_text
        before = src.raw
        held = holder(settings, real, repo, src.stamp) if changed else None
        if held is not None:
            return FileResult(display, kind, report(*beside), before, after, held=held)
        if settings.write and changed:
            write(real, after, before, src.stamp, settings.tidied)
    except (edits.EditConflict, Unverified, ScanError, OSError) as exc:
        reason = os_reason(exc) if isinstance(exc, OSError) else str(exc)
        failed = file_error(display, 1, 1, f"not rewritten: {reason}", kind)
        return FileResult(display, kind, report(failed), src.raw)
    written = settings.write and changed
    return FileResult(display, kind, report(*beside), before, after, written)


_SHARED = (
    "{}: left as written: rewriting it would also change how another reference of this file "
    "reads (a value they share)"
)


def _verified(
    scanner: Scanner,
    context: FileContext,
    text: str,
    occurrences: list[Occurrence],
    verdicts: list[Verdict],
    rewrites: bytearray,
    config: Config,
) -> str | None:
    """The rewritten text, verified by a re-scan. A rewrite that changes how another
    reference reads (two images composed from one shared value) is left out, with a verdict
    that says why, and the rest tried again: the check is never what the user reads. None:
    nothing is left to rewrite."""
    assert config.registry is not None
    while True:
        new_text = _spliced(text, occurrences, verdicts, rewrites, config.registry)
        try:
            verify(scanner, context, new_text, occurrences, verdicts, rewrites, config)
            return new_text
        except Unverified as exc:
            culprits = _culprits(exc.index, occurrences, rewrites)
            if not culprits:
                raise
            for i in culprits:
                rewrites[i] = False
                written = occurrences[i].written
                verdicts[i] = Verdict(Status.REFUSED, "PTC004", _SHARED.format(written))
            if not any(rewrites):
                return None


def _spliced(
    text: str,
    occurrences: list[Occurrence],
    verdicts: list[Verdict],
    rewrites: bytearray,
    registry: str,
) -> str:
    """The text with the planned edits spliced in, its trees derived for the re-scan. The edits
    (each with its old and new strings) go on return: the re-scan, where a dense values file
    peaks, holds the tree and two occurrence lists already."""
    planned = [
        e
        for occ, v, rewrite in zip(occurrences, verdicts, rewrites)
        if rewrite
        for e in edits.plan(text, occ, v, registry)
    ]
    new_text = edits.apply(text, planned)
    kept_trees.derive(text, new_text, planned)  # the re-scan's trees without composing
    return new_text


def _culprits(index: int | None, occurrences: list[Occurrence], rewrites: bytearray) -> list[int]:
    """The rewrites to leave out when the re-scan read occurrence `index` wrong: itself if it
    was rewritten, else the rewritten ones that edit a span it is composed from."""
    if index is None:
        return []
    if rewrites[index]:
        return [index]
    spans = {(p.start, p.end) for p in occurrences[index].parts if not p.role.startswith("allow")}
    return [
        i
        for i, occ in enumerate(occurrences)
        if rewrites[i] and any((p.start, p.end) in spans for p in occ.parts)
    ]


def _beside(
    display: str,
    kind: str,
    src: source.Source,
    occurrences: list[Occurrence],
    rewrites: bytearray,
) -> list[Finding]:
    """What the rewrite changes beside its references, or would need to, once per file: at
    the first rewritten reference that says it."""
    out: dict[tuple[str, str], Finding] = {}
    for occ, rewritten in zip(occurrences, rewrites):
        if rewritten and occ.beside is not None and occ.beside not in out:
            code, message = occ.beside
            line, column = src.position(occ.at)
            out[occ.beside] = Finding(
                display, line, column, line, column, code, Status.UNRESOLVED, message, kind
            )
    return list(out.values())
