"""Plain facts about an AWS account's registry: no boto3, so rules.py and plan.py can use them.

`aws.py` fills these from the API; everything else only reads them.
"""

from __future__ import annotations

from dataclasses import dataclass

from migrate.config import Rule

ROOT = "ROOT"  # the API's word for "no prefix" on either side of a rule, and for a template


@dataclass(frozen=True)
class AccountRule(Rule):
    """A rule as the account holds it: the config's Rule plus what only AWS knows."""

    custom_role_arn: str | None = None  # IAM role ECR assumes for a cross-account ECR upstream
    upstream_registry: str | None = None  # the API's upstream kind: docker-hub, k8s, ecr, ...


# The DNS suffix and ARN partition of each partition's regions (the rest: aws, amazonaws.com).
_PARTITIONS = (
    ("cn-", "amazonaws.com.cn", "aws-cn"),
    ("us-gov-", "amazonaws.com", "aws-us-gov"),
    ("us-isob-", "sc2s.sgov.gov", "aws-iso-b"),
    ("us-isof-", "csp.hci.ic.gov", "aws-iso-f"),
    ("us-iso-", "c2s.ic.gov", "aws-iso"),
    ("eu-isoe-", "cloud.adc-e.uk", "aws-iso-e"),
)


def dns_suffix(region: str) -> str:
    """For a registry host built from STS + region."""
    return next((s for start, s, _ in _PARTITIONS if region.startswith(start)), "amazonaws.com")


def partition(region: str) -> str:
    """For the ARNs of the region's resources (`arn:<partition>:ecr:...`)."""
    return next((p for start, _, p in _PARTITIONS if region.startswith(start)), "aws")


def repository_arn(region: str, account: str, prefix: str) -> str:
    """Every repository a pull-through cache rule creates under `prefix/`."""
    return f"arn:{partition(region)}:ecr:{region}:{account}:repository/{prefix}/*"
