"""The account's pull-through cache rules, read with boto3.

boto3 and botocore are imported inside the functions: `lint` and `scan` never need AWS and must not
pay its ~140 ms of start-up (STYLE.md, idea 10). Every AWS failure leaves this module as one
`AwsError` line that names what was being done and never carries a credential or a signature.
"""

from __future__ import annotations

import os
import re
import urllib.parse
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import Any

from migrate import __version__, registries
from migrate.config import Config, Rule

ROOT = "ROOT"  # the API's word for "no prefix" on either side of a rule


class AwsError(Exception):
    """One printable line: what failed and what to do about it."""


@dataclass(frozen=True)
class AccountRule(Rule):
    """A rule as the account holds it: the config's Rule plus what only AWS knows."""

    custom_role_arn: str | None = None  # IAM role ECR assumes for a cross-account ECR upstream
    upstream_registry: str | None = None  # the API's upstream kind: docker-hub, k8s, ecr, ...


@dataclass(frozen=True)
class Account:
    registry: str  # <account>.dkr.ecr.<region>.<dns suffix>
    account_id: str
    region: str
    rules: tuple[AccountRule, ...]  # every rule in the registry, ROOT-prefixed ones included
    client: Any = field(default=None, repr=False, compare=False)  # the ECR client, for validate
    secrets: tuple[str, ...] = field(default=(), repr=False, compare=False)  # never to be printed


# The DNS suffix of each partition, for a registry host built from STS + region.
_DNS_SUFFIXES = (
    ("cn-", "amazonaws.com.cn"),
    ("us-isob-", "sc2s.sgov.gov"),
    ("us-isof-", "csp.hci.ic.gov"),
    ("us-iso-", "c2s.ic.gov"),
    ("eu-isoe-", "cloud.adc-e.uk"),
)


def dns_suffix(region: str) -> str:
    return next(
        (suffix for start, suffix in _DNS_SUFFIXES if region.startswith(start)), "amazonaws.com"
    )


def read_account(registry: str | None, *, session: Any = None) -> Account:
    """The registry's rules (all pages). Without a registry: account from STS, region from the
    session (AWS_REGION, the profile)."""
    secrets: tuple[str, ...] = ()
    with _translated("reading the AWS session"):
        session = session or _session()
        secrets = _secrets(session)
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
        with _translated("asking STS which account the credentials belong to", secrets):
            sts = session.client("sts", region_name=region, config=_client_config())
            account_id = sts.get_caller_identity()["Account"]
        registry = f"{account_id}.dkr.ecr.{region}.{dns_suffix(region)}"
    with _translated(f"listing the pull-through cache rules of {account_id} in {region}", secrets):
        client = session.client("ecr", region_name=region, config=_client_config())
        rules = list_rules(client, account_id)
    return Account(registry.lower(), account_id, region, rules, client, secrets)


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
        with _translated(f"validating the rule {prefix}/", account.secrets):
            try:
                answer = account.client.validate_pull_through_cache_rule(
                    ecrRepositoryPrefix=prefix, registryId=account.account_id
                )
            except ClientError as exc:
                if _code(exc) != "PullThroughCacheRuleNotFoundException":
                    raise
                results[prefix] = "the rule no longer exists"
                continue
        if answer.get("isValid", True):
            results[prefix] = None
        else:
            results[prefix] = _one_line(answer.get("failure") or "no reason given", account.secrets)
    return results


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

    return boto3.session.Session()


def _client_config() -> Any:
    from botocore.config import Config as BotoConfig  # type: ignore[import-untyped]

    # Retries (AWS_MAX_ATTEMPTS, AWS_RETRY_MODE) stay the credential chain's to decide.
    return BotoConfig(
        connect_timeout=10, read_timeout=30, user_agent_extra=f"ecr-ptc/{__version__}"
    )


