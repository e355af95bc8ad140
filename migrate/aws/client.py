"""The account's registry read with boto3: pull-through cache rules, repository creation
templates, the scanning configuration, and IAM's verdict on the role that pulls.

boto3 and botocore are imported inside the functions: `lint` and `scan` never need AWS and must not
pay its ~140 ms of start-up. Every AWS failure leaves this module as one
`AwsError` line (aws_errors.py) that names what was being done and never carries a secret.
Nothing here writes to AWS.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from migrate import __version__, registries
from migrate.aws.account import ROOT, AccountRule, dns_suffix
from migrate.aws.errors import (
    AwsDenied,
    AwsError,
    error_code,
    one_line,
    session_secrets,
    translated,
)
from migrate.aws.templates import Scanning, Template
from migrate.config import Config, Rule

__all__ = ["Account", "AccountRule", "AwsDenied", "AwsError", "read_account", "with_account"]


@dataclass(frozen=True)
class Account:
    registry: str  # <account>.dkr.ecr.<region>.<dns suffix>
    account_id: str
    region: str
    rules: tuple[AccountRule, ...]  # every rule in the registry, ROOT-prefixed ones included
    client: Any = field(default=None, repr=False, compare=False)  # the ECR client
    secrets: tuple[str, ...] = field(default=(), repr=False, compare=False)  # never to be printed
    session: Any = field(default=None, repr=False, compare=False)  # for IAM

    def validate(self, prefixes: Iterable[str]) -> dict[str, str | None]:
        return validate(self, prefixes)

    def templates(self) -> tuple[Template, ...]:
        return list_templates(self)

    def scanning(self) -> Scanning:
        return read_scanning(self)

    def simulate(
        self, principal: str, asked: Sequence[tuple[str, tuple[str, ...]]]
    ) -> dict[tuple[str, str], str]:
        return simulate(self, principal, asked)


def read_account(registry: str | None, *, session: Any = None) -> Account:
    """The registry's rules (all pages), beside what `connect` gives."""
    account = connect(registry, session=session)
    action = f"listing the pull-through cache rules of {account.account_id} in {account.region}"
    with translated(action, account.secrets):
        rules = list_rules(account.client, account.account_id)
    return replace(account, rules=rules)


def connect(registry: str | None, *, session: Any = None) -> Account:
    """The session and an ECR client for the registry, no rules read. Without a registry: the
    account from STS, the region from the session (AWS_REGION, else AWS_DEFAULT_REGION, else the
    profile's)."""
    secrets: tuple[str, ...] = ()
    with translated("reading the AWS session"):
        session = session or _session()
        secrets = session_secrets(session)
        if registry:
            host = registries.ecr_host(registry)
            if host is None:
                raise AwsError(f"{registry!r} is not a private ECR host")
            account_id, region = host.account, host.region
        else:
            region = session.region_name
            if not region:
                raise AwsError(
                    "no AWS region: set AWS_REGION (or the profile's region), or pass --registry"
                )
    if not registry:
        with translated("asking STS which account the credentials belong to", secrets):
            sts = session.client("sts", region_name=region, config=client_config())
            account_id = sts.get_caller_identity()["Account"]
        registry = f"{account_id}.dkr.ecr.{region}.{dns_suffix(region)}"
    with translated("creating the ECR client", secrets):
        client = session.client("ecr", region_name=region, config=client_config())
    return Account(registry.lower(), account_id, region, (), client, secrets, session)


def list_rules(client: Any, registry_id: str) -> tuple[AccountRule, ...]:
    """Every page: an account may hold up to 50 rules and AWS decides the page size."""
    paginator = client.get_paginator("describe_pull_through_cache_rules")
    return tuple(
        _rule(item)
        for page in paginator.paginate(registryId=registry_id)
        for item in page.get("pullThroughCacheRules", ())
    )


def _rule(item: dict[str, Any]) -> AccountRule:
    prefix = str(item["ecrRepositoryPrefix"])
    upstream_prefix = item.get("upstreamRepositoryPrefix") or ROOT
    url = re.sub(r"^https?://", "", str(item["upstreamRegistryUrl"])).rstrip("/")
    return AccountRule(
        prefix=prefix if prefix == ROOT else prefix.rstrip("/"),  # "a/" and "a" are one prefix
        upstream=registries.host_of(url),
        upstream_prefix=None if upstream_prefix == ROOT else upstream_prefix.rstrip("/"),
        credential_arn=item.get("credentialArn") or None,
        custom_role_arn=item.get("customRoleArn") or None,
        upstream_registry=item.get("upstreamRegistry"),
    )


def validate(account: Account, prefixes: Iterable[str]) -> dict[str, str | None]:
    """prefix -> AWS's failure text, or None when AWS could reach the upstream and log in."""
    from botocore.exceptions import ClientError  # type: ignore[import-untyped]

    results: dict[str, str | None] = {}
    for prefix in prefixes:
        with translated(f"validating the rule {prefix}/", account.secrets):
            try:
                answer = account.client.validate_pull_through_cache_rule(
                    ecrRepositoryPrefix=prefix, registryId=account.account_id
                )
            except ClientError as exc:
                if error_code(exc) != "PullThroughCacheRuleNotFoundException":
                    raise
                results[prefix] = "the rule no longer exists"
                continue
        if answer.get("isValid", True):
            results[prefix] = None
        else:
            results[prefix] = one_line(answer.get("failure") or "no reason given", account.secrets)
    return results


