"""The one registry of output formats: which `--format` names each command's output offers,
and the function that renders each. `--format`'s choices come from `NAMES`; the renderers
(one dict per subject, each called FORMATTERS) are imported only by the command that prints
them, so a hook run never loads the rules or warm output.

    findings   scan, lint (and the errors fix, plan and pr print)   output/report.py
    rules      rules check                                          output/rules.py
    warm       warm                                                 output/warm.py

A new format is one function in its subject's module, one entry in its FORMATTERS and one
name (and its description) here (tests/output_formats_test.py holds each FORMATTERS to its NAMES)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from migrate.aws.assess import Assessment
    from migrate.aws.warm import Warmed
    from migrate.findings import Finding
    from migrate.output.report import Report

NAMES: dict[str, tuple[str, ...]] = {
    "findings": ("text", "json", "sarif", "github"),
    "rules": ("text", "json", "sarif", "github"),
    "warm": ("text", "json"),
}
# What each name gives, for `--format`'s help, which lists only the names its command offers.
DESCRIPTIONS: dict[str, str] = {
    "text": "a line per result, path:line:col and what to do",
    "json": "every field",
    "sarif": "SARIF 2.1.0 for code scanning",
    "github": "Actions annotations",
}


def help_for(names: Sequence[str]) -> str:
    return "; ".join(f"{name}: {DESCRIPTIONS[name]}" for name in names) + "."


def findings(name: str) -> Callable[[Report], str]:
    from migrate.output import report

    return report.FORMATTERS[name]


def rules(name: str) -> Callable[[Assessment, Report], str]:
    from migrate.output import rules as rules_output

    return rules_output.FORMATTERS[name]


def warm(name: str) -> Callable[[Warmed, Sequence[Finding]], str]:
    from migrate.output import warm as warm_output

    return warm_output.FORMATTERS[name]
