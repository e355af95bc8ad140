"""Per file: scanner -> verdicts -> edits -> splice -> re-scan to verify -> (atomic write).

Files a prover claims (a chart's files, a kustomization's) are held back after the re-scan
until the prover has ruled on their unit (`migrate.provers`), then written or refused."""

from __future__ import annotations

import functools
import gc
import itertools
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import NamedTuple, overload

from migrate import edits, pool, source
from migrate.classify import Verdict, classify
from migrate.config import Config
from migrate.context import FileContext, Parsing, Repo
from migrate.findings import Finding, Status, file_error
from migrate.occurrence import Occurrence, ScanError
from migrate.provers import PROVERS, Change, Objection, Prover
from migrate.scanners import Scanner, scanner_for
from migrate.walk import Candidate, display_path, walk

_SUPPRESS = re.compile(r"#\s*ecr-ptc:\s*ignore(?:\[(?P<codes>[A-Za-z0-9,\s]*)\])?")


class Held(NamedTuple):
    """A rewrite held back for a prover's ruling."""

    prover: str  # its NAME
    unit: Path
    real: Path  # the file's real path
    root: Path  # its repository
    stamp: source.Stamp | None  # the file as read: written later only if it is still that file


@dataclass(frozen=True)
class FileResult:
    path: str
    file_kind: str | None
    findings: tuple[Finding, ...]
    before: bytes | None = None
    after: bytes | None = None  # set when a rewrite was planned and verified
    written: bool = False
    held: Held | None = None

    @property
    def changed(self) -> bool:
        return self.written or self.after is not None and self.after != self.before


@dataclass
class Settings:
    """One run's settings, and the repositories it has met (their facts computed once)."""

    config: Config
    fix: bool = False
    write: bool = False
    parsing: Parsing = field(default_factory=Parsing)
    provers: tuple[Prover, ...] = PROVERS
    repos: dict[Path, Repo] = field(default_factory=dict)
    # classify() is a pure function of the reference, the config and the repository, and a
    # repository names the same few hundred images over and over (bench/dense.py: 72 distinct
    # among 128,550): one Verdict each, shared by every finding, saves ~3 s and ~100 MB there.
    verdicts: dict[tuple[str, Path | None], Verdict] = field(default_factory=dict)
    # Directories a write went to: their stale temp files (an interrupted run's, beside the
    # file it did not get to rename) are removed once, git-ignored `*.tmp` or not.
    tidied: set[Path] = field(default_factory=set)

    def repo(self, root: Path | None) -> Repo | None:
        if root is None:
            return None
        if root not in self.repos:
            self.repos[root] = Repo(root)
        return self.repos[root]


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
) -> Iterator[FileResult]:
    """Every candidate's result, in walk order. Large trees are spread over `jobs` processes
    (default: $ECR_PTC_JOBS, else one per CPU); small ones, such as a hook's files, stay in
    this process, where forking would cost more than it saves."""
    settings = Settings(config, fix, write, parsing or Parsing(), provers)
    results = _planned(walk(paths, config, cwd, tidy=write), settings, jobs)
    yield from _proven(results, settings, cwd) if fix and provers else results