# --- errors -------------------------------------------------------------------------------------
_EXPIRED = {"ExpiredTokenException", "ExpiredToken", "RequestExpired", "TokenRefreshRequired"}
_REJECTED = {
    "UnrecognizedClientException",
    "InvalidClientTokenId",
    "SignatureDoesNotMatch",
    "InvalidSignatureException",
    "MissingAuthenticationTokenException",
    "IncompleteSignature",
    "AuthFailure",
}
_DENIED = {"AccessDeniedException", "AccessDenied", "UnauthorizedOperation"}
_THROTTLED = {
    "ThrottlingException",
    "Throttling",
    "TooManyRequestsException",
    "ThrottledException",
    "RequestLimitExceeded",
    "RequestThrottled",
    "RequestThrottledException",
    "SlowDown",
}
_SECRET_VARIABLES = ("AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN")
# Anything that could identify or prove a credential, should AWS ever echo one back.
_SECRETS = re.compile(
    r"\b(?:AKIA|ASIA|AIDA|AROA)[A-Z0-9]{12,}\b|(?:Credential|Signature|X-Amz-Security-Token)=\S+"
)


@contextmanager
def _translated(action: str, secrets: tuple[str, ...] = ()) -> Iterator[None]:
    from botocore import exceptions as bx  # type: ignore[import-untyped]

    try:
        yield
    except bx.ClientError as exc:
        raise AwsError(_client_error(exc, action, secrets)) from None
    except bx.NoCredentialsError:
        raise AwsError(
            "no AWS credentials found: set AWS_PROFILE, or AWS_ACCESS_KEY_ID and "
            "AWS_SECRET_ACCESS_KEY, or run `aws sso login`"
        ) from None
    except (bx.SSOTokenLoadError, bx.UnauthorizedSSOTokenError, bx.TokenRetrievalError):
        raise AwsError(
            "the AWS SSO session is missing or has expired: run `aws sso login`"
        ) from None
    except bx.NoRegionError:
        raise AwsError(
            "no AWS region: set AWS_REGION (or the profile's region), or pass --registry"
        ) from None
    except (
        bx.EndpointConnectionError,
        bx.ConnectTimeoutError,
        bx.ReadTimeoutError,
        bx.ConnectionClosedError,
    ) as exc:
        raise AwsError(f"cannot reach AWS while {action}: {_one_line(str(exc), secrets)}") from None
    except bx.BotoCoreError as exc:  # profile not found, partial credentials, pagination loops...
        raise AwsError(f"AWS error while {action}: {_one_line(str(exc), secrets)}") from None
    except ValueError as exc:  # botocore's word for a malformed AWS_ENDPOINT_URL_* and the like
        raise AwsError(
            f"AWS configuration error while {action}: {_one_line(str(exc), secrets)}"
        ) from None


def _code(exc: Any) -> str:
    return str(exc.response.get("Error", {}).get("Code", "Unknown"))


def _client_error(exc: Any, action: str, secrets: tuple[str, ...]) -> str:
    code = _code(exc)
    message = _one_line(str(exc.response.get("Error", {}).get("Message", "")), secrets)
    detail = f": {message}" if message else ""
    if code in _EXPIRED:
        return (
            f"the AWS credentials have expired ({code}) while {action}: refresh them "
            "(`aws sso login`, or new session credentials)"
        )
    if code in _REJECTED:
        return (
            f"AWS did not accept the credentials ({code}) while {action}: check AWS_PROFILE "
            "or the access key"
        )
    if code in _DENIED:
        return f"access denied ({code}) while {action}{detail}"
    if code in _THROTTLED:
        return (
            f"AWS throttled the requests ({code}) while {action}, after retrying: try again "
            "later or raise AWS_MAX_ATTEMPTS"
        )
    return f"AWS refused ({code}) while {action}{detail}"


def _secrets(session: Any) -> tuple[str, ...]:
    """The secret key and session token the chain resolved (profile, SSO, role...): an AWS error
    or a proxy in front of it may echo them, and CI logs are not the place for them."""
    credentials = session.get_credentials()
    if credentials is None:
        return ()
    frozen = credentials.get_frozen_credentials()
    return tuple(s for s in (frozen.secret_key, frozen.token) if s)


def _one_line(text: str, secrets: Iterable[str] = (), limit: int = 300) -> str:
    text = " ".join(text.split())
    known = {*secrets, *(os.environ.get(name, "") for name in _SECRET_VARIABLES)}
    for secret in sorted((s for s in known if len(s) >= 8), key=len, reverse=True):
        for form in {secret, urllib.parse.quote(secret, safe=""), urllib.parse.quote_plus(secret)}:
            text = text.replace(form, "<redacted>")
    text = _SECRETS.sub("<redacted>", text)
    return text if len(text) <= limit else text[: limit - 1] + "…"
