"""Repository creation templates and the puller's policy in every `rules plan --emit` format,
each parsed by what would consume it: hcl2, cfn-lint, shlex + botocore's request validation."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from migrate.aws import plan
from migrate.aws.puller import Principal, PullerCheck
from migrate.config import Defaults, Rule
from tests.helpers import REGISTRY
from tests.plan_test import _cfn_errors, _terraform

ROLE = "arn:aws:iam::123456789012:role/eks/node-role"
REPOS = "arn:aws:ecr:us-east-1:123456789012:repository"
RULES = (Rule("docker-hub", "registry-1.docker.io"), Rule("quay", "quay.io"))
PULLER = PullerCheck(
    Principal.parse(ROLE),
    {
        ("*", "ecr:GetAuthorizationToken"): "allowed",
        (f"{REPOS}/docker-hub/*", "ecr:BatchGetImage"): "allowed",
        (f"{REPOS}/docker-hub/*", "ecr:BatchImportUpstreamImage"): "implicitDeny",
        (f"{REPOS}/quay/*", "ecr:BatchImportUpstreamImage"): "implicitDeny",
        (f"{REPOS}/quay/*", "ecr:CreateRepository"): "implicitDeny",
    },
)
TAGGED = Defaults(
    keep_last=30,
    expire_untagged_days=3,
    encryption="KMS",
    kms_key="arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab",
    tags=(("team", "platform"), ("cost-center", "42")),
)
PLAN = plan.Plan(REGISTRY, RULES, RULES, (), ("docker-hub", "quay"), Defaults(), PULLER)
TAGGED_PLAN = plan.Plan(REGISTRY, RULES, RULES, (), ("docker-hub", "quay"), TAGGED)


def _jsonencoded(hcl: str) -> Any:
    """python-hcl2 gives `jsonencode(...)` back as `${jsonencode({"k" = v})}`."""
    inner = re.fullmatch(r"\$\{jsonencode\((.*)\)\}", hcl, re.DOTALL)
    assert inner, hcl
    return json.loads(inner[1].replace('" = ', '": '))


def _api(operation: str, service: str = "ecr") -> Any:
    from botocore.session import get_session  # type: ignore[import-untyped]

    return get_session().get_service_model(service).operation_model(operation).input_shape


def _valid(request: dict[str, Any], operation: str, service: str = "ecr") -> None:
    from botocore.validate import ParamValidator  # type: ignore[import-untyped]

    report = ParamValidator().validate(request, _api(operation, service))
    assert not report.has_errors(), report.generate_report()


def test_lifecycle_policy() -> None:
    assert json.loads(Defaults().lifecycle_policy() or "") == {
        "rules": [
            {
                "rulePriority": 1,
                "description": "Expire untagged images after 7 days",
                "selection": {
                    "tagStatus": "untagged",
                    "countType": "sinceImagePushed",
                    "countUnit": "days",
                    "countNumber": 7,
                },
                "action": {"type": "expire"},
            },
            {
                "rulePriority": 2,  # the `any` rule must come last
                "description": "Keep the newest 50 images",
                "selection": {
                    "tagStatus": "any",
                    "countType": "imageCountMoreThan",
                    "countNumber": 50,
                },
                "action": {"type": "expire"},
            },
        ]
    }
    assert Defaults(keep_last=None, expire_untagged_days=None).lifecycle_policy() is None


def test_terraform() -> None:
    tf = _terraform(plan.terraform(PLAN))
    templates = tf["resource"]["aws_ecr_repository_creation_template"]
    assert sorted(templates) == ["docker_hub", "quay"]
    hub = templates["docker_hub"]
    assert (hub["prefix"], hub["applied_for"], hub["image_tag_mutability"]) == (
        "docker-hub",
        ["PULL_THROUGH_CACHE"],
        "MUTABLE",
    )
    assert _jsonencoded(hub["lifecycle_policy"]) == json.loads(Defaults().lifecycle_policy() or "")
    assert hub["encryption_configuration"] == [{"encryption_type": "AES256"}]
    assert "custom_role_arn" not in hub  # AES256 without tags needs no role
    [policy] = tf["resource"]["aws_iam_role_policy"].values()
    assert (policy["name"], policy["role"]) == ("ecr-ptc-pull-through-cache", "node-role")
    statement = _jsonencoded(policy["policy"])["Statement"][0]
    assert statement["Action"] == "ecr:BatchImportUpstreamImage"


def test_terraform_with_tags_and_kms_takes_a_role_variable() -> None:
    tf = _terraform(plan.terraform(TAGGED_PLAN))
    quay = tf["resource"]["aws_ecr_repository_creation_template"]["quay"]
    assert quay["custom_role_arn"] == "${var.ecr_ptc_template_role_arn}"
    assert quay["resource_tags"] == {"team": "platform", "cost-center": "42"}
    assert quay["encryption_configuration"] == [
        {"encryption_type": "KMS", "kms_key": TAGGED.kms_key}
    ]
    assert "ecr_ptc_template_role_arn" in tf["variable"]


def test_cloudformation_passes_cfn_lint() -> None:
    for each in (PLAN, TAGGED_PLAN):
        template = plan.cloudformation(each)
        assert _cfn_errors(template) == []
    body = json.loads(plan.cloudformation(TAGGED_PLAN))
    quay = body["Resources"]["QuayRepositoryCreationTemplate"]
    assert quay["Type"] == "AWS::ECR::RepositoryCreationTemplate"
    assert quay["Properties"]["CustomRoleArn"] == {"Ref": "TemplateRoleArn"}
    assert quay["Properties"]["ResourceTags"][0] == {"Key": "team", "Value": "platform"}
    puller = json.loads(plan.cloudformation(PLAN))["Resources"]["EcrPtcPullerPolicy"]
    assert puller["Type"] == "AWS::IAM::RolePolicy"
    assert puller["Properties"]["RoleName"] == "node-role"


def test_cloudformation_lint_catches_a_broken_template() -> None:
    body = json.loads(plan.cloudformation(PLAN))
    body["Resources"]["QuayRepositoryCreationTemplate"]["Properties"]["AppliedFor"] = ["NEVER"]
    assert _cfn_errors(json.dumps(body))


def _commands(text: str, name: str) -> list[dict[str, str]]:
    found = []
    for line in text.splitlines():
        if line.startswith("#"):
            continue
        args = shlex.split(line)
        if args[2] == name:
            rest = args[3:]
            assert all(flag.startswith("--") for flag in rest[::2]) and len(rest) % 2 == 0
            found.append(dict(zip(rest[::2], rest[1::2])))
    return found


_STRUCTURED = ("--encryption-configuration", "--resource-tags")  # JSON for structures


def _request(options: dict[str, str]) -> dict[str, Any]:
    """CLI options -> API request, as the AWS CLI maps them (--region is not a parameter)."""
    request: dict[str, Any] = {}
    for flag, value in options.items():
        if flag == "--region":
            continue
        key = "".join(w.capitalize() for w in flag[2:].split("-"))
        key = key[0].lower() + key[1:]
        request[key] = json.loads(value) if flag in _STRUCTURED else value
    return request


def test_cli_commands_are_valid_requests() -> None:
    text = plan.cli(PLAN)
    templates = _commands(text, "create-repository-creation-template")
    assert [t["--prefix"] for t in templates] == ["docker-hub", "quay"]
    for options in templates:
        request = _request(options)
        request["appliedFor"] = [request["appliedFor"]]
        _valid(request, "CreateRepositoryCreationTemplate")
    [grant] = _commands(text, "put-role-policy")
    assert grant["--role-name"] == "node-role"
    request = _request(grant)
    assert json.loads(request["policyDocument"])["Version"] == "2012-10-17"
    _valid({k[0].upper() + k[1:]: v for k, v in request.items()}, "PutRolePolicy", "iam")


def test_cli_with_a_role_in_the_config() -> None:
    role = "arn:aws:iam::123456789012:role/ecr-templates"
    defaults = Defaults(tags=(("team", "platform"),), role=role)
    text = plan.cli(plan.Plan(REGISTRY, (), (), (), ("quay",), defaults))
    [options] = _commands(text, "create-repository-creation-template")
    assert options["--custom-role-arn"] == role
    assert json.loads(options["--resource-tags"]) == [{"Key": "team", "Value": "platform"}]
    unset = plan.cli(TAGGED_PLAN)
    assert "# templates: set TEMPLATE_ROLE_ARN;" in unset
    assert _commands(unset, "create-repository-creation-template")[0]["--custom-role-arn"] == (
        "$TEMPLATE_ROLE_ARN"
    )


@pytest.mark.parametrize("each", (PLAN, TAGGED_PLAN), ids=("defaults", "tagged"))
def test_json_templates_are_valid_requests(each: plan.Plan) -> None:
    body = json.loads(plan.as_json(each))
    for item in body["templates"]:
        _valid({k: v for k, v in item.items() if k != "customRoleArnRequired"},
               "CreateRepositoryCreationTemplate")  # fmt: skip
    assert body["templates"][0]["prefix"] == "docker-hub"
    if each is PLAN:
        assert body["puller"]["principal"] == ROLE
        assert body["puller"]["policyDocument"]["Version"] == "2012-10-17"
    else:
        assert body["puller"] is None
        assert body["templates"][0]["customRoleArnRequired"] is True


def test_user_principal_gets_a_user_policy() -> None:
    user = PullerCheck(
        Principal.parse("arn:aws:iam::123456789012:user/ci"),
        {("*", "ecr:GetAuthorizationToken"): "implicitDeny"},
    )
    only = plan.Plan(REGISTRY, (), (), puller=user)
    assert not only.empty
    assert "aws iam put-user-policy --user-name ci " in plan.cli(only)
    assert _cfn_errors(plan.cloudformation(only)) == []
    assert "aws_iam_user_policy" in _terraform(plan.terraform(only))["resource"]


@pytest.mark.parametrize(
    "arn",
    (
        "arn:aws:sts::123456789012:assumed-role/node/i-0abc",
        "arn:aws:iam::123456789012:group/devs",
        "node-role",
    ),
)
def test_principal_must_be_a_role_or_user(arn: str) -> None:
    from migrate.aws.puller import PrincipalError

    with pytest.raises(PrincipalError, match="is not an IAM role or user ARN"):
        Principal.parse(arn)


def test_terraform_is_as_terraform_fmt_writes_it(tmp_path: Path) -> None:
    """Syntax and layout checked by Terraform itself, where it is installed."""
    terraform = shutil.which("terraform") or shutil.which("tofu")
    if terraform is None:
        pytest.skip("terraform is not installed")
    from tests import plan_test

    for n, each in enumerate((PLAN, TAGGED_PLAN, plan_test.PLAN)):
        (tmp_path / f"plan{n}.tf").write_text(plan.terraform(each))
    done = subprocess.run(
        [terraform, "fmt", "-check", "-diff", str(tmp_path)],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
        env={**os.environ, "TF_CLI_CONFIG_FILE": os.devnull, "CHECKPOINT_DISABLE": "1"},
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_policy_names_each_missing_action_once() -> None:
    from migrate.aws.puller import policy

    assert policy(PULLER) == {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "EcrPtcPullThroughCache1",
                "Effect": "Allow",
                "Action": "ecr:BatchImportUpstreamImage",
                "Resource": [f"{REPOS}/docker-hub/*", f"{REPOS}/quay/*"],
            },
            {
                "Sid": "EcrPtcPullThroughCache2",
                "Effect": "Allow",
                "Action": "ecr:CreateRepository",
                "Resource": f"{REPOS}/quay/*",
            },
        ],
    }