def _planned(
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
                yield from pool.run(everything, _processor(settings), workers)
                return
    each = _processor(settings)
    read = 0
    for candidate in itertools.chain(head, candidates):
        result = each(candidate)
        if result is not None:
            yield result
        if settings.parsing.fast is None:
            # A hook's few small files stay with the pure parser (PyYAML's import costs ~25 ms);
            # past that, the run is a tree walk and libyaml repays its import on every file.
            read += pool.size(candidate)
            if read >= Parsing.FAST_FROM:
                settings.parsing = replace(settings.parsing, fast=True)


def _processor(settings: Settings) -> functools.partial[FileResult | None]:
    """`process` with the run's settings: what the pool's workers call, by name."""
    return functools.partial(_process_lean, settings=settings)


def _process_lean(candidate: Candidate, settings: Settings) -> FileResult | None:
    return _lean(_process(candidate, settings))


@overload
def _lean(result: FileResult) -> FileResult: ...


@overload
def _lean(result: None) -> None: ...


def _lean(result: FileResult | None) -> FileResult | None:
    """Without the bytes nobody reads: a fix keeps them only for a file that would change and
    was not written (--diff shows them, a prover reads them). Otherwise a run would hold the
    whole tree twice (bench/run.py: 25 MB fixed, +50 MB peak RSS), and the pool would pipe it
    back."""
    if result is None or result.before is None or result.changed and not result.written:
        return result
    return replace(result, before=None, after=None)


def _proven(results: Iterator[FileResult], settings: Settings, cwd: Path) -> Iterator[FileResult]:
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
        objections: dict[Path, list[Objection]] = {}
        for objection in next(rulings):
            objections.setdefault(objection.path, []).append(objection)
        for real, found in objections.items():
            if real in held:
                waiting[held[real]] = _ruled(waiting[held[real]], found)
            else:  # a file of the unit that this run does not rewrite
                display = display_path(real, cwd)
                waiting.append(FileResult(display, None, tuple(_objected(display, found))))
        for i in held.values():
            waiting[i] = _lean(_write_held(waiting[i], settings))
    yield from waiting


def _rulings(
    units: dict[tuple[str, Path], dict[Path, int]], waiting: list[FileResult], settings: Settings
) -> Iterator[list[Objection]]:
    """Each unit's objections, in the order of `units`. Units are proven side by side: what a
    prover waits for is Helm's Go code (ctypes lets go of the GIL) or a kubectl process."""
    provers = {prover.NAME: prover for prover in settings.provers}
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
        yield from threads.map(prove, jobs)


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
        _write(held.real, result.after, result.before or b"", held.stamp, settings.tidied)
    except OSError as exc:
        failed = file_error(
            result.path, 1, 1, f"not rewritten: {_os_reason(exc)}", result.file_kind
        )
        return replace(result, findings=(*result.findings, failed), after=None)
    return replace(result, written=True)


def _write(
    real: Path,
    after: bytes,
    before: bytes,
    stamp: source.Stamp | None = None,
    tidied: set[Path] | None = None,
) -> None:
    if source.is_read_only(real):
        raise OSError("file is read-only; not rewritten")
    if tidied is not None and real.parent not in tidied:
        tidied.add(real.parent)
        source.remove_stale_in(real.parent)
    source.write_atomic(real, after, before, stamp)


def _os_reason(exc: OSError) -> str:
    # str(OSError) names the absolute (or temp) path; output paths stay relative.
    return exc.strerror if exc.strerror and exc.filename else str(exc)


def process(candidate: Candidate, config: Config, *, fix: bool, write: bool) -> FileResult | None:
    """One file on its own, provers aside (tests and the fuzz harness)."""
    return _process(candidate, Settings(config, fix, write, provers=()))


def _process(candidate: Candidate, settings: Settings) -> FileResult | None:
    # A file's work allocates several objects per reference and keeps them until the file is
    # done, so the cyclic collector would walk an ever larger heap for nothing: 40% of `fix` on
    # a dense 9.4 MB values file (bench/dense.py). Nothing here outlives the file in a cycle;
    # what does form one (an alias `&a [*a]`) is collected once the collector is back on.
    enabled = gc.isenabled()
    gc.disable()
    try:
        return _process_file(candidate, settings)
    finally:
        if enabled:
            gc.enable()


def _process_file(candidate: Candidate, settings: Settings) -> FileResult | None:
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
    kind = scanner.NAME
    context = FileContext(candidate.real, repo, settings.parsing, scanner.by_name(candidate.real))
    try:
        occurrences = _in_text_order(scanner.scan(src.text, context))
    except ScanError as exc:
        line, column = src.position(exc.offset)
        return FileResult(display, kind, (file_error(display, line, column, exc.reason, kind),))
    suppressions = _suppressions(src.text)
    verdicts = [_verdict(occ, settings, repo) for occ in occurrences]

    def report(*extra: Finding) -> tuple[Finding, ...]:
        # Built last, once the rewrite is verified: a dense file's findings (~200 bytes each)
        # need not sit beside the verifying re-scan's tree.
        found = _findings(display, kind, src, occurrences, verdicts, suppressions, settings)
        return (*found, *extra)

    if not fix or config.registry is None:
        return FileResult(display, kind, report())
    rewrites = bytearray(  # one flag per occurrence: rewritten or left as written
        v.status is Status.PUBLIC
        and bool(v.target_name)
        and bool(occ.parts)
        and not (suppressions and _suppressed(suppressions, src.position(occ.at)[0], v.code))
        for occ, v in zip(occurrences, verdicts)
    )
    if not any(rewrites):
        return FileResult(display, kind, report(), src.raw)
    try:
        new_text = edits.apply(
            src.text,
            [
                e
                for occ, v, rewrite in zip(occurrences, verdicts, rewrites)
                if rewrite
                for e in edits.plan(src.text, occ, v, config.registry)
            ],
        )
        _verify(scanner, context, new_text, occurrences, verdicts, rewrites, config)
        after = src.encode(new_text)
        del new_text
        held = _holder(settings, candidate.real, repo, src.stamp) if after != src.raw else None
        if held is not None:
            return FileResult(display, kind, report(), src.raw, after, held=held)
        if settings.write and after != src.raw:
            _write(candidate.real, after, src.raw, src.stamp, settings.tidied)
    except (edits.EditConflict, _Unverified, ScanError, OSError) as exc:
        reason = _os_reason(exc) if isinstance(exc, OSError) else str(exc)
        failed = file_error(display, 1, 1, f"not rewritten: {reason}", kind)
        return FileResult(display, kind, report(failed), src.raw)
    written = settings.write and after != src.raw
    return FileResult(display, kind, report(), src.raw, after, written)


def _holder(
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


def _verdict(occ: Occurrence, settings: Settings, repo: Repo | None) -> Verdict:
    if occ.unresolved:
        return Verdict(Status.UNRESOLVED, occ.code or "PTC004", f"{occ.written}: {occ.unresolved}")
    key = (occ.written, repo.root if repo else None)  # what a repository builds decides too
    verdict = settings.verdicts.get(key)
    if verdict is None:
        verdict = classify(occ.written, settings.config, repo)
        if len(settings.verdicts) < _VERDICTS:
            settings.verdicts[key] = verdict
    if not (occ.note or occ.kept):
        return verdict
    kept = occ.kept if verdict.status is Status.PUBLIC and not occ.parts else None
    extra = "; ".join(n for n in (occ.note, kept and f"not rewritten: {kept}") if n)
    return replace(verdict, message=f"{verdict.message} ({extra})") if extra else verdict


_VERDICTS = 16384  # distinct references remembered per run: a few MB at most


def _findings(
    path: str,
    kind: str,
    src: source.Source,
    occurrences: list[Occurrence],
    verdicts: list[Verdict],
    suppressions: dict[int, frozenset[str] | None],
    settings: Settings,
) -> Iterator[Finding]:
    for occ, verdict in zip(occurrences, verdicts):
        yield from _findings_of(path, kind, src, occ, verdict, suppressions, settings)


def _findings_of(
    path: str,
    kind: str,
    src: source.Source,
    occ: Occurrence,
    verdict: Verdict,
    suppressions: dict[int, frozenset[str] | None],
    settings: Settings,
) -> Iterator[Finding]:
    line, column = src.position(occ.at)
    end_line, end_column = src.position(occ.end)
    if end_line == line:
        end_line = line  # one int object for both (a dense file holds 10^5 findings)

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
    required = settings.config.require_ci_credentials
    if required and occ.credentials is False and verdict.status is Status.CACHED:
        from migrate import ci_login

        extra.append(("PTC013", ci_login.missing_credentials(kind, occ.written)))
    for code, message in [(verdict.code, verdict.message), *extra]:
        if code and _suppressed(suppressions, line, code):
            yield finding(None, Status.SUPPRESSED, f"{message} (suppressed {code})", None)
        elif code in ("PTC006", "PTC013"):
            yield finding(code, verdict.status, message, None)
        else:
            # No parts: found through a variable this file cannot rewrite (the note says why).
            rewritable = verdict.status is Status.PUBLIC and occ.parts
            yield finding(code, verdict.status, message, verdict.target if rewritable else None)


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
    scanner: Scanner,
    context: FileContext,
    new: str,
    occurrences: list[Occurrence],
    verdicts: list[Verdict],
    rewrites: bytearray,
    config: Config,
) -> None:
    """Re-scan the result: the same references must come back, the rewritten ones as their
    targets and every other one exactly as before; and each target must read back as pointing
    at the cache, or a second run (or Docker) would not accept what this one wrote."""
    again = _in_text_order(scanner.scan(new, context))
    if len(again) != len(occurrences):
        raise _Unverified(f"re-scan found {len(again)} references instead of {len(occurrences)}")
    checked: dict[str, None] = {}
    for occ, verdict, rewritten, found in zip(occurrences, verdicts, rewrites, again):
        expected = verdict.target if rewritten else occ.written
        if found.kind != occ.kind or found.written != expected:
            raise _Unverified(f"re-scan read {found.written!r} where {expected!r} was expected")
        if rewritten and found.written not in checked:
            again_verdict = classify(found.written, config)
            if again_verdict.status is not Status.CACHED:  # e.g. a name Docker finds too long
                raise _Unverified(
                    f"{found.written!r} would not be a valid cache reference: "
                    f"{again_verdict.message}"
                )
            if len(checked) < _VERDICTS:
                checked[found.written] = None
