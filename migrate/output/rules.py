"""`rules check --format ...`: the lint formats, plus what has no file and line: the rules, the
repository creation templates covering their prefixes, and the role that pulls.

One renderer per name `formats.NAMES["rules"]` lists (tests/output_formats_test.py).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Sequence

from migrate.aws.assess import Assessment
from migrate.aws.puller import policy
from migrate.aws.rules import OK, STATUSES, Check, RuleStatus, count
from migrate.aws.templates import Coverage
from migrate.findings import Finding
from migrate.output.printable import printable, printable_path
from migrate.output.report import Report, as_json, escape_data, github, sarif


def render(found: Assessment, errors: Sequence[Finding], files: int, output: str) -> str:
    result = found.check or Check((), (), ())
    return FORMATTERS[output](found, Report(result.findings + tuple(errors), files))


def _line(s: RuleStatus) -> str:
    """Prefixes, upstreams and messages may come from the account (AWS answers): escaped."""
    return printable(f"{s.status}: {s.prefix}/ -> {s.upstream}: {s.message}")


def _template_line(c: Coverage) -> str:
    return printable(f"template: {c.prefix}/: {c.message()}")


def _extra_lines(found: Assessment) -> list[str]:
    """Templates and puller, as `text` prints them (and annotations carry them)."""
    lines = [_template_line(c) for c in found.coverage]
    if found.puller:
        lines += [printable(f"puller: {line}") for line in found.puller.lines()]
    return lines


def _text(found: Assessment, report: Report) -> str:
    result = found.check or Check((), (), ())
    lines = [_line(s) for s in result.rules] + _extra_lines(found)
    document = policy(found.puller) if found.puller else None
    if document:
        lines.append("puller: the smallest policy that grants it:")
        lines += ["  " + line for line in json.dumps(document, indent=2).splitlines()]
    lines += [f"note: {printable(note)}" for note in found.notes]
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
    if found.puller and found.puller.failed:
        lacking = sum(len(actions) for _, actions in found.puller.missing)
        summary += f"; the puller lacks {count(lacking, 'permission')}"
    return "\n".join([*lines, summary]) + "\n"


def _json(found: Assessment, report: Report) -> str:
    result = found.check or Check((), (), ())
    body = json.loads(as_json(report))
    rules = [
        {"prefix": s.prefix, "upstream": s.upstream, "status": s.status, "message": s.message}
        for s in result.rules
    ]
    templates = [
        {
            "prefix": c.prefix,
            "covered": c.covered,
            "template": c.template.prefix if c.template else None,
            "settings": list(c.template.settings()) if c.template else [],
            "narrower": list(c.narrower),
            "scanning": c.scanning,
            "message": c.message(),
        }
        for c in found.coverage
    ]
    puller = None
    if found.puller:
        puller = {
            "principal": found.puller.principal.arn,
            "missing": [
                {"resource": resource, "actions": list(actions)}
                for resource, actions in found.puller.missing
            ],
            "explicitlyDenied": list(found.puller.denied),
            "policy": policy(found.puller),
        }
    out = {
        "rules": rules,
        "templates": templates,
        "puller": puller,
        "findings": body["findings"],
        "errors": body["errors"],
        "notes": list(found.notes),
    }
    return json.dumps(out, indent=2) + "\n"


def _sarif(found: Assessment, report: Report) -> str:
    """Rules live in the account, not in a file: SARIF's place for what has no location is the
    invocation's notifications (SARIF 2.1.0 §3.20.21)."""
    result = found.check or Check((), (), ())
    log = json.loads(sarif(report))
    notifications = [
        {"level": "note" if s.status == OK else "error", "message": {"text": _line(s)}}
        for s in result.rules
    ]
    notifications += [
        {"level": "note" if c.covered else "warning", "message": {"text": _template_line(c)}}
        for c in found.coverage
    ]
    if found.puller:
        level = "error" if found.puller.failed else "note"
        notifications += [
            {"level": level, "message": {"text": f"puller: {line}"}}
            for line in found.puller.lines()
        ]
    notifications += [{"level": "warning", "message": {"text": note}} for note in found.notes]
    log["runs"][0]["invocations"] = [
        {"executionSuccessful": True, "toolExecutionNotifications": notifications}
    ]
    return json.dumps(log, indent=2) + "\n"


def _github(found: Assessment, report: Report) -> str:
    """Workflow commands without a file: they annotate the run itself."""
    result = found.check or Check((), (), ())
    lines = [
        f"::error title=ecr-ptc rule {_property(s.prefix)}/::{escape_data(_line(s))}"
        for s in result.rules
        if s.status != OK
    ]
    lines += [
        f"::warning title=ecr-ptc template {_property(c.prefix)}/::"
        f"{escape_data(printable(c.message()))}"
        for c in found.coverage
        if not c.covered
    ]
    if found.puller and found.puller.failed:
        lines += [
            f"::error title=ecr-ptc puller::{escape_data(printable(line))}"
            for line in found.puller.lines()
        ]
    lines += [f"::warning title=ecr-ptc::{escape_data(printable(n))}" for n in found.notes]
    return "".join(f"{line}\n" for line in lines) + github(report)


def _property(value: str) -> str:
    return escape_data(printable(value)).replace(":", "%3A").replace(",", "%2C")


FORMATTERS: dict[str, Callable[[Assessment, Report], str]] = {
    "text": _text,
    "json": _json,
    "sarif": _sarif,
    "github": _github,
}
