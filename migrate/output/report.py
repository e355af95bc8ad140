"""Output formats: pure functions from a Report to text, one dict entry each."""

from __future__ import annotations

import json
import os
import urllib.parse
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from migrate import __version__
from migrate.findings import CODES, Finding, Severity, Status
from migrate.output.printable import printable, printable_path

if TYPE_CHECKING:
    from migrate.rewrite.results import FileResult

INFORMATION_URI = "https://github.com/ecr-ptc/ecr-ptc"
_SARIF_LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}


@dataclass(frozen=True)
class Report:
    findings: tuple[Finding, ...]  # references (with or without a code) and PTC900 errors
    files: int  # files examined
    changed: tuple[str, ...] = ()  # paths fix changed (or would change)
    color: bool = False
    config: str | None = None  # which config decided the run, for the text summary (scan)
    skipped_tests: int = 0  # files in test directories a walk left out (--include-tests)
    # Every reference of the run, for the summary, when `findings` shows only some (lint)
    counted: tuple[Finding, ...] | None = None
    failing: int | None = None  # lint: how many findings fail it

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.code == "PTC900"]

    @property
    def unproven(self) -> list[Finding]:
        """Rewrites refused because they could not be proven (--prove require): exit 2."""
        return [f for f in self.findings if f.code == "PTC011" and f.status is Status.REFUSED]


def _paint(text: str, severity: Severity | None, color: bool) -> str:
    if not color or severity is None:
        return text
    shade = {Severity.ERROR: "31", Severity.WARNING: "33", Severity.INFO: "36"}[severity]
    return f"\033[{shade}m{text}\033[0m"


def text(report: Report) -> str:
    lines = []
    for f in report.findings:
        code = _paint(f.code or "-", f.severity, report.color)
        suffix = "" if f.code else f" [{f.status.value}]"
        where = f"{printable_path(f.path)}:{f.line}:{f.column}"
        lines.append(f"{where}: {code} {printable(f.message)}{suffix}")
    lines.append(summary(report))
    return "\n".join(lines) + "\n"


# What a reference is, as the summary counts it: (singular, plural) by status.
_GROUPS: tuple[tuple[tuple[Status, ...], str, str], ...] = (
    ((Status.CACHED,), "uses the cache", "use the cache"),
    (
        (Status.PUBLIC, Status.UNSUPPORTED, Status.INVALID, Status.REFUSED),
        "pulls from upstream",
        "pull from upstream",
    ),
    ((Status.BUILT,), "is built here", "are built here"),
    ((Status.NOT_OFFICIAL,), "names no official image", "name no official image"),
    ((Status.UNRESOLVED,), "is unresolved", "are unresolved"),
    ((Status.PRIVATE,), "is private", "are private"),
    ((Status.SUPPRESSED,), "is suppressed", "are suppressed"),
)
_EXTRA = ("PTC006", "PTC013", "PTC016", "PTC017")  # about what is already counted


def summary(report: Report) -> str:
    """What was read, what bypasses the cache, what was left and why: `3 files read, 9
    references: 6 pull from upstream (5 PTC001, 1 PTC003), 2 use the cache, 1 is private`."""
    found = report.counted if report.counted is not None else report.findings
    references = [f for f in found if f.code != "PTC900" and f.code not in _EXTRA]
    files = f"{_files(report.files)} read"
    parts = []
    for statuses, one, many in _GROUPS:
        group = [f for f in references if f.status in statuses]
        if group:
            parts.append(f"{len(group)} {one if len(group) == 1 else many}{_codes(group)}")
    if references:
        noun = "reference" if len(references) == 1 else "references"
        text = f"{files}, {len(references)} image {noun}: {', '.join(parts)}"
    else:
        text = f"{files}, no image references"
    extra = [f for f in found if f.code in _EXTRA]
    if extra:
        text += f"; also {_codes(extra)[2:-1]}"
    errors = [f for f in found if f.code == "PTC900"]
    if errors:
        text += f"; {len(errors)} PTC900 (not read or not rewritten)"
    if report.failing is not None:
        verb = "fails" if report.failing == 1 else "fail"
        text += f"; {report.failing} {verb} lint" if report.failing else "; none fails lint"
    if report.changed:
        text += f"; {_files(len(report.changed))} changed"
    if report.skipped_tests:
        text += f"; {skipped(report.skipped_tests)}"
    if report.config:
        text += f"; {report.config}"
    return text


