"""The only module that knows click, exit codes and sys.exit."""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import click

from migrate import __version__, engine, provers
from migrate import config as config_module
from migrate.classify import fails_lint
from migrate.config import Config, ConfigError
from migrate.findings import Finding, Severity
from migrate.printable import printable, printable_path
from migrate.report import FORMATTERS, Report, unified_diff
from migrate.scanners import CI_SCANNERS

EXIT_OK, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2
NO_REGISTRY = (
    "no registry: pass --registry <account>.dkr.ecr.<region>.amazonaws.com, set `registry:` in "
    ".ecr-ptc.yaml, set ECR_PTC_REGISTRY, or use --aws"
)


@dataclass(frozen=True)
class Options:
    paths: tuple[str, ...]
    config: Config
    output: str
    aws: bool
    cwd: Path


def _remember(name: str) -> Callable[[click.Context, click.Parameter, bool], None]:
    """Flags every command takes but none needs as a parameter: kept in the context's meta."""

    def callback(ctx: click.Context, param: click.Parameter, value: bool) -> None:
        if value:
            ctx.meta[f"ecr-ptc.{name}"] = True
            if name == "debug":
                _debug.append(True)

    return callback


_verbose_option = click.option(
    "-v",
    "--verbose",
    is_flag=True,
    expose_value=False,
    envvar="ECR_PTC_VERBOSE",
    callback=_remember("verbose"),
    help="Say which config file is used.",
)
_debug_option = click.option(
    "--debug",
    is_flag=True,
    expose_value=False,
    envvar="ECR_PTC_DEBUG",
    callback=_remember("debug"),
    help="Show the traceback of an internal error.",
)
_debug: list[bool] = []  # set by --debug: main() prints the traceback of an unexpected error


def _common(func: Callable[..., Any]) -> Callable[..., Any]:
    decorators = [
        click.argument("paths", nargs=-1, type=click.Path(readable=False), envvar="ECR_PTC_PATHS"),
        click.option(
            "--registry",
            envvar="ECR_PTC_REGISTRY",
            metavar="HOST",
            help="Private ECR registry host the cache lives in.",
        ),
        click.option(
            "--config",
            "config_file",
            envvar="ECR_PTC_CONFIG",
            type=click.Path(dir_okay=False),
            help="Config file (default: nearest .ecr-ptc.yaml).",
        ),
        click.option(
            "--aws",
            is_flag=True,
            envvar="ECR_PTC_AWS",
            help="Read rules (and account/region) from AWS.",
        ),
        click.option(
            "--exclude",
            multiple=True,
            envvar="ECR_PTC_EXCLUDE",
            metavar="GLOB",
            help="Skip paths matching GLOB (repeatable).",
        ),
        _verbose_option,
        _debug_option,
    ]
    for decorator in reversed(decorators):
        func = decorator(func)
    return func


def _format_option(func: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "--format",
        "output",
        type=click.Choice(sorted(FORMATTERS)),
        default="text",
        envvar="ECR_PTC_FORMAT",
        show_default=True,
        help="text: path:line:col: CODE message; json: every field; sarif: SARIF 2.1.0 for "
        "code scanning; github: Actions annotations.",
    )(func)


class _Stop(Exception):
    def __init__(self, message: str, code: int = EXIT_ERROR) -> None:
        super().__init__(message)
        self.code = code


def _options(
    paths: tuple[str, ...],
    registry: str | None,
    config_file: str | None,
    aws: bool,
    exclude: tuple[str, ...],
    output: str = "text",
) -> Options:
    cwd = Path.cwd()
    try:
        found = Path(config_file) if config_file else config_module.find(cwd)
        config = config_module.load(found) if found else Config()
    except ConfigError as exc:
        raise _Stop(f"config error: {exc}") from None
    if click.get_current_context().meta.get("ecr-ptc.verbose"):
        click.echo(f"ecr-ptc: {_config_note(config)}", err=True)
    if registry:
        from migrate import registries

        if not registries.ecr_host(registry):
            raise _Stop(
                f"--registry {registry!r} is not a private ECR host "
                "(<account>.dkr.ecr.<region>.amazonaws.com)"
            )
        config = config.with_registry(registry.lower())
    if exclude:
        config = replace(config, exclude=config.exclude + exclude)
    return Options(paths or (".",), config, output, aws, cwd)


def _config_note(config: Config) -> str:
    """Which config file decides this run, relative to the working directory."""
    if config.path is None:
        return "no config file"
    return f"config {printable(os.path.relpath(config.path))}"


