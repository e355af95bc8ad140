"""May the role that pulls (EKS node role, ECS task execution role, CI role) pull through the
cache? What IAM's policy simulator said, what is missing, and the smallest statement that
grants it. Pure: aws.py runs `iam:SimulatePrincipalPolicy`.

A first pull through a rule needs two actions an ordinary ECR pull does not
(https://docs.aws.amazon.com/AmazonECR/latest/userguide/pull-through-cache-iam.html):
`ecr:BatchImportUpstreamImage` and `ecr:CreateRepository`; `ecr:TagResource` too when the
repository creation template sets resource tags.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from migrate.aws.account import repository_arn

TOKEN = "ecr:GetAuthorizationToken"  # no resource-level permissions: Resource "*"
PULL = ("ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer")
FIRST_PULL = ("ecr:BatchImportUpstreamImage", "ecr:CreateRepository")
TAG = "ecr:TagResource"
ALLOWED = "allowed"
EXPLICIT_DENY = "explicitDeny"
POLICY_NAME = "ecr-ptc-pull-through-cache"

_PRINCIPAL = re.compile(
    r"^arn:(?P<partition>aws[a-z-]*):iam::(?P<account>\d{12}):(?P<kind>role|user)/(?:[^/]+/)*(?P<name>[^/]+)$"
)


class PrincipalError(ValueError):
    pass


@dataclass(frozen=True)
class Principal:
    arn: str
    kind: str  # role or user
    name: str

    @classmethod
    def parse(cls, arn: str) -> Principal:
        match = _PRINCIPAL.match(arn)
        if match is None:
            raise PrincipalError(
                f"--puller {arn!r} is not an IAM role or user ARN "
                "(arn:aws:iam::<account>:role/<name>; for an assumed role, name its role)"
            )
        return cls(arn, match["kind"], match["name"])


def wanted(
    region: str, account: str, prefixes: Sequence[str], tagging: Sequence[str] = ()
) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """(resource, actions) to simulate: the token on "*", the rest on each prefix's repositories
    (`tagging`: prefixes whose template sets resource tags)."""
    asked: list[tuple[str, tuple[str, ...]]] = [("*", (TOKEN,))]
    for prefix in prefixes:
        actions = PULL + FIRST_PULL + ((TAG,) if prefix in tagging else ())
        asked.append((repository_arn(region, account, prefix), actions))
    return tuple(asked)


@dataclass(frozen=True)
class PullerCheck:
    principal: Principal
    # (resource, action) -> IAM's decision: allowed, implicitDeny or explicitDeny
    decisions: Mapping[tuple[str, str], str]

    @property
    def missing(self) -> tuple[tuple[str, tuple[str, ...]], ...]:
        """(resource, actions not allowed), in the order asked."""
        by_resource: dict[str, list[str]] = {}
        for (resource, action), decision in self.decisions.items():
            if decision != ALLOWED:
                by_resource.setdefault(resource, []).append(action)
        return tuple((r, tuple(actions)) for r, actions in by_resource.items())

    @property
    def denied(self) -> tuple[str, ...]:
        """Actions a policy denies outright: no Allow statement can fix these."""
        return tuple(sorted({a for (_, a), d in self.decisions.items() if d == EXPLICIT_DENY}))

    @property
    def failed(self) -> bool:
        return bool(self.missing)

    def lines(self) -> tuple[str, ...]:
        if not self.missing:
            return (f"{self.principal.arn} may pull through the cache",)
        lines = [
            f"{self.principal.arn} lacks {', '.join(actions)} on {resource}"
            for resource, actions in self.missing
        ]
        if self.denied:
            lines.append(f"explicitly denied, which no Allow can fix: {', '.join(self.denied)}")
        return tuple(lines)


def policy(check: PullerCheck) -> dict[str, object] | None:
    """The smallest identity policy granting what is missing: each missing action once, in one
    statement with the other actions missing on exactly the same resources."""
    resources_of: dict[str, list[str]] = {}
    for resource, lacking in check.missing:
        for action in lacking:
            resources_of.setdefault(action, []).append(resource)
    grouped: dict[tuple[str, ...], list[str]] = {}
    for action, resources in resources_of.items():
        grouped.setdefault(tuple(resources), []).append(action)
    if not grouped:
        return None
    statements = []
    n = 0
    for where, actions in grouped.items():
        n += where != ("*",)
        statements.append(
            {
                "Sid": "EcrPtcToken" if where == ("*",) else f"EcrPtcPullThroughCache{n}",
                "Effect": "Allow",
                "Action": sorted(actions) if len(actions) > 1 else actions[0],
                "Resource": list(where) if len(where) > 1 else where[0],
            }
        )
    return {"Version": "2012-10-17", "Statement": statements}