def skipped(count: int) -> str:
    return (
        f"{_files(count)} in test directories skipped "
        "(--include-tests or `include-tests: true` reads them)"
    )


def _files(count: int) -> str:
    return f"{count} file{'s' if count != 1 else ''}"


def _codes(findings: list[Finding]) -> str:
    counts = Counter(f.code for f in findings if f.code)
    return f" ({', '.join(f'{counts[c]} {c}' for c in sorted(counts))})" if counts else ""


def _as_dict(f: Finding) -> dict[str, object]:
    return {
        "path": f.path,
        "line": f.line,
        "column": f.column,
        "end_line": f.end_line,
        "end_column": f.end_column,
        "code": f.code,
        "severity": f.severity.value if f.severity else None,
        "status": f.status.value,
        "message": f.message,
        "kind": f.kind,
        "original": f.original,
        "reference": f.reference,
        "upstream": f.upstream,
        "prefix": f.prefix,
        "target": f.target,
        "file_kind": f.file_kind,
    }


def as_json(report: Report) -> str:
    body = {
        "findings": [_as_dict(f) for f in report.findings if f.code != "PTC900"],
        "errors": [_as_dict(f) for f in report.errors],
        "files": report.files,
        "changed": list(report.changed),
    }
    return json.dumps(body, indent=2) + "\n"


def sarif(report: Report) -> str:
    codes = sorted(CODES)
    rules = [
        {
            "id": code,
            "name": CODES[code].title.title().replace(" ", "").replace(":", "").replace(",", ""),
            "shortDescription": {"text": CODES[code].title},
            "fullDescription": {"text": CODES[code].title},
            "defaultConfiguration": {"level": _SARIF_LEVEL[CODES[code].severity]},
            "helpUri": f"{INFORMATION_URI}#{code.lower()}",
        }
        for code in codes
    ]
    results = [
        {
            "ruleId": f.code,
            "ruleIndex": codes.index(f.code),
            "level": _SARIF_LEVEL[f.severity or Severity.ERROR],
            "message": {"text": f.message},
            "locations": [
                {
                    "physicalLocation": {
                        "artifactLocation": {"uri": _uri(f.path), "uriBaseId": "%SRCROOT%"},
                        "region": {
                            "startLine": f.line,
                            "startColumn": f.column,
                            "endLine": f.end_line,
                            "endColumn": max(f.end_column, f.column),
                        },
                    }
                }
            ],
            "partialFingerprints": {"ecrPtc/v1": f"{f.code}:{f.path}:{f.original or f.line}"},
        }
        for f in report.findings
        if f.code
    ]
    log = {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "ecr-ptc",
                        "version": __version__,
                        "informationUri": INFORMATION_URI,
                        "rules": rules,
                    }
                },
                "results": results,
            }
        ],
    }
    return json.dumps(log, indent=2) + "\n"


def _uri(path: str) -> str:
    """A relative URI reference (RFC 3986): every byte but unreserved ones and `/` is
    percent-encoded, so a `:` in a first segment cannot read as a scheme, nor a space or a
    newline break the reference; bytes of a name that is not UTF-8 are encoded as they are."""
    return urllib.parse.quote(os.fsencode(path), safe="/")


def escape_data(value: str) -> str:
    return value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(value: str) -> str:
    return escape_data(value).replace(":", "%3A").replace(",", "%2C")