def _run(
    options: Options, fix: bool = False, write: bool = False
) -> tuple[list[engine.FileResult], Report]:
    from migrate import progress

    found = engine.run(options.paths, options.config, options.cwd, fix=fix, write=write)
    if progress.wanted(options.output):  # a person at a terminal, reading text: show a counter
        found = progress.track(found, lambda result: printable(result.path), sys.stderr)
    results = list(found)
    findings = tuple(f for r in results for f in r.findings)
    changed = tuple(r.path for r in results if r.changed)
    color = options.output == "text" and sys.stdout.isatty() and "NO_COLOR" not in os.environ
    return results, Report(findings, len(results), changed, color)


def _echo_errors(report: Report) -> None:
    """Commands whose stdout is not a findings report (fix, plan, pr) still name bad files."""
    for error in report.errors:
        where = f"{printable_path(error.path)}:{error.line}:{error.column}"
        click.echo(f"{where}: PTC900 {printable(error.message)}", err=True)


def _echo_rulings(results: list[engine.FileResult]) -> None:
    """What provers said (Helm renders: PTC010 refused, PTC011 unverified, PTC014 missed):
    `fix` reports nothing else, and a refused rewrite must not pass unseen."""
    for r in results:
        for f in r.findings:
            if f.code in provers.CODES:
                where = f"{printable_path(f.path)}:{f.line}:{f.column}"
                click.echo(f"{where}: {f.code} {printable(f.message)}", err=True)


def _emit(report: Report, output: str) -> None:
    click.echo(FORMATTERS[output](report), nl=False)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="ecr-ptc")
@_debug_option
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


@cli.command()
@_common
@_format_option
def scan(
    paths: tuple[str, ...],
    registry: str | None,
    config_file: str | None,
    aws: bool,
    exclude: tuple[str, ...],
    output: str,
) -> int:
    """List every image reference found, with its verdict.

    \b
    Exit codes: 0 done, 2 some input could not be read or parsed.
    """
    options = _options(paths, registry, config_file, aws, exclude, output)
    _, report = _run(options)
    _emit(replace(report, config=_config_note(options.config)), output)
    return EXIT_ERROR if report.errors else EXIT_OK


@cli.command()
@_common
@_format_option
@click.option(
    "--fail-on",
    multiple=True,
    envvar="ECR_PTC_FAIL_ON",
    metavar="WHAT",
    help="supported, unsupported, an upstream (docker-hub, quay, ...), a prefix or a code.",
)
@click.option(
    "--require-ci-credentials",
    is_flag=True,
    envvar="ECR_PTC_REQUIRE_CI_CREDENTIALS",
    help="Fail on CI jobs that pull from the cache without declaring credentials (PTC013).",
)
def lint(
    paths: tuple[str, ...],
    registry: str | None,
    config_file: str | None,
    aws: bool,
    exclude: tuple[str, ...],
    output: str,
    fail_on: tuple[str, ...],
    require_ci_credentials: bool,
) -> int:
    """Report references that bypass the cache.

    \b
    Exit codes: 0 clean, 1 findings that --fail-on fails on, 2 some input could not be read.
    """
    options = _options(paths, registry, config_file, aws, exclude, output)
    if require_ci_credentials:
        options = replace(options, config=replace(options.config, require_ci_credentials=True))
    if fail_on:
        try:
            config_module.check_fail_on(fail_on, options.config.rules)
        except ConfigError as exc:
            raise _Stop(f"--fail-on: {exc.reason}") from None
    fail = fail_on or options.config.fail_on
    if options.config.require_ci_credentials:
        fail = (*fail, "PTC013")
    _, report = _run(options)
    shown = tuple(_as_linted(f, fail) for f in report.findings if f.code)
    _emit(Report(shown, report.files, color=report.color), output)
    if report.errors:
        return EXIT_ERROR
    return EXIT_FINDINGS if any(f.severity is Severity.ERROR for f in shown) else EXIT_OK


def _as_linted(finding: Finding, fail_on: tuple[str, ...]) -> Finding:
    """Errors fail lint only where `fail-on` says so; the rest are shown as warnings."""
    if finding.code == "PTC900":
        return finding
    failing = fails_lint(finding.code, finding.upstream, finding.prefix, fail_on)
    if failing:
        return replace(finding, level=Severity.ERROR)
    if finding.severity is Severity.ERROR:
        return replace(finding, level=Severity.WARNING)
    return finding


