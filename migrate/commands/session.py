"""What every command does before its own work: the options it was given as one `Options`
(the config found and checked, the registry given), the AWS account when asked for, and the
engine's run over the paths as results plus a `Report`. No click here: errors are
`SessionError`, which the CLI prints as one line and exits 2 on."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, TypeVar

from migrate import config as config_module
from migrate.config import Config, ConfigError
from migrate.output.printable import printable
from migrate.output.report import Report
from migrate.rewrite import engine
from migrate.rewrite.results import FileResult

T = TypeVar("T")
NO_REGISTRY = (
    "no registry: pass --registry <account>.dkr.ecr.<region>.amazonaws.com, set `registry:` in "
    ".ecr-ptc.yaml, set ECR_PTC_REGISTRY, or use --aws"
)


class SessionError(Exception):
    """A run that cannot start or go on (a bad config, no registry, AWS refusing): one line,
    and the exit code it means (2, or 1 where the cause is "nothing to do")."""

    def __init__(self, message: str, code: int = 2) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class Options:
    paths: tuple[str, ...]
    config: Config  # with the registry and excludes the command line added
    output: str
    aws: bool
    cwd: Path
    own: Config | None = None  # under --aws: the config as written (the account's rules rule)
    account: Any = None  # aws.Account, once read


def options(
    paths: tuple[str, ...],
    registry: str | None = None,
    config_file: str | None = None,
    aws: bool = False,
    exclude: tuple[str, ...] = (),
    output: str = "text",
    include_tests: bool = False,
    prove: str | None = None,
) -> Options:
    cwd = Path.cwd()
    try:
        found = Path(config_file) if config_file else config_module.find(cwd)
        config = config_module.load(found) if found else Config()
    except ConfigError as exc:
        raise SessionError(f"config error: {exc}") from None
    if registry:
        from migrate import registries

        if not registries.ecr_host(registry):
            raise SessionError(
                f"--registry {registry!r} is not a private ECR host "
                "(<account>.dkr.ecr.<region>.amazonaws.com)"
            )
        config = config.with_registry(registry.lower())
    if exclude:
        config = replace(config, exclude=config.exclude + exclude)
    if include_tests:
        config = replace(config, include_tests=True)
    if prove:
        config = replace(config, prove=prove)
    return Options(paths or (".",), config, output, aws, cwd)


def config_note(config: Config) -> str:
    """Which config file decides this run, relative to the working directory."""
    if config.path is None:
        return "no config file"
    return f"config {printable(os.path.relpath(config.path))}"


def with_account(options: Options, read: bool = False) -> Options:
    """Options ready for a command that needs a registry. With --aws (or `read`: the command
    needs the account anyway) the account is read once and its rules become the ones references
    map to; the config as written is kept in `own`, for checking it against the account."""
    if options.aws or read:
        from migrate.aws import client as aws

        account = aws_call(lambda: aws.read_account(options.config.registry))
        config = aws.with_account(options.config, account)
        options = replace(options, config=config, own=options.config, account=account, aws=False)
    if options.config.registry is None:
        raise SessionError(NO_REGISTRY)
    return options


def account(options: Options) -> Any:
    """The account the registry names (`rules check` reads it even without --aws)."""
    if options.account is not None:
        return options.account
    from migrate.aws import client as aws

    return aws_call(lambda: aws.read_account(options.config.registry))


def puller(given: str | None) -> str | None:
    """--puller as given: a role or user ARN, or an ECS task definition file, whose
    `executionRoleArn` is the role that pulls its images; checked before any AWS call."""
    if given and not given.startswith("arn:") and Path(given).is_file():
        given = _execution_role(Path(given))
    check_principal(given)
    return given


def _execution_role(path: Path) -> str:
    from migrate.kinds import ecs_task_definition
    from migrate.occurrence import ScanError

    try:
        text = path.read_text(encoding="utf-8-sig")
        role = ecs_task_definition.execution_role(text)
    except (OSError, UnicodeDecodeError, ScanError) as exc:
        raise SessionError(f"--puller {printable(str(path))}: {exc}") from None
    if role is None:
        raise SessionError(
            f"--puller {printable(str(path))}: not a task definition with an executionRoleArn"
        )
    return role


def check_principal(arn: str | None) -> None:
    """A --puller that is not a role or user ARN stops before any AWS call."""
    if arn:
        from migrate.aws.puller import Principal, PrincipalError

        try:
            Principal.parse(arn)
        except PrincipalError as exc:
            raise SessionError(str(exc)) from None


def aws_call(call: Callable[[], T]) -> T:
    from migrate.aws.errors import AwsError

    try:
        return call()
    except AwsError as exc:
        raise SessionError(str(exc)) from None


def run(
    options: Options, *, fix: bool = False, write: bool = False
) -> tuple[list[FileResult], Report]:
    """The engine over the paths; a file counter on stderr when a person is watching."""
    from migrate.output import progress
    from migrate.rewrite.walk import Tally

    tally = Tally()
    found: Iterator[FileResult] = engine.run(
        options.paths, options.config, options.cwd, fix=fix, write=write, tally=tally
    )
    if progress.wanted(options.output):
        found = progress.track(found, lambda result: printable(result.path), sys.stderr)
    results = list(found)
    findings = tuple(f for r in results for f in r.findings)
    changed = tuple(r.path for r in results if r.changed)
    color = options.output == "text" and sys.stdout.isatty() and "NO_COLOR" not in os.environ
    return results, Report(findings, len(results), changed, color, skipped_tests=tally.tests)
