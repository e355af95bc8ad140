"""The only module that knows click, exit codes and sys.exit: parse, call, format, exit."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import click

from migrate import __version__
from migrate.commands import lint, session
from migrate.commands.params import (
    DEBUG,
    EMITTERS,
    GLOBAL,
    PROVE,
    command,
    debug,
    option,
    read_options,
)
from migrate.commands.session import SessionError
from migrate.output import formats
from migrate.output import report as output
from migrate.output.printable import printable

EXIT_OK, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2


def _global_options(func: Any) -> Any:
    for decorator in reversed(GLOBAL):
        func = decorator(func)
    return func


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="ecr-ptc")
@DEBUG
@_global_options
def cli() -> None:
    """Move container image references onto Amazon ECR pull-through cache.

    Every option can also come from the environment as ECR_PTC_<OPTION> (ECR_PTC_REGISTRY,
    ECR_PTC_FORMAT, ECR_PTC_FAIL_ON, ...); ECR_PTC_JOBS sets the number of processes.
    Configuration: the nearest .ecr-ptc.yaml up to the git root, or --config.

    \b
    Suppress one reference with a comment on its line or the line above:
      # ecr-ptc: ignore                   every code
      # ecr-ptc: ignore[PTC001,PTC006]    these codes
    """


@command(cli, formats_=formats.NAMES["findings"])
def scan(**given: Any) -> int:
    """List every image reference found, with its verdict.

    \b
    Exit codes: 0 done, 2 some input could not be read or parsed.
    """
    options = read_options(**given)
    _, report = session.run(options)
    report = replace(report, config=session.config_note(options.config))
    click.echo(formats.findings(options.output)(report), nl=False)
    return EXIT_ERROR if report.errors else EXIT_OK


@option("--fail-on", help="supported, unsupported, an upstream (docker-hub, quay, ...), a "
         "prefix or a code.", metavar="WHAT", multiple=True)  # fmt: skip
@option("--require-ci-credentials", help="Fail on CI jobs that pull from the cache without "
         "declaring credentials (PTC013).", is_flag=True)  # fmt: skip
@command(cli, "lint", formats_=formats.NAMES["findings"])
def lint_references(fail_on: tuple[str, ...], require_ci_credentials: bool, **given: Any) -> int:
    """Report references that bypass the cache.

    \b
    Exit codes: 0 clean, 1 findings that --fail-on fails on, 2 some input could not be read.
    """
    options, failing = lint.options(read_options(**given), fail_on, require_ci_credentials)
    _, report = session.run(options)
    shown = lint.judge(report, failing)
    click.echo(formats.findings(options.output)(shown), nl=False)
    if report.errors:
        return EXIT_ERROR
    return EXIT_FINDINGS if lint.fails(shown) else EXIT_OK


@click.option("--diff", is_flag=True, help="Print a unified diff; write nothing.")
@click.option("--check", is_flag=True, help="Write nothing; exit 1 if anything would change.")
@PROVE
@command(cli)
def fix(diff: bool, check: bool, **given: Any) -> int:
    """Rewrite references in place to pull-through cache URLs.

    \b
    Exit codes: 0 nothing to change, 1 files changed (or would change with --check/--diff),
    2 some input could not be read, or under --prove require a rewrite could not be proven.
    """
    options = session.with_account(read_options(**given))
    results, report = session.run(options, fix=True, write=not (diff or check))
    changed = [r for r in results if r.changed]
    if diff:
        changes = ((r.path, r.before or b"", r.after or b"") for r in changed)
        click.echo(output.unified_diff(changes), nl=False)
    else:
        counts = ((r.path, sum(1 for f in r.findings if f.target)) for r in changed)
        click.echo(output.rewritten(counts, check), nl=False)
    click.echo(output.fix_notes(results, options.config.registry or ""), err=True, nl=False)
    if report.skipped_tests:
        click.echo(f"ecr-ptc: {output.skipped(report.skipped_tests)}", err=True)
    if report.errors or report.unproven:
        return EXIT_ERROR
    return EXIT_FINDINGS if changed else EXIT_OK


@cli.group()
def rules() -> None:
    """Check and plan the pull-through cache rules the references need."""


_PULLER = (
    "IAM role (or user) ARN that pulls, or an ECS task definition file (its executionRoleArn): "
    "check it may pull through the cache."
)


@click.option("--validate", is_flag=True, help="Also ask AWS to validate each needed rule.")
@option("--puller", help=_PULLER, metavar="ROLE_ARN")
@command(rules, "check", formats_=formats.NAMES["rules"])
def rules_check(validate: bool, puller: str | None, **given: Any) -> int:
    """Which rules the references need, which exist in AWS, which are missing or wrong; the
    repository creation templates covering their prefixes; with --puller, what the role lacks.

    \b
    Exit codes: 0 every rule is there, 1 a rule is missing or wrong (or the puller lacks an
    action), 2 AWS or input error.
    """
    from migrate.aws import assess
    from migrate.output import rules as rules_report

    puller = session.puller(puller)
    options = session.with_account(read_options(**given))
    account = session.account(options)
    _, report = session.run(options)
    found = assess.of(report, options, account, validate=validate, principal=puller)
    click.echo(rules_report.render(found, report.errors, report.files, options.output), nl=False)
    if report.errors:
        return EXIT_ERROR
    return EXIT_FINDINGS if found.failed else EXIT_OK


@option("--emit", help="What to print.", type=EMITTERS, default="cli", show_default=True)
@option("--puller", help=_PULLER + " Reads AWS.", metavar="ROLE_ARN")
@command(rules, "plan")
def rules_plan(emit: str, puller: str | None, **given: Any) -> int:
    """Print what would create the missing rules and templates (or the Renovate aliases).

    \b
    Exit codes: 0 printed, 2 AWS or input error.
    """
    from migrate.aws import assess, plan

    puller = session.puller(puller)
    options = session.with_account(read_options(**given), read=bool(puller))
    _, report = session.run(options)
    proposed = plan.Plan.of(assess.of(report, options, options.account, principal=puller))
    click.echo(plan.EMITTERS[emit](proposed), nl=False)
    notes = [f"ecr-ptc: note: {note}\n" for note in proposed.notes]
    notes += ["ecr-ptc: nothing to create\n"] if proposed.empty and emit != "renovate" else []
    click.echo("".join(notes) + output.lines(report.errors), err=True, nl=False)
    return EXIT_ERROR if report.errors else EXIT_OK


@option("--concurrency", help="Manifests requested at once.", type=click.IntRange(1, 64),
         default=8, show_default=True)  # fmt: skip
@option("--registry-url", help="Reach the registry API here instead of https://<registry host>.",
         metavar="URL")  # fmt: skip
@option("--timeout", help="Seconds the whole run may take; a reference not warmed by then is an "
         "error.", type=click.FloatRange(1, 86400), default=1800, show_default=True)  # fmt: skip
@command(cli, formats_=formats.NAMES["warm"])
def warm(concurrency: int, registry_url: str | None, timeout: float, **given: Any) -> int:
    """Pull every reference's manifest through the cache, so it is filled before the first
    deploy.

    \b
    Exit codes: 0 every reference is served, 1 any is not (not found upstream, upstream auth,
    throttled, digest mismatch), 2 AWS or input error.
    """
    from migrate.aws import warm as warming

    options = session.with_account(read_options(**given))
    warmed, errors = warming.run_for(
        options, concurrency=concurrency, base_url=registry_url, deadline=timeout
    )
    click.echo(formats.warm(options.output)(warmed, errors), nl=False)
    if warmed.interrupted is not None:  # the results so far are out; now end as told to
        raise warmed.interrupted
    if errors or warmed.errors:
        return EXIT_ERROR
    return EXIT_FINDINGS if warmed.failed else EXIT_OK


@option("--branch", help="The branch to commit to.", default="ecr-ptc/migrate",
         show_default=True)  # fmt: skip
@option("--force-branch", help="Recreate --branch from HEAD if it exists (default: reuse it when "
         "it already holds this migration, else refuse).", is_flag=True)  # fmt: skip
@option("--push", help="Push the branch (to REMOTE, default origin).", metavar="[REMOTE]",
         is_flag=False, flag_value="origin", default=None)  # fmt: skip
@option("--open", "open_pr", help="Push and open the GitHub PR / GitLab MR.", is_flag=True)
@option("--body-file", help="Write the PR description here (default: stdout).",
         type=click.Path(dir_okay=False))  # fmt: skip
@PROVE
@command(cli)
def pr(branch: str, force_branch: bool, push: str | None, open_pr: bool, body_file: str | None,
       **given: Any) -> int:  # fmt: skip
    """On a new branch: fix, commit the changed files, write a PR description.

    \b
    Exit codes: 0 committed (and pushed / opened), 1 nothing to migrate, 2 error (a failed
    push keeps the branch and its commit: rerun to push it).
    """
    from migrate.pr import migration

    # --aws reads the account before any git work: an AWS error leaves no branch behind.
    options = session.with_account(read_options(**given))
    request = migration.Request.of(options, branch, push, open_pr, body_file, force_branch)

    def fix(write: bool) -> list[Any]:
        results, report = session.run(options, fix=True, write=write)
        if not write:  # the dry run: said once, and --prove require stops before any commit
            said = output.lines([*report.errors, *report.unproven]) + output.unproven(results)
            click.echo(said, err=True, nl=False)
            if report.unproven:
                raise SessionError("--prove require: a rewrite could not be proven; nothing "
                                   "was committed")  # fmt: skip
        return results

    try:
        done = migration.run(request, fix, lambda line: click.echo(line, err=True))
    except migration.MigrationError as exc:
        if exc.body and not body_file:  # committed, not pushed: the description is still due
            click.echo(exc.body, nl=False)
        # Line by line: each escaped on its own, so git's several lines stay lines (not `\n`).
        click.echo(f"ecr-ptc: {printable(str(exc))}", err=True)
        for line in exc.detail:
            click.echo(_detail(line), err=True)
        return EXIT_FINDINGS if exc.kind is migration.Failure.NOTHING else EXIT_ERROR
    if done.url:
        click.echo(done.url)
    elif not (body_file or open_pr):  # with --open the description went into the PR
        click.echo(done.body, nl=False)
    return EXIT_OK


def _detail(line: str) -> str:
    """A line under an error, escaped; never one an Actions runner reads as a workflow command
    (it trims the line before looking for `::`)."""
    shown = printable(line)
    return "  " + shown.lstrip().replace(":", "\\x3a", 1) if shown.lstrip()[:2] == "::" else shown


def main(argv: Sequence[str] | None = None) -> int:
    from migrate.commands import signals  # SIGTERM unwinds like Ctrl-C; a closed pipe ends quietly

    debug.clear()
    with signals.terminate_as_interrupt():
        try:
            args = list(argv) if argv is not None else None
            result = cli.main(args=args, prog_name="ecr-ptc", standalone_mode=False)
        except SessionError as stop:
            click.echo(f"ecr-ptc: {printable(str(stop))}", err=True)
            return stop.code
        except (click.exceptions.Abort, signals.Terminated) as stop:  # Ctrl-C, SIGTERM
            click.echo(f"ecr-ptc: {'aborted' if isinstance(stop, click.Abort) else 'terminated'}",
                       err=True)  # fmt: skip
            return EXIT_ERROR
        except click.ClickException as exc:
            exc.show()
            return EXIT_ERROR
        except BrokenPipeError:  # `ecr-ptc scan | head`: the reader has gone, nothing to say
            signals.silence_stdout()
            return EXIT_ERROR
        except Exception as exc:  # noqa: BLE001  the last resort: a bug, in one line, exit 2
            if debug or os.environ.get("ECR_PTC_DEBUG", "").lower() in ("1", "true", "yes"):
                import traceback

                traceback.print_exc()
            else:
                reason = printable(f"{type(exc).__name__}: {exc}")
                click.echo(f"ecr-ptc: internal error: {reason} (rerun with --debug for the "
                           "traceback)", err=True)  # fmt: skip
            return EXIT_ERROR
    return result if isinstance(result, int) else EXIT_OK
