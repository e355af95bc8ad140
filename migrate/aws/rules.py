"""Which pull-through cache rules the references need, and how the account's rules measure up.

Pure: findings and rules in, statuses and PTC005 findings out. Reading the account is `aws.py`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import NamedTuple

from migrate import registries
from migrate.aws.account import AccountRule, dns_suffix
from migrate.classify import classify
from migrate.config import Config, Rule, default_rules
from migrate.findings import Finding, Status

# https://docs.aws.amazon.com/AmazonECR/latest/userguide/service-quotas.html
QUOTA = 50
STATUSES = ("ok", "missing", "no-credentials", "mismatch", "invalid")  # `rules check` JSON
OK, MISSING, NO_CREDENTIALS, MISMATCH, INVALID = STATUSES
# ECR only reads upstream credentials from secrets whose name starts with this.
SECRET_PREFIX = "ecr-pullthroughcache/"


@dataclass(frozen=True)
class Need:
    rule: Rule  # prefix, upstream and upstream prefix; never credentials
    references: tuple[Finding, ...]  # every reference that needs it
    cached: tuple[Finding, ...] = ()  # those of them that already point at the cache


class RuleStatus(NamedTuple):
    prefix: str
    upstream: str
    status: str  # one of STATUSES
    message: str
    need: Need | None = None  # None: a config rule that disagrees with the account


@dataclass(frozen=True)
class Check:
    rules: tuple[RuleStatus, ...]
    findings: tuple[Finding, ...]  # PTC005
    notes: tuple[str, ...]  # limits of the service that bite here

    @property
    def failed(self) -> bool:
        return bool(self.findings) or any(s.status != OK for s in self.rules)

    @property
    def missing(self) -> tuple[Rule, ...]:
        return tuple(s.need.rule for s in self.rules if s.status == MISSING and s.need)


def needed(findings: Iterable[Finding], effective: Config, own: Config) -> list[Need]:
    """One Need per rule. `effective` classified the findings (the account's rules under --aws);
    `own` is the config's, for the prefix of an upstream the account does not serve yet and for
    references already on the cache whose prefix the account lacks."""
    own = replace(own, registry=effective.registry)
    grouped: dict[tuple[str, str, str | None], tuple[list[Finding], list[Finding]]] = {}
    seen: set[tuple[str, int, int, str | None]] = set()
    for finding in findings:
        if finding.code == "PTC006":  # the second finding of a digest-only reference: the first
            continue  # decides (and is SUPPRESSED when the reference will not be rewritten)
        where = (finding.path, finding.line, finding.column, finding.original)
        found = None if where in seen else _need_of(finding, effective, own)
        if found is None:
            continue
        seen.add(where)  # a scanner may report one spot twice (an ARG default used twice)
        rule, cached = found
        refs, on_cache = grouped.setdefault(
            (rule.prefix, rule.upstream, rule.upstream_prefix), ([], [])
        )
        refs.append(finding)
        if cached:
            on_cache.append(finding)
    return [
        Need(Rule(*key), tuple(refs), tuple(on_cache))
        for key, (refs, on_cache) in sorted(grouped.items(), key=lambda kv: kv[0][0])
    ]


def _need_of(f: Finding, effective: Config, own: Config) -> tuple[Rule, bool] | None:
    if f.status is Status.PUBLIC and f.upstream:
        if f.prefix:
            return _named(effective.rules, f.prefix, f.upstream), False
        fallback = _fallback(f, own)
        return (fallback, False) if fallback else None
    if f.status is Status.CACHED and f.prefix and f.upstream:
        return _named(effective.rules, f.prefix, f.upstream), True
    on_registry = (f.reference or "").lower().startswith(f"{own.registry}/")
    if f.status is Status.PRIVATE and f.original and own.registry and on_registry:
        # Under --aws a prefix the account lacks makes a cached reference look private; the
        # config (or the defaults) still say which cache prefix it is.
        verdict = classify(f.original, own)
        if verdict.status is Status.CACHED and verdict.prefix and verdict.upstream:
            return _named(own.rules, verdict.prefix, verdict.upstream), True
    return None


def _fallback(f: Finding, own: Config) -> Rule | None:
    """The rule to create for an upstream the effective rules do not serve."""
    verdict = classify(f.original, own) if f.original else None
    if verdict and verdict.prefix and verdict.upstream and verdict.upstream == f.upstream:
        return _named(own.rules, verdict.prefix, verdict.upstream)
    upstream = registries.upstream_for_url(f.upstream or "")
    if upstream and upstream.default_prefix:
        return Rule(upstream.default_prefix, upstream.url)
    return None


def _named(rules: Iterable[Rule], prefix: str, upstream: str) -> Rule:
    for rule in rules:
        if rule.prefix == prefix:
            return Rule(rule.prefix, rule.upstream, rule.upstream_prefix)
    return Rule(prefix, upstream)


def source(rule: Rule) -> str:
    return f"{rule.upstream}/{rule.upstream_prefix}" if rule.upstream_prefix else rule.upstream


def _same_source(a: Rule, b: Rule) -> bool:
    return (a.upstream, a.upstream_prefix) == (b.upstream, b.upstream_prefix)


def credential_need(rule: Rule, registry: str) -> str | None:
    """'secret': the upstream needs a Secrets Manager secret; 'role': a cross-account ECR
    upstream needs an IAM role for ECR to assume; None: neither."""
    upstream = registries.upstream_for_url(rule.upstream)
    if upstream is None:
        return None
    if upstream.needs_credentials:
        return "secret"
    there, here = registries.ecr_host(rule.upstream), registries.ecr_host(registry)
    if there and here and there.account != here.account:
        return "role"
    return None


def check(
    needs: Sequence[Need],
    existing: Sequence[Rule],
    own: Config,
    registry: str,
    validations: Mapping[str, str | None] | None = None,
) -> Check:
    by_prefix = {rule.prefix: rule for rule in existing}
    statuses = [_status(n, by_prefix, existing, registry, validations or {}) for n in needs]
    statuses += _disagreements(own, existing, by_prefix, {s.prefix for s in statuses})
    host = registries.ecr_host(registry)
    region = host.region if host else ""
    ruleless = region.startswith(registries.RULELESS_REGION_PREFIXES)
    if ruleless:
        statuses = [
            s._replace(message=f"{s.message}; rules cannot be created in {region}")
            if s.status == MISSING
            else s
            for s in statuses
        ]
    findings = tuple(
        _ptc005(f, s) for s in statuses if s.status == MISSING and s.need for f in s.need.cached
    )
    result = Check(tuple(statuses), findings, ())
    return replace(result, notes=limits(registry, result.missing, len(existing)))


def _status(
    need: Need,
    by_prefix: Mapping[str, Rule],
    existing: Sequence[Rule],
    registry: str,
    validations: Mapping[str, str | None],
) -> RuleStatus:
    rule = need.rule
    first = need.references[0]
    refs = count(len(need.references), "reference")
    needs, use = ("needs", "uses") if len(need.references) == 1 else ("need", "use")
    at = f" (first at {first.path}:{first.line}:{first.column})"

    def status(value: str, message: str) -> RuleStatus:
        return RuleStatus(rule.prefix, rule.upstream, value, message, need)

    have = by_prefix.get(rule.prefix)
    if have is None:
        elsewhere = [r.prefix for r in existing if _same_source(r, rule)]
        if elsewhere and not need.cached:
            return status(
                MISMATCH,
                (
                    f"the account serves {source(rule)} under {elsewhere[0]}/, not {rule.prefix}/: "
                    f"set `rules: {{{elsewhere[0]}: {rule.upstream}}}` in .ecr-ptc.yaml or use --aws"
                ),
            )
        message = f"no rule in the account; {refs} {needs} it{at}"
        if need.cached:
            message += f", {len(need.cached)} already pointing at {rule.prefix}/"
            if elsewhere:
                message += f" (the account serves {source(rule)} under {elsewhere[0]}/)"
        return status(MISSING, message)
    if not _same_source(have, rule):
        return status(
            MISMATCH,
            f"the account binds {rule.prefix}/ to {source(have)}, "
            f"but {refs} {needs} {source(rule)}{at}",
        )
    kind = credential_need(have, registry)
    if kind == "secret" and not have.credential_arn:
        title = _title(have)
        return status(
            NO_CREDENTIALS,
            (
                f"the rule has no credentialArn, and {title} needs credentials: a Secrets Manager "
                f"secret named {SECRET_PREFIX}<name>"
            ),
        )
    if kind == "role" and not (isinstance(have, AccountRule) and have.custom_role_arn):
        return status(
            NO_CREDENTIALS,
            (
                "the rule has no customRoleArn: a cross-account ECR upstream needs an IAM role "
                "that ECR assumes to pull from it"
            ),
        )
    failure = validations.get(rule.prefix)
    if failure:
        return status(INVALID, f"AWS could not validate the rule: {failure}")
    return status(OK, f"exists; {refs} {use} it")


def _disagreements(
    own: Config, existing: Sequence[Rule], by_prefix: Mapping[str, Rule], reported: set[str]
) -> list[RuleStatus]:
    """The config's own rules that the account contradicts. Only a config that names its rules:
    the built-in defaults are a proposal, not a statement about the account."""
    if own.rules == default_rules():
        return []
    found = []
    for rule in own.rules:
        if rule.prefix in reported:
            continue
        have = by_prefix.get(rule.prefix)
        if have is not None and not _same_source(have, rule):
            message = (
                f"the config maps {rule.prefix}/ to {source(rule)}, but the account "
                f"binds it to {source(have)}"
            )
        elif have is None and (elsewhere := [r.prefix for r in existing if _same_source(r, rule)]):
            message = (
                f"the config maps {source(rule)} to {rule.prefix}/, but the account "
                f"serves it under {elsewhere[0]}/: make .ecr-ptc.yaml say {elsewhere[0]}"
            )
        else:
            continue
        found.append(RuleStatus(rule.prefix, rule.upstream, MISMATCH, message))
    return found


def limits(registry: str, missing: Sequence[Rule], existing: int) -> tuple[str, ...]:
    """What the service will refuse, said before anyone tries."""
    notes = []
    host = registries.ecr_host(registry)
    if missing and host and host.region.startswith(registries.RULELESS_REGION_PREFIXES):
        notes.append(
            f"pull-through cache rules cannot be created in {host.region} (China, "
            "GovCloud and ISO regions offer none): these references cannot use the "
            "cache there"
        )
    if existing + len(missing) > QUOTA:
        room = max(0, QUOTA - existing)
        notes.append(
            f"{count(len(missing), 'missing rule')} but a registry holds at most {QUOTA} "
            f"and this one has {existing}: only {room} more can be created"
        )
    for rule in missing:
        there = registries.ecr_host(rule.upstream)
        if host and there and dns_suffix(there.region) != dns_suffix(host.region):
            notes.append(
                f"{rule.prefix}/ cannot be created: {rule.upstream} is in another AWS "
                "partition, and ECR to ECR caching stays within one"
            )
    return tuple(notes)


def _ptc005(f: Finding, status: RuleStatus) -> Finding:
    return replace(
        f,
        code="PTC005",
        status=Status.CACHED,
        prefix=status.prefix,
        upstream=status.upstream,
        target=None,
        message=(
            f"{f.original} points at the cache, but the account has no rule for "
            f"{status.prefix}/ (it needs {status.prefix}/ -> {status.upstream})"
        ),
    )


def _title(rule: Rule) -> str:
    upstream = registries.upstream_for_url(rule.upstream)
    return upstream.title if upstream else rule.upstream


def count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"
