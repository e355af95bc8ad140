"""The command line's options: declared once, each also read from the environment as
ECR_PTC_<OPTION>, and the common ones put on every command (cli.py has the commands)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

import click

from migrate.commands import session

debug: list[bool] = []  # set by --debug: cli.main() prints the traceback of an unexpected error


def remember(name: str) -> Callable[[click.Context, click.Parameter, bool], None]:
    """Flags every command takes but none needs as a parameter: kept in the context's meta."""

    def callback(ctx: click.Context, param: click.Parameter, value: bool) -> None:
        if value:
            ctx.meta[f"ecr-ptc.{name}"] = True
            if name == "debug":  # main() reads it after the context is gone
                debug.append(True)

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
        "-v",
        "--verbose",
        help="Say which config file is used.",
        is_flag=True,
        expose_value=False,
        callback=remember("verbose"),
    ),
    DEBUG,
)
# fix and pr: whether a rewrite is proven by Helm's renderer and `kubectl kustomize` first
PROVE = option(
    "--prove",
    help="auto: prove rewrites where Helm's renderer / kubectl is installed; off: static rules "
    "only (fast hooks); require: exit 2 on a rewrite that cannot be proven (CI). Default: "
    "`prove:` in the config, else auto.",
    type=click.Choice(("auto", "off", "require")),
    default=None,
)
FORMAT_HELP = (
    "text: path:line:col: CODE message; json: every field; sarif: SARIF 2.1.0 for code "
    "scanning; github: Actions annotations."
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
                help=FORMAT_HELP,
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
    found = session.options(
        given["paths"],
        given["registry"],
        given["config"],
        given["aws"],
        given["exclude"],
        given.get("format") or "text",
        given.get("prove"),
    )
    if click.get_current_context().meta.get("ecr-ptc.verbose"):
        click.echo(f"ecr-ptc: {session.config_note(found.config)}", err=True)
    return found
