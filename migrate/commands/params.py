"""The command line's options: declared once, each also read from the environment as
ECR_PTC_<OPTION>, and the common ones put on every command (cli.py has the commands)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

import click
from click.core import ParameterSource

from migrate.commands import session
from migrate.output import formats

debug: list[bool] = []  # set by --debug: cli.main() prints the traceback of an unexpected error


def remember(name: str) -> Callable[[click.Context, click.Parameter, bool], None]:
    """Flags every command takes but none needs as a parameter: kept in the context's meta."""

    def callback(ctx: click.Context, param: click.Parameter, value: bool) -> None:
        if value:
            ctx.meta[f"ecr-ptc.{name}"] = True
            if name == "debug":  # main() reads it after the context is gone
                debug.append(True)

    return callback


def keep(name: str) -> Callable[[click.Context, click.Parameter, Any], None]:
    """A global option's value (`ecr-ptc --registry HOST scan`): kept in the context's meta,
    which every command's context shares, for `read_options`."""

    def callback(ctx: click.Context, param: click.Parameter, value: Any) -> None:
        if value:
            ctx.meta[f"ecr-ptc.{name}"] = value

    return callback


_Decorator = Callable[[Any], Any]  # a function or a click.Command, given back with the option


def option(*decls: str, help: str, **kw: Any) -> _Decorator:
    """An option that may also come from the environment as ECR_PTC_<OPTION>."""
    long = next(d for d in decls if d.startswith("--"))
    return click.option(
        *decls, envvar="ECR_PTC_" + long[2:].upper().replace("-", "_"), help=help, **kw
    )


DEBUG = option(
    "--debug",
    help="Show the traceback of an internal error.",
    is_flag=True,
    expose_value=False,
    callback=remember("debug"),
)
COMMON = (
    click.argument("paths", nargs=-1, type=click.Path(readable=False), envvar="ECR_PTC_PATHS"),
    option("--registry", help="Private ECR registry host the cache lives in.", metavar="HOST"),
    option(
        "--config",
        help="Config file (default: nearest .ecr-ptc.yaml).",
        metavar="FILE",
        type=click.Path(dir_okay=False),
    ),
    option("--aws", help="Read rules (and account/region) from AWS.", is_flag=True),
    option(
        "--exclude", help="Skip paths matching GLOB (repeatable).", metavar="GLOB", multiple=True
    ),
    option(
        "--include-tests",
        help="Also read test directories (tests/, testdata/, __fixtures__/, ...) of the "
        "directories given.",
        is_flag=True,
    ),
    option(
        "-v",
        "--verbose",
        help="Say which config file is used.",
        is_flag=True,
        expose_value=False,
        callback=remember("verbose"),
    ),
    DEBUG,
)
# The common options that may also come before the command (`ecr-ptc -v scan`); the command's
# own, given on the command line, win. No environment here: the command's options read it.
GLOBAL = (
    click.option("--registry", help="Private ECR registry host the cache lives in.",
                 metavar="HOST", expose_value=False, callback=keep("registry")),
    click.option("--config", help="Config file (default: nearest .ecr-ptc.yaml).",
                 metavar="FILE", type=click.Path(dir_okay=False), expose_value=False,
                 callback=keep("config")),
    click.option("--include-tests", help="Also read test directories.", is_flag=True,
                 expose_value=False, callback=keep("include_tests")),
    click.option("-v", "--verbose", help="Say which config file is used.", is_flag=True,
                 expose_value=False, callback=remember("verbose")),
)  # fmt: skip
# fix and pr: whether a rewrite is proven by Helm's renderer and `kubectl kustomize` first
PROVE = option(
    "--prove",
    help="auto: prove rewrites where Helm's renderer / kubectl is installed; off: static rules "
    "only (fast hooks); require: exit 2 on a rewrite that cannot be proven (CI). Default: "
    "`prove:` in the config, else auto.",
    type=click.Choice(("auto", "off", "require")),
    default=None,
)


def command(
    group: click.Group, name: str | None = None, formats_: Iterable[str] = ()
) -> Callable[[Callable[..., int]], click.Command]:
    """A command with the common options (and `--format` when it has formats)."""

    def decorate(func: Callable[..., int]) -> click.Command:
        for decorator in reversed(COMMON):
            func = decorator(func)
        if formats_:
            func = option(
                "--format",
                help=formats.help_for(tuple(formats_)),
                type=click.Choice(sorted(formats_)),
                default="text",
                show_default=True,
            )(func)
        return group.command(name)(func)

    return decorate


class Registered(click.Choice):  # type: ignore[type-arg]  # click < 8.2 is not generic
    """Choices read from a registry (plan.EMITTERS) when click first asks for them, so the hook
    path never imports the registry's module."""

    def __init__(self, load: Callable[[], Sequence[str]]) -> None:
        self._load: Callable[[], Sequence[str]] = load
        self._loaded: tuple[str, ...] = ()
        super().__init__(())

    @property
    def choices(self) -> tuple[str, ...]:
        self._loaded = self._loaded or tuple(sorted(self._load()))
        return self._loaded

    @choices.setter
    def choices(self, _: Any) -> None:
        pass


def _emitters() -> Sequence[str]:
    from migrate.aws import plan

    return list(plan.EMITTERS)


EMITTERS = Registered(_emitters)  # `rules plan --emit`: plan.EMITTERS, read when asked


def read_options(**given: Any) -> session.Options:
    """The session's options from a command's parameters (and `-v`: which config decides)."""
    ctx = click.get_current_context()
    found = session.options(
        given["paths"],
        _given(ctx, "registry", given),
        _given(ctx, "config", given),
        given["aws"],
        given["exclude"],
        given.get("format") or "text",
        bool(_given(ctx, "include_tests", given)),
        given.get("prove"),
    )
    if ctx.meta.get("ecr-ptc.verbose"):
        click.echo(f"ecr-ptc: {session.config_note(found.config)}", err=True)
    return found


def _given(ctx: click.Context, name: str, given: dict[str, Any]) -> Any:
    """The command's option as given on its command line, else the same option given before
    the command, else the command's (from the environment, or its default)."""
    before = ctx.meta.get(f"ecr-ptc.{name}")
    if before is not None and ctx.get_parameter_source(name) is not ParameterSource.COMMANDLINE:
        return before
    return given.get(name)