@cli.command()
@_common
@click.option("--diff", is_flag=True, help="Print a unified diff; write nothing.")
@click.option("--check", is_flag=True, help="Write nothing; exit 1 if anything would change.")
def fix(
    paths: tuple[str, ...],
    registry: str | None,
    config_file: str | None,
    aws: bool,
    exclude: tuple[str, ...],
    diff: bool,
    check: bool,
) -> int:
    """Rewrite references in place to pull-through cache URLs.

    \b
    Exit codes: 0 nothing to change, 1 files changed (or would change with --check/--diff),
    2 some input could not be read or a rewrite could not be verified.
    """
    options, _, _ = _with_account(_options(paths, registry, config_file, aws, exclude))
    results, report = _run(options, fix=True, write=not (diff or check))
    changed = [r for r in results if r.changed]
    if diff:
        click.echo(
            unified_diff((r.path, r.before or b"", r.after or b"") for r in changed), nl=False
        )
    else:
        verb = "would rewrite" if check else "rewrote"
        for r in changed:
            count = sum(1 for f in r.findings if f.target)
            plural = "s" if count != 1 else ""
            click.echo(f"{verb} {printable(r.path)} ({count} reference{plural})")
    _echo_rulings(results)
    ci = {r.file_kind for r in changed} & {s.NAME for s in CI_SCANNERS}
    if ci:  # CI systems pull job images before any step: say what each needs now
        from migrate import ci_login

        click.echo(ci_login.text(ci, options.config.registry or ""), err=True, nl=False)
    _echo_errors(report)
    if report.errors:
        return EXIT_ERROR
    return EXIT_FINDINGS if changed else EXIT_OK


@cli.group()
def rules() -> None:
    """Check and plan the pull-through cache rules the references need."""


@rules.command("check")
@_common
@_format_option
@click.option("--validate", is_flag=True, help="Also ask AWS to validate each needed rule.")
@click.option(
    "--puller",
    envvar="ECR_PTC_PULLER",
    metavar="ROLE_ARN",
    help="Also check this IAM role (or user) may pull through the cache (iam:SimulatePrincipalPolicy).",
)
def rules_check(
    paths: tuple[str, ...],
    registry: str | None,
    config_file: str | None,
    aws: bool,
    exclude: tuple[str, ...],
    output: str,
    validate: bool,
    puller: str | None,
) -> int:
    """Which rules the references need, which exist in AWS, which are missing or wrong; the
    repository creation templates covering their prefixes; with --puller, what the role lacks.

    \b
    Exit codes: 0 every rule is there, 1 a rule is missing or wrong (or the puller lacks an
    action), 2 AWS or input error.
    """
    from migrate import aws as aws_api
    from migrate import rules_report
    from migrate.assess import assess

    _principal(puller)
    options, own, account = _with_account(
        _options(paths, registry, config_file, aws, exclude, output)
    )
    if account is None:  # without --aws the registry names the account to read
        account = _aws_call(aws_api.read_account, options.config.registry)
    _, report = _run(options)
    found = _aws_call(
        lambda: assess(
            report.findings, options.config, own, account, validate=validate, principal=puller
        )
    )
    click.echo(rules_report.render(found, report.errors, report.files, output), nl=False)
    if report.errors:
        return EXIT_ERROR
    return EXIT_FINDINGS if found.failed else EXIT_OK


class _Registered(click.Choice):  # type: ignore[type-arg]  # click < 8.2 is not generic
    """Choices read from a registry (such as plan.EMITTERS) when click first asks for them, so
    the hook path never imports the registry's module."""

    def __init__(self, load: Callable[[], Sequence[str]]) -> None:
        self._load = load
        self._loaded: tuple[str, ...] | None = None
        super().__init__(())

    @property
    def choices(self) -> tuple[str, ...]:
        if self._loaded is None:
            self._loaded = tuple(sorted(self._load()))
        return self._loaded

    @choices.setter
    def choices(self, _: Any) -> None:
        pass


def _emitters() -> Sequence[str]:
    from migrate import plan

    return list(plan.EMITTERS)


