"""Per file: scanner -> verdicts -> edits -> splice -> re-scan to verify -> (atomic write)."""

from __future__ import annotations

import functools
import itertools
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from types import ModuleType

from migrate import edits, pool, source
from migrate.classify import Verdict, classify
from migrate.config import Config
from migrate.findings import Finding, Status, file_error
from migrate.scanners import Occurrence, ScanError, scanner_for
from migrate.walk import Candidate, walk

_SUPPRESS = re.compile(r"#\s*ecr-ptc:\s*ignore(?:\[(?P<codes>[A-Za-z0-9,\s]*)\])?")


@dataclass(frozen=True)
class FileResult:
    path: str
    file_kind: str | None
    findings: tuple[Finding, ...]
    before: bytes | None = None
    after: bytes | None = None  # set when a rewrite was planned and verified
    written: bool = False

    @property
    def changed(self) -> bool:
        return self.written or self.after is not None and self.after != self.before


def run(
    paths: Iterable[str],
    config: Config,
    cwd: Path,
    *,
    fix: bool = False,
    write: bool = False,
    jobs: int | None = None,
) -> Iterator[FileResult]:
    """Every candidate's result, in walk order. Large trees are spread over `jobs` processes
    (default: $ECR_PTC_JOBS, else one per CPU); small ones, such as a hook's files, stay in
    this process, where forking would cost more than it saves."""
    candidates = walk(paths, config, cwd)
    workers = pool.workers(jobs)
    head: list[Candidate] = []
    if workers > 1:
        work = 0
        for candidate in candidates:
            head.append(candidate)
            work += pool.work(candidate)
            if work >= pool.MIN_WORK:
                everything = itertools.chain(head, candidates)
                yield from pool.run(everything, _processor(config, fix, write), workers)
                return
    each = _processor(config, fix, write)
    for candidate in itertools.chain(head, candidates):
        result = each(candidate)
        if result is not None:
            yield result


def _processor(config: Config, fix: bool, write: bool) -> functools.partial[FileResult | None]:
    """`process` with the run's settings: what the pool's workers call, by name."""
    return functools.partial(_process_lean, config=config, fix=fix, write=write)


def _process_lean(
    candidate: Candidate, config: Config, fix: bool, write: bool
) -> FileResult | None:
    return _lean(process(candidate, config, fix=fix, write=write))


def _lean(result: FileResult | None) -> FileResult | None:
    """Without the bytes nobody reads: a fix keeps them only for a file that would change and
    was not written (--diff shows them). Otherwise a run would hold the whole tree twice
    (bench/run.py: 25 MB fixed, +50 MB peak RSS), and the pool would pipe it back."""
    if result is None or result.before is None or result.changed and not result.written:
        return result
    return replace(result, before=None, after=None)


def process(candidate: Candidate, config: Config, *, fix: bool, write: bool) -> FileResult | None:
    display = candidate.display
    if candidate.real is None:
        if candidate.problem is None:
            return None
        return FileResult(display, None, (file_error(display, 1, 1, candidate.problem),))
    try:
        src = source.read(candidate.real, config.max_file_size)
    except source.SourceError as exc:
        return FileResult(display, None, (file_error(display, exc.line, 1, exc.reason),))
    scanner = scanner_for(candidate.real, src.text)
    if scanner is None:
        return None
    kind = scanner.NAME
    try:
        occurrences = _in_text_order(scanner.scan(src.text))
    except ScanError as exc:
        line, column = src.position(exc.offset)
        return FileResult(display, kind, (file_error(display, line, column, exc.reason, kind),))
    suppressions = _suppressions(src.text)
    judged = [(occ, _verdict(occ, config)) for occ in occurrences]
    findings = [
        f
        for occ, verdict in judged
        for f in _findings(display, kind, src, occ, verdict, suppressions)
    ]
    if not fix or config.registry is None:
        return FileResult(display, kind, tuple(findings))
    rewrites = [
        (occ, verdict)
        for occ, verdict in judged
        if verdict.status is Status.PUBLIC
        and verdict.target_name
        and occ.parts
        and not _suppressed(suppressions, src.position(occ.at)[0], verdict.code)
    ]
    if not rewrites:
        return FileResult(display, kind, tuple(findings), src.raw)
    try:
        planned = [e for occ, v in rewrites for e in edits.plan(src.text, occ, v, config.registry)]
        new_text = edits.apply(src.text, planned)
        _verify(scanner, src.text, new_text, judged, {id(occ) for occ, _ in rewrites}, config)
        after = src.encode(new_text)
        if write and after != src.raw:
            if source.is_read_only(candidate.real):
                raise OSError("file is read-only; not rewritten")
            source.write_atomic(candidate.real, after, src.raw)
    except (edits.EditConflict, _Unverified, ScanError, OSError) as exc:
        # str(OSError) names the absolute (or temp) path; output paths stay relative.
        reason = exc.strerror if isinstance(exc, OSError) and exc.filename else str(exc)
        findings.append(file_error(display, 1, 1, f"not rewritten: {reason}", kind))
        return FileResult(display, kind, tuple(findings), src.raw)
    return FileResult(display, kind, tuple(findings), src.raw, after, write and after != src.raw)


