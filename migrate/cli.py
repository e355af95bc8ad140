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

from migrate import __version__, engine
from migrate import config as config_module
from migrate.classify import fails_lint
from migrate.config import Config, ConfigError
from migrate.findings import Finding, Severity
from migrate.printable import printable, printable_path
from migrate.report import FORMATTERS, Report, unified_diff

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


def _emit(report: Report, output: str) -> None:
    click.echo(FORMATTERS[output](report), nl=False)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="ecr-ptc")
@_debug_option
def cli() -> None:
    """Move container image references onto Amazon ECR pull-through cache."""


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
    """List every image reference found, with its verdict."""
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
def lint(
    paths: tuple[str, ...],
    registry: str | None,
    config_file: str | None,
    aws: bool,
    exclude: tuple[str, ...],
    output: str,
    fail_on: tuple[str, ...],
) -> int:
    """Report references that bypass the cache."""
    options = _options(paths, registry, config_file, aws, exclude, output)
    if fail_on:
        try:
            config_module.check_fail_on(fail_on, options.config.rules)
        except ConfigError as exc:
            raise _Stop(f"--fail-on: {exc.reason}") from None
    fail = fail_on or options.config.fail_on
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
    """Rewrite references in place to pull-through cache URLs."""
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
def rules_check(
    paths: tuple[str, ...],
    registry: str | None,
    config_file: str | None,
    aws: bool,
    exclude: tuple[str, ...],
    output: str,
    validate: bool,
) -> int:
    """Which rules the references need, which exist in AWS, which are missing or wrong."""
    from migrate import aws as aws_api
    from migrate import rules as rules_api
    from migrate import rules_report

    options, own, account = _with_account(
        _options(paths, registry, config_file, aws, exclude, output)
    )
    if account is None:  # without --aws the registry names the account to read
        account = _aws_call(aws_api.read_account, options.config.registry)
    _, report = _run(options)
    host = options.config.registry or account.registry
    needs = rules_api.needed(report.findings, options.config, own)
    result = rules_api.check(needs, account.rules, own, host)
    if validate:
        existing = [s.prefix for s in result.rules if s.need and s.status == rules_api.OK]
        validations = _aws_call(aws_api.validate, account, existing)
        result = rules_api.check(needs, account.rules, own, host, validations)
    click.echo(rules_report.render(result, report.errors, report.files, output), nl=False)
    if report.errors:
        return EXIT_ERROR
    return EXIT_FINDINGS if result.failed else EXIT_OK


@rules.command("plan")
@_common
@click.option(
    "--emit",
    type=click.Choice(["cli", "terraform", "cloudformation", "json", "renovate"]),
    default="cli",
    show_default=True,
    envvar="ECR_PTC_EMIT",
)
def rules_plan(
    paths: tuple[str, ...],
    registry: str | None,
    config_file: str | None,
    aws: bool,
    exclude: tuple[str, ...],
    emit: str,
) -> int:
    """Print what would create the missing rules (or the Renovate aliases)."""
    from migrate import plan as plan_api
    from migrate import rules as rules_api

    options, own, account = _with_account(_options(paths, registry, config_file, aws, exclude))
    _, report = _run(options)
    host = options.config.registry or ""
    needs = rules_api.needed(report.findings, options.config, own)
    create, notes, _ = rules_api.to_create(needs, account.rules if account else None, own, host)
    plan = plan_api.Plan(host, create, tuple(n.rule for n in needs), notes)
    click.echo(plan_api.EMITTERS[emit](plan), nl=False)
    for note in notes:
        click.echo(f"ecr-ptc: note: {note}", err=True)
    if not create and emit != "renovate":
        click.echo("ecr-ptc: nothing to create", err=True)
    _echo_errors(report)
    return EXIT_ERROR if report.errors else EXIT_OK


@cli.command()
@_common
@click.option("--branch", default="ecr-ptc/migrate", show_default=True, envvar="ECR_PTC_BRANCH")
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
    push: str | None,
    open_pr: bool,
    body_file: str | None,
) -> int:
    """On a new branch: fix, commit the changed files, write a PR description."""
    # git and the forge live in git_pr and forge; this turns their outcomes into exits.
    from migrate import forge, git_pr, pr_body
    from migrate import plan as plan_api
    from migrate import rules as rules_api

    # --aws reads the account before any git work: an AWS error leaves no branch behind.
    options, own, account = _with_account(_options(paths, registry, config_file, aws, exclude))
    host = options.config.registry or ""
    remote = push or ("origin" if open_pr else None)
    try:
        repo = git_pr.Repository(options.cwd)
        planned, report = _run(options, fix=True)  # writes nothing: which files, are they clean?
        _echo_errors(report)
        touched = [repo.relative(options.cwd, r.path) for r in planned if r.changed]
        if not touched:
            raise _Stop("nothing to migrate: no reference needs rewriting", EXIT_FINDINGS)
        repo.refuse_dirty(touched)
        if remote:
            url = repo.remote_url(remote)  # an unknown remote fails before anything is committed
            if open_pr:  # as do a missing token and an API URL that is not https
                try:
                    forge.prepare(url)
                except forge.ForgeError as exc:
                    raise _Stop(f"--open: {exc}; nothing was committed or pushed") from None
        # The rules, as `rules plan` (and with --aws `rules check`) would print them.
        needs = rules_api.needed(findings_of(planned), options.config, own)
        needed = tuple(n.rule for n in needs)
        existing = account.rules if account else None
        create, notes, result = rules_api.to_create(needs, existing, own, host)
        check = (
            None
            if result is None
            else [
                {
                    "prefix": s.prefix,
                    "upstream": s.upstream,
                    "status": s.status,
                    "message": s.message,
                }
                for s in result.rules
            ]
        )
        rule_plan = plan_api.Plan(host, create, needed, notes)
        migration = repo.migrate(
            options.cwd,
            branch,
            touched,
            lambda: _run(options, fix=True, write=True)[0],
            lambda results: pr_body.commit_message(pr_body.summarise(host, results)),
        )
        click.echo(
            f"committed {len(migration.files)} files to {branch} "
            f"({migration.commit[:12]}); {migration.base} is unchanged",
            err=True,
        )
        if remote:
            repo.push(remote, branch)
            click.echo(f"pushed {branch} to {remote}", err=True)
        summary = pr_body.summarise(host, migration.results)
        text = pr_body.body(
            summary,
            needed,
            plan=plan_api.cli(rule_plan),
            renovate=plan_api.renovate(rule_plan),
            check=check,
            limit=pr_body.GITHUB_BODY_LIMIT if open_pr else None,
        )
        if body_file:
            try:
                Path(body_file).write_text(text, encoding="utf-8")
            except OSError as exc:
                raise _Stop(f"cannot write {body_file}: {exc.strerror}") from None
        elif not open_pr:  # with --open the description goes into the pull request instead
            click.echo(text, nl=False)
        if open_pr and remote:
            base = repo.pr_base(migration, remote)
            url = repo.remote_url(remote)
            click.echo(forge.open_request(url, branch, base, pr_body.TITLE, text))
    except git_pr.GitError as exc:
        raise _Stop(str(exc), exc.code) from None
    except forge.ForgeError as exc:
        raise _Stop(f"{branch} is pushed, but the pull request was not opened: {exc}") from None
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
    from migrate.aws import AwsError

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


def findings_of(results: Sequence[engine.FileResult]) -> list[Finding]:
    return [f for r in results for f in r.findings]
