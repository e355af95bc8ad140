"""rules plan emitters: each output is parsed by what would consume it."""

from __future__ import annotations

import json
import shlex
from typing import Any

import pytest

from migrate.aws import plan
from migrate.config import Rule
from tests.helpers import REGISTRY

HUB = "registry-1.docker.io"
OTHER_ECR = "210987654321.dkr.ecr.eu-west-1.amazonaws.com"
RULES = (
    Rule("docker-hub", HUB),
    Rule("quay", "quay.io"),
    Rule("cg-ex", "cgr.dev", "example.com"),
    Rule("ecr", OTHER_ECR),
    Rule("acr", "myregistry1.azurecr.io"),
)
PLAN = plan.Plan(REGISTRY, RULES, RULES, ("a note",))
EMPTY = plan.Plan(REGISTRY, (), (Rule("quay", "quay.io"),))


def _unquote(value: Any) -> Any:
    """python-hcl2 keeps the quotes of labels and strings; references come as `${...}`."""
    if isinstance(value, str):
        return value[1:-1] if value.startswith('"') and value.endswith('"') else value
    if isinstance(value, dict):
        return {_unquote(k): _unquote(v) for k, v in value.items() if not k.startswith("__")}
    if isinstance(value, list):
        return [_unquote(v) for v in value]
    return value


def _terraform(text: str) -> dict[str, Any]:
    import hcl2

    parsed = _unquote(hcl2.loads(text))
    out: dict[str, Any] = {"resource": {}, "data": {}, "variable": {}}
    for kind, blocks in parsed.items():
        for block in blocks:  # one entry per block: {type: {name: body}} or {name: body}
            for key, value in block.items():
                if kind == "variable":
                    out[kind][key] = value
                else:
                    names = out[kind].setdefault(key, {})
                    assert not set(names) & set(value), f"duplicate {kind} {key}"
                    names.update(value)
    return out


def test_terraform_structure() -> None:
    tf = _terraform(plan.terraform(PLAN))
    resources = tf["resource"]["aws_ecr_pull_through_cache_rule"]
    assert resources == {
        "docker_hub": {
            "ecr_repository_prefix": "docker-hub",
            "upstream_registry_url": HUB,
            "credential_arn": "${data.aws_secretsmanager_secret.docker_hub.arn}",
        },
        "quay": {"ecr_repository_prefix": "quay", "upstream_registry_url": "quay.io"},
        "cg_ex": {
            "ecr_repository_prefix": "cg-ex",
            "upstream_registry_url": "cgr.dev",
            "upstream_repository_prefix": "example.com",
            "credential_arn": "${data.aws_secretsmanager_secret.cg_ex.arn}",
        },
        "ecr": {
            "ecr_repository_prefix": "ecr",
            "upstream_registry_url": OTHER_ECR,
            "custom_role_arn": "${var.ecr_role_arn}",
        },
        "acr": {
            "ecr_repository_prefix": "acr",
            "upstream_registry_url": "myregistry1.azurecr.io",
            "credential_arn": "${data.aws_secretsmanager_secret.acr.arn}",
        },
    }
    secrets = tf["data"]["aws_secretsmanager_secret"]
    assert {name: s["name"] for name, s in secrets.items()} == {
        "docker_hub": "ecr-pullthroughcache/docker-hub",
        "cg_ex": "ecr-pullthroughcache/cg-ex",
        "acr": "ecr-pullthroughcache/acr",
    }
    assert tf["variable"]["ecr_role_arn"]["type"] in ("string", "${string}")


def test_terraform_names_are_unique_identifiers() -> None:
    rules = (Rule("a-b", "quay.io"), Rule("a.b", "ghcr.io"), Rule("9x", "quay.io"))
    tf = _terraform(plan.terraform(plan.Plan(REGISTRY, rules, rules)))
    assert sorted(tf["resource"]["aws_ecr_pull_through_cache_rule"]) == ["a_b", "a_b_2", "rule_9x"]


def test_terraform_nothing_to_create_is_still_valid_hcl() -> None:
    assert _terraform(plan.terraform(EMPTY)) == {"resource": {}, "data": {}, "variable": {}}


def _cfn_errors(template: str) -> list[str]:
    from cfnlint.api import ManualArgs, lint  # type: ignore[import-untyped]

    return [str(m) for m in lint(template, config=ManualArgs(regions=["us-east-1"]))]