def _verdict(occ: Occurrence, config: Config) -> Verdict:
    if occ.unresolved:
        return Verdict(Status.UNRESOLVED, "PTC004", f"{occ.written}: {occ.unresolved}")
    return classify(occ.written, config)


def _findings(
    path: str,
    kind: str,
    src: source.Source,
    occ: Occurrence,
    verdict: Verdict,
    suppressions: dict[int, frozenset[str] | None],
) -> Iterator[Finding]:
    line, column = src.position(occ.at)
    end_line, end_column = src.position(occ.end)

    def finding(code: str | None, status: Status, message: str, target: str | None) -> Finding:
        return Finding(
            path=path,
            line=line,
            column=column,
            end_line=end_line,
            end_column=end_column,
            code=code,
            status=status,
            message=message,
            file_kind=kind,
            kind=occ.kind,
            original=occ.written,
            reference=verdict.normalised,
            upstream=verdict.upstream,
            prefix=verdict.prefix,
            target=target,
        )

    extra = [("PTC006", _DIGEST_ONLY.format(occ.written))] if verdict.digest_only else []
    for code, message in [(verdict.code, verdict.message), *extra]:
        if code and _suppressed(suppressions, line, code):
            yield finding(None, Status.SUPPRESSED, f"{message} (suppressed {code})", None)
        elif code == "PTC006":
            yield finding(code, verdict.status, message, None)
        else:
            target = verdict.target if verdict.status is Status.PUBLIC else None
            yield finding(code, verdict.status, message, target)


_DIGEST_ONLY = (
    "{} is pinned by digest only: the cache cannot fill from a digest on first pull; "
    "keep a tag beside it or pre-pull by tag"
)


def _suppressions(text: str) -> dict[int, frozenset[str] | None]:
    """Line -> suppressed codes (None: all), for the comment's line and the line after it."""
    if "ecr-ptc" not in text:  # the common case: no per-line work at all
        return {}
    found: dict[int, frozenset[str] | None] = {}
    # split("\n"), not splitlines(): positions count "\n" only, and splitlines() also breaks
    # on \x0c, \x85, U+2028..., which would shift every later suppression off its line.
    for number, line in enumerate(text.split("\n"), start=1):
        match = _SUPPRESS.search(line)
        if match:
            codes = match["codes"]
            value = None if codes is None else frozenset(codes.replace(",", " ").split())
            found[number] = found[number + 1] = value
    return found


def _suppressed(
    suppressions: dict[int, frozenset[str] | None], line: int, code: str | None
) -> bool:
    if line not in suppressions or code is None:
        return False
    codes = suppressions[line]
    return codes is None or code in codes


def _in_text_order(found: Iterable[Occurrence]) -> list[Occurrence]:
    """Reports read top to bottom whatever order a scanner resolves references in (an ARG
    default is found at the FROM that uses it)."""
    return sorted(found, key=lambda occ: occ.at)


class _Unverified(Exception):
    pass


def _verify(
    scanner: ModuleType,
    old: str,
    new: str,
    judged: list[tuple[Occurrence, Verdict]],
    rewritten: set[int],
    config: Config | None = None,
) -> None:
    """Re-scan the result: the same references must come back, the rewritten ones as their
    targets and every other one exactly as before; and each target must read back as pointing
    at the cache, or a second run (or Docker) would not accept what this one wrote."""
    again = _in_text_order(scanner.scan(new))
    if len(again) != len(judged):
        raise _Unverified(f"re-scan found {len(again)} references instead of {len(judged)}")
    for (occ, verdict), found in zip(judged, again):
        expected = verdict.target if id(occ) in rewritten else occ.written
        if found.kind != occ.kind or found.written != expected:
            raise _Unverified(f"re-scan read {found.written!r} where {expected!r} was expected")
        if config is not None and id(occ) in rewritten:
            again_verdict = classify(found.written, config)
            if again_verdict.status is not Status.CACHED:  # e.g. a name Docker finds too long
                raise _Unverified(
                    f"{found.written!r} would not be a valid cache reference: "
                    f"{again_verdict.message}"
                )