def github(report: Report) -> str:
    """Workflow commands: https://docs.github.com/actions/reference/workflow-commands-for-github-actions"""
    lines = []
    for f in report.findings:
        if not f.code:
            continue
        command = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "notice"}[
            f.severity or Severity.ERROR
        ]
        props = (
            f"file={_escape_property(printable(f.path))},line={f.line},col={f.column},"
            f"endLine={f.end_line},endColumn={f.end_column},title={f.code}"
        )
        lines.append(f"::{command} {props}::{escape_data(printable(f'{f.code} {f.message}'))}")
    return "\n".join(lines) + ("\n" if lines else "")


FORMATTERS: dict[str, Callable[[Report], str]] = {
    "text": text,
    "json": as_json,
    "sarif": sarif,
    "github": github,
}


def lines(findings: Iterable[Finding]) -> str:
    """`path:line:col: CODE message`, a line each: what `fix`, `plan` and `pr` say on stderr
    about files they could not read and rewrites a prover refused or could not verify."""
    return "".join(
        f"{printable_path(f.path)}:{f.line}:{f.column}: {f.code} {printable(f.message)}\n"
        for f in findings
    )


# What a rewrite changes beside its references, or would need to (a chart's guard setting).
BESIDE = ("PTC016", "PTC017")


def fix_notes(results: Iterable[FileResult], registry: str) -> str:
    """What `fix` says on stderr besides its rewrites: files it could not read, what provers
    refused or could not verify, and what each CI system it touched needs to log in (CI
    systems pull job images before any step runs)."""
    from migrate.kinds.registry import CI_SCANNERS
    from migrate.provers import protocol as provers

    results = list(results)
    said = [
        f
        for r in results
        for f in r.findings
        if f.code in ("PTC900", *BESIDE) or f.code in provers.CODES or f.status is Status.REFUSED
    ]
    kinds = {r.file_kind for r in results if r.changed} & {s.NAME for s in CI_SCANNERS}
    if not kinds:
        return lines(said) + unproven(results)
    from migrate.kinds import ci_login

    return lines(said) + unproven(results) + ci_login.text(kinds, registry)


def unproven(results: Iterable[FileResult]) -> str:
    """--prove off: one line for the whole run, how many rewrites no prover checked."""
    count = sum(r.unproven for r in results)
    files = sum(1 for r in results if r.unproven)
    if not count:
        return ""
    s, fs = "s" if count != 1 else "", "s" if files != 1 else ""
    return (
        f"ecr-ptc: {count} rewrite{s} in {files} file{fs} not proven (--prove off): "
        "written on the static rules, without Helm renders or kustomize builds\n"
    )


def rewritten(changed: Iterable[tuple[str, int]], check: bool) -> str:
    """`fix`'s account of what it wrote: a line per file, with its count of references."""
    verb = "would rewrite" if check else "rewrote"
    return "".join(
        f"{verb} {printable(path)} ({count} reference{'s' if count != 1 else ''})\n"
        for path, count in changed
    )


def unified_diff(changes: Iterable[tuple[str, bytes, bytes]]) -> str:
    """`fix --diff`: a git-style unified diff of each changed file, which `git apply` takes."""
    import difflib  # --diff only

    out: list[str] = []
    for path, before, after in changes:
        for line in difflib.unified_diff(
            _diff_lines(before),
            _diff_lines(after),
            fromfile=f"a/{printable(path)}",
            tofile=f"b/{printable(path)}",
        ):
            # git marks a line without a newline, whichever side (`-`, `+` or context) it is on.
            out.append(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n")
    return "".join(out)


def _diff_lines(data: bytes) -> list[str]:
    """Lines as git splits them: at "\n" only (a lone "\r", "\x0c" or U+2028 is inside a line),
    the BOM kept, so that every context line matches the file's bytes."""
    parts = data.decode("utf-8").split("\n")
    return [part + "\n" for part in parts[:-1]] + ([parts[-1]] if parts[-1] else [])
