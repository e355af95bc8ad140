"""assess(): the rules workflow of `rules check`, `rules plan` and `pr` as one pure function,
the account given as plain data (tests/stub_account.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from migrate.aws.account import AccountRule
from migrate.aws.assess import assess
from migrate.aws.errors import AwsDenied, AwsError
from migrate.aws.puller import policy
from migrate.aws.templates import Scanning, Template
from migrate.config import Config, Defaults
from migrate.findings import Finding
from migrate.output import rules as rules_report
from migrate.rewrite import engine
from tests.helpers import REGISTRY
from tests.stub_account import StubAccount

HUB = "registry-1.docker.io"
SECRET = "arn:aws:secretsmanager:us-east-1:123456789012:secret:ecr-pullthroughcache/docker-hub-Ab"
ROLE = "arn:aws:iam::123456789012:role/eks/node-role"
REPOS = "arn:aws:ecr:us-east-1:123456789012:repository"
DOCKERFILE = "FROM nginx:1.27\nFROM quay.io/a/b:1\nFROM registry.k8s.io/pause:3.10\n"
CONFIG = Config(registry=REGISTRY)
HUB_RULE = AccountRule("docker-hub", HUB, credential_arn=SECRET)


def _findings(tmp_path: Path, text: str = DOCKERFILE) -> list[Finding]:
    (tmp_path / "Dockerfile").write_text(text)
    return [f for r in engine.run(["Dockerfile"], CONFIG, tmp_path) for f in r.findings]


def test_without_an_account_everything_needed_is_created(tmp_path: Path) -> None:
    found = assess(_findings(tmp_path), CONFIG, Config())
    assert [r.prefix for r in found.create] == ["docker-hub", "kubernetes", "quay"]
    assert found.templates == ("docker-hub", "kubernetes", "quay")
    assert (found.check, found.coverage, found.puller, found.failed) == (None, (), None, False)


def test_templates_cover_by_prefix_then_root(tmp_path: Path) -> None:
    account = StubAccount(
        (HUB_RULE,),
        (
            Template("ROOT", lifecycle_policy="{}"),
            Template("docker-hub", encryption_type="KMS", tags=(("team", "x"),)),
            Template("docker-hub/library", image_tag_mutability="IMMUTABLE"),
            Template("quay", applied_for=("REPLICATION",)),  # not for the cache
        ),
        Scanning("BASIC", (("SCAN_ON_PUSH", ("docker-hub/*",)), ("MANUAL", ("quay/a/*",)))),
    )

    found = assess(_findings(tmp_path), CONFIG, Config(), account)

    assert [(c.prefix, c.template.prefix if c.template else None) for c in found.coverage] == [
        ("docker-hub", "docker-hub"),
        ("kubernetes", "ROOT"),
        ("quay", "ROOT"),
    ]
    hub, k8s, quay = (c.message() for c in found.coverage)
    assert hub == (
        "template docker-hub/: no lifecycle policy, tags MUTABLE, encryption KMS, 1 resource tag; "
        "narrower templates: docker-hub/library/; scanning: SCAN_ON_PUSH (BASIC)"
    )
    assert k8s == (
        "template ROOT: lifecycle policy, tags MUTABLE, encryption AES256; "
        "scanning: no scanning rule matches"
    )
    assert quay.endswith("scanning: MANUAL for some repositories (BASIC)")
    assert found.templates == ()  # every prefix is covered: nothing to propose
    assert [r.prefix for r in found.create] == ["kubernetes", "quay"]


def test_uncovered_prefixes_get_a_template_even_with_their_rule(tmp_path: Path) -> None:
    found = assess(_findings(tmp_path), CONFIG, Config(), StubAccount((HUB_RULE,)))
    assert not any(c.covered for c in found.coverage)
    assert found.templates == ("docker-hub", "kubernetes", "quay")
    lines = rules_report.render(found, (), 1, "text").splitlines()
    assert (
        "template: quay/: no repository creation template: repositories the cache creates get "
        "ECR's defaults (no lifecycle policy, MUTABLE tags, AES256); scanning: no scanning rule "
        "matches"
    ) in lines
    # a missing template is advice: `rules check` fails on the rules and the puller alone
    only_hub = assess(
        _findings(tmp_path, "FROM nginx:1\n"), CONFIG, Config(), StubAccount((HUB_RULE,))
    )
    assert not only_hub.failed and not only_hub.coverage[0].covered


def test_templates_off_in_the_config(tmp_path: Path) -> None:
    own = Config(templates=Defaults(create=False))
    assert assess(_findings(tmp_path), CONFIG, own, StubAccount()).templates == ()
    assert assess(_findings(tmp_path), CONFIG, own).templates == ()


def test_templates_access_denied_is_a_note(tmp_path: Path) -> None:
    denied = AwsDenied("access denied (AccessDeniedException) while listing the templates")
    account = StubAccount((HUB_RULE,), failures={"templates": denied})

    found = assess(_findings(tmp_path), CONFIG, Config(), account)

    assert found.coverage == ()
    assert found.templates == ("kubernetes", "quay")  # unknown: beside each rule to create
    assert f"repository creation templates not checked: {denied}" in found.notes


def test_other_aws_errors_stop(tmp_path: Path) -> None:
    account = StubAccount(failures={"templates": AwsError("AWS throttled the requests")})
    with pytest.raises(AwsError):
        assess(_findings(tmp_path), CONFIG, Config(), account)


def test_puller_missing_batch_import(tmp_path: Path) -> None:
    account = StubAccount(
        (HUB_RULE,),
        (Template("quay", tags=(("team", "x"),)),),
        lacking=frozenset({"ecr:BatchImportUpstreamImage"}),
    )

    found = assess(_findings(tmp_path), CONFIG, Config(), account, principal=ROLE)

    assert found.puller is not None and found.failed
    [(principal, asked)] = account.asked
    assert principal == ROLE
    assert asked[0] == ("*", ("ecr:GetAuthorizationToken",))
    # ecr:TagResource only where a template tags the repositories it creates
    assert dict(asked[1:]) == {
        f"{REPOS}/docker-hub/*": (
            "ecr:BatchGetImage",
            "ecr:GetDownloadUrlForLayer",
            "ecr:BatchImportUpstreamImage",
            "ecr:CreateRepository",
        ),
        f"{REPOS}/kubernetes/*": (
            "ecr:BatchGetImage",
            "ecr:GetDownloadUrlForLayer",
            "ecr:BatchImportUpstreamImage",
            "ecr:CreateRepository",
        ),
        f"{REPOS}/quay/*": (
            "ecr:BatchGetImage",
            "ecr:GetDownloadUrlForLayer",
            "ecr:BatchImportUpstreamImage",
            "ecr:CreateRepository",
            "ecr:TagResource",
        ),
    }
    assert policy(found.puller) == {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "EcrPtcPullThroughCache1",
                "Effect": "Allow",
                "Action": "ecr:BatchImportUpstreamImage",
                "Resource": [
                    f"{REPOS}/docker-hub/*",
                    f"{REPOS}/kubernetes/*",
                    f"{REPOS}/quay/*",
                ],
            }
        ],
    }
    text = rules_report.render(found, (), 1, "text").splitlines()
    assert f"puller: {ROLE} lacks ecr:BatchImportUpstreamImage on {REPOS}/docker-hub/*" in text
    assert text[-1].endswith("; the puller lacks 3 permissions")
    body = json.loads(rules_report.render(found, (), 1, "json"))
    assert body["puller"]["policy"] == policy(found.puller)
    assert body["puller"]["missing"][0] == {
        "resource": f"{REPOS}/docker-hub/*",
        "actions": ["ecr:BatchImportUpstreamImage"],
    }


def test_puller_that_may_pull(tmp_path: Path) -> None:
    found = assess(_findings(tmp_path), CONFIG, Config(), StubAccount(), principal=ROLE)
    assert found.puller is not None and not found.puller.failed
    assert policy(found.puller) is None
    assert f"puller: {ROLE} may pull through the cache" in rules_report.render(found, (), 1, "text")


def test_puller_explicit_deny_is_said(tmp_path: Path) -> None:
    account = StubAccount(denying=frozenset({"ecr:GetAuthorizationToken"}))
    found = assess(_findings(tmp_path), CONFIG, Config(), account, principal=ROLE)
    assert found.puller is not None
    assert found.puller.lines()[-1] == (
        "explicitly denied, which no Allow can fix: ecr:GetAuthorizationToken"
    )
    assert policy(found.puller) == {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "EcrPtcToken",
                "Effect": "Allow",
                "Action": "ecr:GetAuthorizationToken",
                "Resource": "*",
            }
        ],
    }


def test_planned_template_with_tags_needs_tag_resource(tmp_path: Path) -> None:
    own = Config(templates=Defaults(tags=(("cost-center", "42"),)))
    account = StubAccount((HUB_RULE,))
    assess(_findings(tmp_path, "FROM nginx:1\n"), CONFIG, own, account, principal=ROLE)
    [(_, asked)] = account.asked
    assert "ecr:TagResource" in dict(asked)[f"{REPOS}/docker-hub/*"]


def test_validate_is_asked_only_for_existing_rules(tmp_path: Path) -> None:
    account = StubAccount((HUB_RULE,), validations={"docker-hub": "Unable to authenticate"})
    found = assess(_findings(tmp_path), CONFIG, Config(), account, validate=True)
    assert found.check is not None
    assert [(s.prefix, s.status) for s in found.check.rules] == [
        ("docker-hub", "invalid"),
        ("kubernetes", "missing"),
        ("quay", "missing"),
    ]
    assert found.unfixable[-1].startswith("docker-hub/ -> registry-1.docker.io: invalid: ")
