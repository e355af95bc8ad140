"""`lint`: which findings fail the build. `fail-on` says which codes, upstreams or prefixes
fail; every other error is shown as a warning, so CI annotations and code scanning agree with
the exit status."""

from __future__ import annotations

from dataclasses import replace

from migrate.classify import fails_lint
from migrate.commands.session import Options, SessionError
from migrate.config import ConfigError, check_fail_on
from migrate.findings import Finding, Severity
from migrate.output.report import Report


def options(
    given: Options, fail_on: tuple[str, ...], require_ci_credentials: bool
) -> tuple[Options, tuple[str, ...]]:
    """The session's options with lint's own, and what fails: `--fail-on`, else the config's
    `lint.fail-on`; PTC013 too when CI credentials are required."""
    config = given.config
    if require_ci_credentials:
        config = replace(config, require_ci_credentials=True)
    try:
        check_fail_on(fail_on, config.rules)
    except ConfigError as exc:
        raise SessionError(f"--fail-on: {exc.reason}") from None
    chosen = fail_on or config.fail_on
    failing = (*chosen, "PTC013") if config.require_ci_credentials else chosen
    return replace(given, config=config), failing


def judge(report: Report, failing: tuple[str, ...]) -> Report:
    """The findings lint shows (those with a code), each at the level `failing` gives it."""
    shown = tuple(_level(f, failing) for f in report.findings if f.code)
    return replace(
        report,
        findings=shown,
        counted=report.findings,
        failing=sum(1 for f in shown if _fails(f)),
    )


def fails(report: Report) -> bool:
    return any(_fails(f) for f in report.findings)


def _fails(finding: Finding) -> bool:
    return finding.severity is Severity.ERROR and finding.code != "PTC900"


def _level(finding: Finding, failing: tuple[str, ...]) -> Finding:
    if finding.code == "PTC900":
        return finding
    # A copy only where the level changes: a dense file has 10^5 findings, most already right.
    severity = finding.severity
    if fails_lint(finding.code, finding.upstream, finding.prefix, failing):
        return finding if severity is Severity.ERROR else replace(finding, level=Severity.ERROR)
    if severity is Severity.ERROR:
        return replace(finding, level=Severity.WARNING)
    return finding