@rules.command("plan")
@_common
@click.option(
    "--emit",
    type=_Registered(_emitters),
    default="cli",
    show_default=True,
    envvar="ECR_PTC_EMIT",
)
@click.option(
    "--puller",
    envvar="ECR_PTC_PULLER",
    metavar="ROLE_ARN",
    help="Also grant what this IAM role (or user) lacks to pull through the cache (reads AWS).",
)
def rules_plan(
    paths: tuple[str, ...],
    registry: str | None,
    config_file: str | None,
    aws: bool,
    exclude: tuple[str, ...],
    emit: str,
    puller: str | None,
) -> int:
    """Print what would create the missing rules and templates (or the Renovate aliases).

    \b
    Exit codes: 0 printed, 2 AWS or input error.
    """
    from migrate import plan as plan_api
    from migrate.assess import assess

    _principal(puller)
    options = _options(paths, registry, config_file, aws or bool(puller), exclude)
    options, own, account = _with_account(options)
    _, report = _run(options)
    found = _aws_call(
        lambda: assess(report.findings, options.config, own, account, principal=puller)
    )
    plan = plan_api.Plan.of(found)
    click.echo(plan_api.EMITTERS[emit](plan), nl=False)
    for note in plan.notes:
        click.echo(f"ecr-ptc: note: {note}", err=True)
    if plan.empty and emit != "renovate":
        click.echo("ecr-ptc: nothing to create", err=True)
    _echo_errors(report)
    return EXIT_ERROR if report.errors else EXIT_OK


def _principal(arn: str | None) -> None:
    """A --puller that is not a role or user ARN stops before any AWS call."""
    if arn:
        from migrate.puller import Principal, PrincipalError

        try:
            Principal.parse(arn)
        except PrincipalError as exc:
            raise _Stop(str(exc)) from None


@cli.command()
@_common
@click.option(
    "--format",
    "output",
    type=click.Choice(["text", "json"]),
    default="text",
    envvar="ECR_PTC_FORMAT",
    show_default=True,
)
@click.option(
    "--concurrency",
    type=click.IntRange(1, 64),
    default=8,
    show_default=True,
    envvar="ECR_PTC_CONCURRENCY",
    help="Manifests requested at once.",
)
@click.option(
    "--registry-url",
    envvar="ECR_PTC_REGISTRY_URL",
    metavar="URL",
    help="Reach the registry API here instead of https://<registry host> (a proxy).",
)
def warm(
    paths: tuple[str, ...],
    registry: str | None,
    config_file: str | None,
    aws: bool,
    exclude: tuple[str, ...],
    output: str,
    concurrency: int,
    registry_url: str | None,
) -> int:
    """Pull every reference's manifest through the cache, so it is filled before the first
    deploy.

    \b
    Exit codes: 0 every reference is served, 1 any is not (not found upstream, upstream auth,
    throttled, digest mismatch), 2 AWS or input error.
    """
    from migrate import aws as aws_api
    from migrate import progress
    from migrate import warm as warm_api
    from migrate.warm import registry as warm_registry
    from migrate.warm import report as warm_report

    if registry_url:
        try:
            warm_registry.check_url(registry_url)
        except ValueError as exc:
            raise _Stop(f"--registry-url: {exc}") from None
    options, _, account = _with_account(
        _options(paths, registry, config_file, aws, exclude, output)
    )
    host = options.config.registry or ""
    if account is None:  # the token and image lookups need only a client, not the rules
        account = _aws_call(aws_api.connect, host)
    _, report = _run(options, fix=True)  # writes nothing: the references fix would write
    found = warm_api.targets(report.findings, host)
    track = None
    if progress.wanted(output):
        track = lambda done: progress.track(done, warm_api.label, sys.stderr, noun="reference")
    warmed = _aws_call(
        lambda: warm_api.run(
            found, account, base_url=registry_url, concurrency=concurrency, progress=track
        )
    )
    click.echo(warm_report.FORMATS[output](warmed, report.errors), nl=False)
    if report.errors or warmed.errors:
        return EXIT_ERROR
    return EXIT_FINDINGS if warmed.failed else EXIT_OK


