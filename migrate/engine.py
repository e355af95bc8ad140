"""Per file: scanner -> verdicts -> edits -> splice -> re-scan to verify -> (atomic write)."""
from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

from migrate import edits, source
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
        return self.after is not None and self.after != self.before


def run(
    paths: Iterable[str], config: Config, cwd: Path, *, fix: bool = False, write: bool = False
) -> Iterator[FileResult]:
    for candidate in walk(paths, config, cwd):
        result = process(candidate, config, fix=fix, write=write)
        if result is not None:
            yield result


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
        occurrences = list(scanner.scan(src.text))
    except ScanError as exc:
        line, column = src.position(exc.offset)
        return FileResult(display, kind, (file_error(display, line, column, exc.reason, kind),))
    suppressions = _suppressions(src.text)
    judged = [(occ, _verdict(occ, config)) for occ in occurrences]
    findings = [
        f for occ, verdict in judged for f in _findings(display, kind, src, occ, verdict, suppressions)
    ]
    if not fix or config.registry is None:
        return FileResult(display, kind, tuple(findings))
    rewrites = [
        (occ, verdict) for occ, verdict in judged
        if verdict.status is Status.PUBLIC and verdict.target_name and occ.parts
        and not _suppressed(suppressions, src.position(occ.at)[0], verdict.code)
    ]
    if not rewrites:
        return FileResult(display, kind, tuple(findings), src.raw)
    try:
        planned = [e for occ, v in rewrites for e in edits.plan(src.text, occ, v, config.registry)]
        new_text = edits.apply(src.text, planned)
        _verify(scanner, src.text, new_text, judged, {id(occ) for occ, _ in rewrites})
        after = src.encode(new_text)
        if write and after != src.raw:
            if source.is_read_only(candidate.real):
                raise OSError("file is read-only; not rewritten")
            source.write_atomic(candidate.real, after, src.raw)
    except (edits.EditConflict, _Unverified, ScanError, OSError) as exc:
        findings.append(file_error(display, 1, 1, f"not rewritten: {exc}", kind))
        return FileResult(display, kind, tuple(findings), src.raw)
    return FileResult(display, kind, tuple(findings), src.raw, after, write and after != src.raw)


def _verdict(occ: Occurrence, config: Config) -> Verdict:
    if occ.unresolved:
        return Verdict(Status.UNRESOLVED, "PTC004", f"{occ.written}: {occ.unresolved}")
    return classify(occ.written, config)


def _findings(
    path: str, kind: str, src: source.Source, occ: Occurrence, verdict: Verdict,
    suppressions: dict[int, frozenset[str] | None],
) -> Iterator[Finding]:
    line, column = src.position(occ.at)
    end_line, end_column = src.position(occ.end)

    def finding(code: str | None, status: Status, message: str, target: str | None) -> Finding:
        return Finding(
            path=path, line=line, column=column, end_line=end_line, end_column=end_column,
            code=code, status=status, message=message, file_kind=kind, kind=occ.kind,
            original=occ.written, reference=verdict.normalised, upstream=verdict.upstream,
            prefix=verdict.prefix, target=target,
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
    for number, line in enumerate(text.splitlines(), start=1):
        match = _SUPPRESS.search(line)
        if match:
            codes = match["codes"]
            value = None if codes is None else frozenset(codes.replace(",", " ").split())
            found[number] = found[number + 1] = value
    return found


def _suppressed(suppressions: dict[int, frozenset[str] | None], line: int, code: str | None) -> bool:
    if line not in suppressions or code is None:
        return False
    codes = suppressions[line]
    return codes is None or code in codes


class _Unverified(Exception):
    pass


def _verify(
    scanner: ModuleType, old: str, new: str, judged: list[tuple[Occurrence, Verdict]],
    rewritten: set[int],
) -> None:
    """Re-scan the result: the same references must come back, the rewritten ones as their
    targets and every other one exactly as before."""
    again = list(scanner.scan(new))
    if len(again) != len(judged):
        raise _Unverified(f"re-scan found {len(again)} references instead of {len(judged)}")
    for (occ, verdict), found in zip(judged, again):
        expected = verdict.target if id(occ) in rewritten else occ.written
        if found.kind != occ.kind or found.written != expected:
            raise _Unverified(f"re-scan read {found.written!r} where {expected!r} was expected")