def test_cloudformation_passes_cfn_lint() -> None:
    template = plan.cloudformation(PLAN)
    assert _cfn_errors(template) == []
    body = json.loads(template)
    resources = body["Resources"]
    assert {r["Type"] for r in resources.values()} == {"AWS::ECR::PullThroughCacheRule"}
    assert resources["DockerHubPullThroughCacheRule"]["Properties"] == {
        "EcrRepositoryPrefix": "docker-hub",
        "UpstreamRegistryUrl": HUB,
        "UpstreamRegistry": "docker-hub",
        "CredentialArn": {"Ref": "DockerHubCredentialArn"},
    }
    assert resources["EcrPullThroughCacheRule"]["Properties"]["CustomRoleArn"] == {
        "Ref": "EcrRoleArn"
    }
    assert (
        resources["CgExPullThroughCacheRule"]["Properties"]["UpstreamRepositoryPrefix"]
        == "example.com"
    )
    assert sorted(body["Parameters"]) == [
        "AcrCredentialArn",
        "CgExCredentialArn",
        "DockerHubCredentialArn",
        "EcrRoleArn",
    ]


def test_cloudformation_lint_catches_a_broken_template() -> None:
    """The check above is not vacuous: cfn-lint does reject a bad property."""
    body = json.loads(plan.cloudformation(PLAN))
    body["Resources"]["QuayPullThroughCacheRule"]["Properties"]["Bogus"] = 1
    assert _cfn_errors(json.dumps(body))


def test_cloudformation_nothing_to_create() -> None:
    assert plan.cloudformation(EMPTY) == ""


def _commands(text: str) -> list[list[str]]:
    return [shlex.split(line) for line in text.splitlines() if not line.startswith("#")]


def _options(args: list[str]) -> dict[str, str]:
    assert args[:3] == ["aws", "ecr", "create-pull-through-cache-rule"]
    rest = args[3:]
    assert all(flag.startswith("--") for flag in rest[::2]) and len(rest) % 2 == 0
    return dict(zip(rest[::2], rest[1::2]))


def test_cli_commands_parse() -> None:
    text = plan.cli(PLAN)
    commands = [_options(args) for args in _commands(text)]
    assert [c["--ecr-repository-prefix"] for c in commands] == [r.prefix for r in RULES]
    hub = commands[0]
    assert hub == {
        "--region": "us-east-1",
        "--registry-id": "123456789012",
        "--ecr-repository-prefix": "docker-hub",
        "--upstream-registry-url": HUB,
        "--upstream-registry": "docker-hub",
        "--credential-arn": "$(aws secretsmanager describe-secret --region us-east-1 --secret-id "
        "ecr-pullthroughcache/docker-hub --query ARN --output text)",
    }
    assert commands[2]["--upstream-repository-prefix"] == "example.com"
    assert commands[3]["--custom-role-arn"] == "$ROLE_ARN_ECR"
    assert commands[4]["--upstream-registry"] == "azure-container-registry"
    assert "# note: a note" in text.splitlines()
    # the hint to create the secret is a comment, never a command with placeholder credentials
    assert "create-secret" not in " ".join(" ".join(args) for args in _commands(text))


def test_cli_nothing_to_create() -> None:
    assert _commands(plan.cli(EMPTY)) == []


def test_json_rules_are_valid_create_requests() -> None:
    from botocore.session import get_session  # type: ignore[import-untyped]
    from botocore.validate import ParamValidator  # type: ignore[import-untyped]

    shape = (
        get_session()
        .get_service_model("ecr")
        .operation_model("CreatePullThroughCacheRule")
        .input_shape
    )
    body = json.loads(plan.as_json(PLAN))
    assert (body["registry"], body["region"], body["notes"]) == (REGISTRY, "us-east-1", ["a note"])
    for item in body["rules"]:
        request = {
            k: v for k, v in item.items() if k not in ("secretName", "customRoleArnRequired")
        }
        report = ParamValidator().validate(request, shape)
        assert not report.has_errors(), report.generate_report()
    assert body["rules"][0]["secretName"] == "ecr-pullthroughcache/docker-hub"
    assert body["rules"][3]["customRoleArnRequired"] is True


def test_renovate_aliases() -> None:
    aliases = json.loads(plan.renovate(PLAN))["registryAliases"]
    assert aliases == {
        f"{REGISTRY}/docker-hub": "docker.io",
        f"{REGISTRY}/quay": "quay.io",
        f"{REGISTRY}/cg-ex": "cgr.dev/example.com",
        f"{REGISTRY}/ecr": OTHER_ECR,
        f"{REGISTRY}/acr": "myregistry1.azurecr.io",
    }
    keys = list(aliases)
    assert keys == sorted(keys, key=lambda k: (-len(k), k))  # Renovate applies them top to bottom


@pytest.mark.parametrize("emit", sorted(plan.EMITTERS))
def test_every_emitter_is_deterministic(emit: str) -> None:
    assert plan.EMITTERS[emit](PLAN) == plan.EMITTERS[emit](PLAN)