def list_templates(account: Account) -> tuple[Template, ...]:
    """Every repository creation template (all pages); AwsDenied without
    ecr:DescribeRepositoryCreationTemplates."""
    with translated("listing the repository creation templates", account.secrets):
        paginator = account.client.get_paginator("describe_repository_creation_templates")
        return tuple(
            _template(item)
            for page in paginator.paginate()
            for item in page.get("repositoryCreationTemplates", ())
        )


def _template(item: dict[str, Any]) -> Template:
    encryption = item.get("encryptionConfiguration") or {}
    prefix = str(item["prefix"])
    return Template(
        prefix=prefix if prefix == ROOT else prefix.rstrip("/"),
        applied_for=tuple(item.get("appliedFor") or ()),
        lifecycle_policy=item.get("lifecyclePolicy") or None,
        image_tag_mutability=item.get("imageTagMutability"),
        encryption_type=encryption.get("encryptionType"),
        kms_key=encryption.get("kmsKey") or None,
        tags=tuple((t["Key"], t["Value"]) for t in item.get("resourceTags") or ()),
        repository_policy=bool(item.get("repositoryPolicy")),
        custom_role_arn=item.get("customRoleArn") or None,
    )


def read_scanning(account: Account) -> Scanning:
    with translated("reading the registry scanning configuration", account.secrets):
        answer = account.client.get_registry_scanning_configuration()
    config = answer.get("scanningConfiguration") or {}
    return Scanning(
        str(config.get("scanType") or "BASIC"),
        tuple(
            (
                str(rule["scanFrequency"]),
                tuple(str(f["filter"]) for f in rule.get("repositoryFilters") or ()),
            )
            for rule in config.get("rules") or ()
        ),
    )


def simulate(
    account: Account, principal: str, asked: Sequence[tuple[str, tuple[str, ...]]]
) -> dict[tuple[str, str], str]:
    """(resource, action) -> IAM's decision for the principal's own policies, every page."""
    decisions: dict[tuple[str, str], str] = {}
    with translated(f"simulating the policies of {principal}", account.secrets):
        iam = account.session.client("iam", region_name=account.region, config=client_config())
        paginator = iam.get_paginator("simulate_principal_policy")
        for resource, actions in asked:
            for page in paginator.paginate(
                PolicySourceArn=principal, ActionNames=list(actions), ResourceArns=[resource]
            ):
                for result in page.get("EvaluationResults", ()):
                    decisions[(resource, str(result["EvalActionName"]))] = _decision(
                        result, resource
                    )
    return decisions


def _decision(result: Mapping[str, Any], resource: str) -> str:
    for specific in result.get("ResourceSpecificResults") or ():
        if specific.get("EvalResourceName") == resource:
            return str(specific["EvalResourceDecision"])
    return str(result["EvalDecision"])


def authorization(account: Account) -> tuple[str, str]:
    """(user, password) for the registry API, from GetAuthorizationToken: a 12-hour token that
    must never be printed (it is added to the account's secrets for redaction)."""
    import base64

    with translated("getting a registry token (ecr:GetAuthorizationToken)", account.secrets):
        answer = account.client.get_authorization_token()
    data = (answer.get("authorizationData") or [{}])[0]
    try:
        user, password = base64.b64decode(data["authorizationToken"]).decode().split(":", 1)
    except (KeyError, ValueError):
        raise AwsError("GetAuthorizationToken answered without a usable token") from None
    return user, password


def image_cached(account: Account, repository: str, tag: str) -> bool:
    """Is `repository:tag` in the registry already (ecr:DescribeImages)? AwsDenied without the
    permission."""
    from botocore.exceptions import ClientError

    with translated(f"looking {repository}:{tag} up", account.secrets):
        try:
            account.client.describe_images(
                registryId=account.account_id,
                repositoryName=repository,
                imageIds=[{"imageTag": tag}],
            )
        except ClientError as exc:
            if error_code(exc) in ("RepositoryNotFoundException", "ImageNotFoundException"):
                return False
            raise
    return True


def with_account(config: Config, account: Account) -> Config:
    """The account is the truth: its registry and its rules replace the config's.

    ROOT-prefixed rules are left out: they cache at the top level of the registry, which a
    `<prefix>/<path>` rewrite cannot express. Where two rules serve one upstream, the one that has
    the credentials it needs and carries the console's prefix comes first, because classify takes
    the first match."""
    usable = sorted((r for r in account.rules if r.prefix != ROOT), key=_preference)
    return replace(config, registry=account.registry, rules=tuple(usable))


def _preference(rule: Rule) -> tuple[bool, bool, str]:
    upstream = registries.upstream_for_url(rule.upstream)
    lacks = bool(upstream and upstream.needs_credentials and not rule.credential_arn)
    return lacks, bool(upstream and rule.prefix != upstream.default_prefix), rule.prefix


def _session() -> Any:
    import boto3  # type: ignore[import-untyped]

    # The AWS CLI reads AWS_REGION before AWS_DEFAULT_REGION, and GitHub's
    # configure-aws-credentials sets only AWS_REGION; botocore reads only the second.
    return boto3.session.Session(region_name=os.environ.get("AWS_REGION") or None)


def client_config() -> Any:
    from botocore.config import Config as BotoConfig  # type: ignore[import-untyped]

    # Retries (AWS_MAX_ATTEMPTS, AWS_RETRY_MODE) stay the credential chain's to decide.
    return BotoConfig(
        connect_timeout=10, read_timeout=30, user_agent_extra=f"ecr-ptc/{__version__}"
    )
