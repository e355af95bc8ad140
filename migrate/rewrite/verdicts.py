"""From occurrences to findings: each reference's verdict (once per distinct reference and
repository in a run), and the findings a file reports, suppressions applied."""

from __future__ import annotations

import functools
from collections.abc import Iterator
from dataclasses import replace

from migrate.classify import Verdict, classify
from migrate.context import Repo
from migrate.findings import Finding, Status
from migrate.occurrence import Occurrence
from migrate.rewrite import source, suppressions
from migrate.rewrite.settings import Settings


def verdict_for(occ: Occurrence, settings: Settings, repo: Repo | None) -> Verdict:
    registry = settings.config.crossplane_registry
    if occ.package is not None and registry is not None:
        note = f"Crossplane's --registry is {registry} (crossplane-registry in .ecr-ptc.yaml)"
        occ = replace(occ, written=f"{registry}/{occ.package}", note=note)
    if occ.unresolved:
        return Verdict(Status.UNRESOLVED, occ.code or "PTC004", f"{occ.written}: {occ.unresolved}")
    key = (occ.written, repo.root if repo else None)  # what a repository builds decides too
    verdict = settings.verdicts.get(key)
    if verdict is None:
        from migrate.facts import builds  # the build index: read when a reference needs it

        built_by = functools.partial(builds.built_by, repo) if repo else None
        verdict = classify(occ.written, settings.config, built_by)
        if len(settings.verdicts) < _VERDICTS:
            settings.verdicts[key] = verdict
    if occ.before_login and verdict.repository and not settings.config.runners_log_in:
        target = f" to {verdict.target}" if verdict.target else ""
        message = f"{occ.written} is not rewritten{target}: {occ.before_login}"
        return replace(verdict, code="PTC015", message=message, target_name=None)
    if not (occ.note or occ.kept):
        return verdict
    kept = occ.kept if verdict.status is Status.PUBLIC and not occ.parts else None
    extra = "; ".join(n for n in (occ.note, kept and f"not rewritten: {kept}") if n)
    return replace(verdict, message=f"{verdict.message} ({extra})") if extra else verdict


_VERDICTS = 16384  # distinct references remembered per run: a few MB at most


def findings(
    path: str,
    kind: str,
    src: source.Source,
    occurrences: list[Occurrence],
    verdicts: list[Verdict],
    suppressed: dict[int, frozenset[str] | None],
    settings: Settings,
) -> Iterator[Finding]:
    for occ, verdict in zip(occurrences, verdicts):
        yield from _findings_of(path, kind, src, occ, verdict, suppressed, settings)


def _findings_of(
    path: str,
    kind: str,
    src: source.Source,
    occ: Occurrence,
    verdict: Verdict,
    suppressed: dict[int, frozenset[str] | None],
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
        from migrate.kinds import ci_login

        extra.append(("PTC013", ci_login.missing_credentials(kind, occ.written)))
    for code, message in [(verdict.code, verdict.message), *extra]:
        if code and suppressions.suppressed(suppressed, line, code):
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
