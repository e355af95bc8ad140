"""The rules workflow `rules check`, `rules plan` and `pr` share: which rules the references need,
which the account has, what to create, which repository creation templates cover the
prefixes, and whether the role that pulls may pull through the cache.

One function, `assess`, no I/O of its own: the account comes in as an `AccountView` (aws.Account
in the CLI, a plain object in tests), so this module never imports boto3. cli.py calls it and
formats the result.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from migrate.commands.session import Options
    from migrate.output.report import Report

from migrate import registries
from migrate.aws import puller
from migrate.aws.account import AccountRule
from migrate.aws.errors import AwsDenied
from migrate.aws.rules import MISSING, OK, Check, Need, check, limits, needed
from migrate.aws.templates import Coverage, Scanning, Template, coverage
from migrate.config import Config, Defaults, Rule
from migrate.findings import Finding


class AccountView(Protocol):
    """What the workflow asks of the account. Each call may raise aws_errors.AwsError; an
    AwsDenied from templates() or scanning() is carried on with a note, not fatal."""

    @property
    def rules(self) -> tuple[AccountRule, ...]: ...

    def validate(self, prefixes: Iterable[str]) -> dict[str, str | None]: ...

    def templates(self) -> tuple[Template, ...]: ...

    def scanning(self) -> Scanning: ...

    def simulate(
        self, principal: str, asked: Sequence[tuple[str, tuple[str, ...]]]
    ) -> dict[tuple[str, str], str]: ...


@dataclass(frozen=True)
class Assessment:
    registry: str
    needs: tuple[Need, ...]
    create: tuple[Rule, ...]  # rules to create: every needed one when the account is unknown
    notes: tuple[str, ...]  # the service's limits here, and what could not be read
    check: Check | None = None  # None: the account was not read
    unfixable: tuple[str, ...] = ()  # rules creating rules will not fix (a plan's notes)
    coverage: tuple[Coverage, ...] = ()  # per needed prefix, when the templates were read
    templates: tuple[str, ...] = ()  # prefixes a plan gives a repository creation template
    defaults: Defaults = field(default_factory=Defaults)
    puller: puller.PullerCheck | None = None

    @property
    def needed(self) -> tuple[Rule, ...]:
        return tuple(n.rule for n in self.needs)

    @property
    def failed(self) -> bool:
        """`rules check` exits 1: a rule missing or wrong, or the puller may not pull."""
        return bool(self.check and self.check.failed) or bool(self.puller and self.puller.failed)


def assess(
    findings: Iterable[Finding],
    effective: Config,
    own: Config,
    account: AccountView | None = None,
    *,
    validate: bool = False,
    principal: str | None = None,
) -> Assessment:
    """`effective` classified the findings (the account's rules under --aws) and names the
    registry; `own` is the config as written (its rules are checked against the account's, its
    `templates:` shape the proposals). Without an account every needed rule is to be created."""
    registry = effective.registry or ""
    needs = tuple(needed(findings, effective, own))
    defaults = own.templates or Defaults()
    if account is None:
        create = tuple(n.rule for n in needs)
        templates = tuple(r.prefix for r in create) if defaults.create else ()
        notes = limits(registry, create, 0)
        return Assessment(registry, needs, create, notes, templates=templates, defaults=defaults)
    result = check(needs, account.rules, own, registry)
    if validate:
        existing = [s.prefix for s in result.rules if s.need and s.status == OK]
        result = check(needs, account.rules, own, registry, account.validate(existing))
    unfixable = tuple(
        f"{s.prefix}/ -> {s.upstream}: {s.status}: {s.message}"
        for s in result.rules
        if s.status not in (OK, MISSING)
    )
    found = Assessment(registry, needs, result.missing, result.notes, result, unfixable)
    found = _with_templates(replace(found, defaults=defaults), account)
    if principal:
        found = replace(found, puller=_puller(found, account, principal))
    return found


def _with_templates(found: Assessment, account: AccountView) -> Assessment:
    """Which template covers each needed prefix, and those a plan proposes. Unreadable
    templates (access denied) leave a note and the proposals of a plan made without --aws."""
    prefixes = [rule.prefix for rule in found.needed]
    notes = list(found.notes)
    try:
        templates: tuple[Template, ...] | None = account.templates()
    except AwsDenied as exc:
        templates = None
        notes.append(f"repository creation templates not checked: {exc}")
    scanning = None
    if templates is not None and prefixes:
        try:
            scanning = account.scanning()
        except AwsDenied as exc:
            notes.append(f"scanning not checked: {exc}")
    if templates is None:  # unknown: propose one beside each rule to create, as without --aws
        proposed = tuple(r.prefix for r in found.create)
        cover: tuple[Coverage, ...] = ()
    else:
        cover = coverage(prefixes, templates, scanning)
        proposed = tuple(c.prefix for c in cover if not c.covered)
    return replace(
        found,
        notes=tuple(notes),
        coverage=cover,
        templates=proposed if found.defaults.create else (),
    )


def _puller(found: Assessment, account: AccountView, principal: str) -> puller.PullerCheck:
    host = registries.ecr_host(found.registry)
    assert host is not None  # the CLI refuses a registry that is not an ECR host
    who = puller.Principal.parse(principal)
    prefixes = [rule.prefix for rule in found.needed]
    asked = puller.wanted(host.region, host.account, prefixes, _tagging(found))
    return puller.PullerCheck(who, account.simulate(who.arn, asked))


def _tagging(found: Assessment) -> list[str]:
    """Prefixes whose repositories will be created by a template that sets resource tags: the
    first pull needs ecr:TagResource there (pull-through-cache-iam.html)."""
    existing = {c.prefix: c.template for c in found.coverage}
    tagging = []
    for rule in found.needed:
        template = existing.get(rule.prefix)
        planned = rule.prefix in found.templates and bool(found.defaults.tags)
        if planned or (template is not None and template.tags):
            tagging.append(rule.prefix)
    return tagging


def of(
    report: Report,
    options: Options,
    account: AccountView | None,
    *,
    validate: bool = False,
    principal: str | None = None,
) -> Assessment:
    """`assess` for a command: the session's findings, config and account; AWS failures are
    the session's one-line errors."""
    from migrate.commands import session

    own = options.own or options.config
    return session.aws_call(
        lambda: assess(report.findings, options.config, own, account, validate=validate,
                       principal=principal)
    )  # fmt: skip
