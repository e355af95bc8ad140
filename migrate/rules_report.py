"""`rules check --format ...`: the lint formats, plus the rules, which have no file and line."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Sequence

from migrate.findings import Finding
from migrate.printable import printable, printable_path
from migrate.report import Report, as_json, escape_data, github, sarif
from migrate.rules import OK, STATUSES, Check, RuleStatus, count


def render(result: Check, errors: Sequence[Finding], files: int, output: str) -> str:
    return _RENDERERS[output](result, Report(result.findings + tuple(errors), files))


def _line(s: RuleStatus) -> str:
    """Prefixes, upstreams and messages may come from the account (AWS answers): escaped."""
    return printable(f"{s.status}: {s.prefix}/ -> {s.upstream}: {s.message}")


def _text(result: Check, report: Report) -> str:
    lines = [_line(s) for s in result.rules] + [f"note: {printable(n)}" for n in result.notes]
    lines += [
        f"{printable_path(f.path)}:{f.line}:{f.column}: {f.code} {printable(f.message)}"
        for f in report.findings
    ]
    counts = Counter(s.status for s in result.rules)
    summary = ", ".join(f"{counts[s]} {s}" for s in STATUSES if counts[s])
    if not result.rules:
        summary = "no rules needed"
    else:
        summary = f"{count(len(result.rules), 'rule')}: {summary}"
    if result.findings:
        summary += f"; {len(result.findings)} PTC005"
    return "\n".join([*lines, summary]) + "\n"


def _json(result: Check, report: Report) -> str:
    body = json.loads(as_json(report))
    rules = [
        {"prefix": s.prefix, "upstream": s.upstream, "status": s.status, "message": s.message}
        for s in result.rules
    ]
    out = {
        "rules": rules,
        "findings": body["findings"],
        "errors": body["errors"],
        "notes": list(result.notes),
    }
    return json.dumps(out, indent=2) + "\n"


def _sarif(result: Check, report: Report) -> str:
    """Rules live in the account, not in a file: SARIF's place for what has no location is the
    invocation's notifications (SARIF 2.1.0 §3.20.21)."""
    log = json.loads(sarif(report))
    notifications = [
        {"level": "note" if s.status == OK else "error", "message": {"text": _line(s)}}
        for s in result.rules
    ] + [{"level": "warning", "message": {"text": note}} for note in result.notes]
    log["runs"][0]["invocations"] = [
        {"executionSuccessful": True, "toolExecutionNotifications": notifications}
    ]
    return json.dumps(log, indent=2) + "\n"


def _github(result: Check, report: Report) -> str:
    """Workflow commands without a file: they annotate the run itself."""
    lines = [
        f"::error title=ecr-ptc rule {_property(s.prefix)}/::{escape_data(_line(s))}"
        for s in result.rules
        if s.status != OK
    ]
    lines += [f"::warning title=ecr-ptc::{escape_data(printable(n))}" for n in result.notes]
    return "".join(f"{line}\n" for line in lines) + github(report)


def _property(value: str) -> str:
    return escape_data(printable(value)).replace(":", "%3A").replace(",", "%2C")


_RENDERERS: dict[str, Callable[[Check, Report], str]] = {
    "text": _text,
    "json": _json,
    "sarif": _sarif,
    "github": _github,
}