@cli.command()
@_common
@click.option("--branch", default="ecr-ptc/migrate", show_default=True, envvar="ECR_PTC_BRANCH")
@click.option(
    "--force-branch",
    is_flag=True,
    envvar="ECR_PTC_FORCE_BRANCH",
    help="Recreate --branch from HEAD if it exists (default: reuse it when it already holds "
    "this migration, else refuse).",
)
@click.option(
    "--push",
    "push",
    is_flag=False,
    flag_value="origin",
    default=None,
    metavar="[REMOTE]",
    envvar="ECR_PTC_PUSH",
    help="Push the branch (to REMOTE, default origin).",
)
@click.option(
    "--open",
    "open_pr",
    is_flag=True,
    envvar="ECR_PTC_OPEN",
    help="Push and open the GitHub PR / GitLab MR.",
)
@click.option(
    "--body-file",
    type=click.Path(dir_okay=False),
    envvar="ECR_PTC_BODY_FILE",
    help="Write the PR description here (default: stdout).",
)
def pr(
    paths: tuple[str, ...],
    registry: str | None,
    config_file: str | None,
    aws: bool,
    exclude: tuple[str, ...],
    branch: str,
    force_branch: bool,
    push: str | None,
    open_pr: bool,
    body_file: str | None,
) -> int:
    """On a new branch: fix, commit the changed files, write a PR description.

    \b
    Exit codes: 0 committed (and pushed / opened), 1 nothing to migrate, 2 error (a failed
    push keeps the branch and its commit: rerun to push it).
    """
    from migrate import migration

    # --aws reads the account before any git work: an AWS error leaves no branch behind.
    options, own, account = _with_account(_options(paths, registry, config_file, aws, exclude))
    request = migration.Request(
        options.cwd,
        options.config,
        own,
        account,
        branch,
        push or ("origin" if open_pr else None),
        open_pr,
        Path(body_file) if body_file else None,
        force_branch,
    )

    def fix(write: bool) -> list[engine.FileResult]:
        results, report = _run(options, fix=True, write=write)
        if not write:
            _echo_errors(report)
        return results

    try:
        done = migration.run(request, fix, lambda line: click.echo(line, err=True))
    except migration.MigrationError as exc:
        if exc.body and not body_file:  # committed, not pushed: the description is still due
            click.echo(exc.body, nl=False)
        nothing = exc.kind is migration.Failure.NOTHING
        raise _Stop(str(exc), EXIT_FINDINGS if nothing else EXIT_ERROR) from None
    if done.url:
        click.echo(done.url)
    elif not body_file and not open_pr:  # with --open the description went into the PR
        click.echo(done.body, nl=False)
    return EXIT_OK


def _with_account(options: Options) -> tuple[Options, Config, Any]:
    """Options ready for a command that needs a registry. With --aws the account is read once
    and its rules become the ones references map to; the config's own rules are returned too,
    for checking them against the account."""
    own, account = options.config, None
    if options.aws:
        from migrate import aws

        account = _aws_call(aws.read_account, own.registry)
        options = replace(options, config=aws.with_account(own, account), aws=False)
    if options.config.registry is None:
        raise _Stop(NO_REGISTRY)
    return options, own, account


def _aws_call(call: Callable[..., Any], *args: Any) -> Any:
    from migrate.aws_errors import AwsError

    try:
        return call(*args)
    except AwsError as exc:
        raise _Stop(str(exc)) from None


def main(argv: Sequence[str] | None = None) -> int:
    _debug.clear()
    with _terminate_as_interrupt():
        try:
            result = cli.main(
                args=list(argv) if argv is not None else None,
                prog_name="ecr-ptc",
                standalone_mode=False,
            )
        except _Stop as stop:
            click.echo(f"ecr-ptc: {printable(str(stop))}", err=True)
            return stop.code
        except click.exceptions.Abort:
            click.echo("ecr-ptc: aborted", err=True)
            return EXIT_ERROR
        except click.ClickException as exc:
            exc.show()
            return EXIT_ERROR
        except _Terminated:
            click.echo("ecr-ptc: terminated", err=True)
            return EXIT_ERROR
        except BrokenPipeError:  # `ecr-ptc scan | head`: the reader has gone, nothing to say
            _silence_stdout()
            return EXIT_ERROR
        except Exception as exc:  # noqa: BLE001  the last resort: a bug, in one line, exit 2
            if _debug or os.environ.get("ECR_PTC_DEBUG", "").lower() in ("1", "true", "yes"):
                import traceback

                traceback.print_exc()
            else:
                reason = printable(f"{type(exc).__name__}: {exc}")
                click.echo(
                    f"ecr-ptc: internal error: {reason} (rerun with --debug for the traceback)",
                    err=True,
                )
            return EXIT_ERROR
    return result if isinstance(result, int) else EXIT_OK


class _Terminated(BaseException):
    """SIGTERM, raised where the program is, so it unwinds as from Ctrl-C: a temp file being
    written is removed (source.write_atomic) and nothing is half done. Not a KeyboardInterrupt,
    which click would answer with a blank line for the terminal's ^C."""


def _raise_terminated(signum: int, frame: object) -> None:
    raise _Terminated()


@contextmanager
def _terminate_as_interrupt() -> Iterator[None]:
    try:
        previous = signal.signal(signal.SIGTERM, _raise_terminated)
    except ValueError:  # not the main thread (an embedding program): its handlers stay
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _silence_stdout() -> None:
    # Python flushes stdout at exit and would report the broken pipe again.
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass
