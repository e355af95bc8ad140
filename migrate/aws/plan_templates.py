"""The parts of a `rules plan` beside the rules: a repository creation template per uncovered
prefix, and the policy the role that pulls lacks, in each emitter's own terms.

Field names are the APIs' (CreateRepositoryCreationTemplate, PutRolePolicy), the Terraform
provider's (`aws_ecr_repository_creation_template`, `aws_iam_role_policy`) and CloudFormation's
(`AWS::ECR::RepositoryCreationTemplate`, `AWS::IAM::RolePolicy`). Pure string building.
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Callable, Sequence

from migrate.aws.puller import POLICY_NAME, PullerCheck, policy
from migrate.aws.templates import PULL_THROUGH_CACHE
from migrate.config import Defaults

ROLE_VARIABLE = "TEMPLATE_ROLE_ARN"  # the CLI plan's shell variable for a template's role
MUTABLE = "MUTABLE"  # a cache must refresh its tags: immutability can stop it


def _request(prefix: str, defaults: Defaults) -> dict[str, object]:
    """CreateRepositoryCreationTemplate's input, without customRoleArn."""
    request: dict[str, object] = {
        "prefix": prefix,
        "description": defaults.description,
        "appliedFor": [PULL_THROUGH_CACHE],
        "imageTagMutability": MUTABLE,
    }
    lifecycle = defaults.lifecycle_policy()
    if lifecycle:
        request["lifecyclePolicy"] = lifecycle
    encryption: dict[str, str] = {"encryptionType": defaults.encryption}
    if defaults.kms_key:
        encryption["kmsKey"] = defaults.kms_key
    request["encryptionConfiguration"] = encryption
    if defaults.tags:
        request["resourceTags"] = [{"Key": k, "Value": v} for k, v in defaults.tags]
    return request


_ROLE_NOTE = (
    "tags and KMS keys are applied through a role the template names: "
    "https://docs.aws.amazon.com/AmazonECR/latest/userguide/"
    "repository-creation-templates-create-iam.html"
)


# --- cli -----------------------------------------------------------------------------------------
def cli_lines(region: str, prefixes: Sequence[str], defaults: Defaults) -> list[str]:
    lines: list[str] = []
    if prefixes and defaults.needs_role and not defaults.role:
        lines.append(f"# templates: set {ROLE_VARIABLE}; {_ROLE_NOTE}")
    for prefix in prefixes:
        request = _request(prefix, defaults)
        args = ["aws", "ecr", "create-repository-creation-template", "--region", region]
        args += ["--prefix", prefix, "--description", str(request["description"])]
        args += ["--applied-for", PULL_THROUGH_CACHE, "--image-tag-mutability", MUTABLE]
        if "lifecyclePolicy" in request:
            args += ["--lifecycle-policy", str(request["lifecyclePolicy"])]
        args += ["--encryption-configuration", _compact(request["encryptionConfiguration"])]
        if "resourceTags" in request:
            args += ["--resource-tags", _compact(request["resourceTags"])]
        command = " ".join(shlex.quote(a) for a in args)
        if defaults.role:
            command += f" --custom-role-arn {shlex.quote(defaults.role)}"
        elif defaults.needs_role:
            command += f' --custom-role-arn "${ROLE_VARIABLE}"'
        lines.append(command)
    return lines


def cli_policy(check: PullerCheck | None) -> list[str]:
    document = policy(check) if check else None
    if check is None or document is None:
        return []
    who = check.principal
    return [
        f"# {who.arn} lacks what a first pull through the cache needs; grant it:",
        " ".join(
            shlex.quote(a)
            for a in (
                "aws",
                "iam",
                f"put-{who.kind}-policy",
                f"--{who.kind}-name",
                who.name,
                "--policy-name",
                POLICY_NAME,
                "--policy-document",
                _compact(document),
            )
        ),
    ]


def _compact(value: object) -> str:
    return json.dumps(value, separators=(",", ":"))


# --- terraform -----------------------------------------------------------------------------------
def terraform_blocks(
    prefixes: Sequence[str],
    defaults: Defaults,
    check: PullerCheck | None,
    hcl: Callable[[str], str],
    name_of: Callable[[str], str],
) -> list[str]:
    """`hcl` quotes a string, `name_of` maps a prefix to its resource name."""
    blocks = []
    role = None
    if prefixes and defaults.needs_role:
        if defaults.role:
            role = hcl(defaults.role)
        else:
            blocks.append(
                'variable "ecr_ptc_template_role_arn" {\n'
                f"  description = {hcl('IAM role ECR uses to tag or KMS-encrypt new repositories')}"
                "\n  type        = string\n}"
            )
            role = "var.ecr_ptc_template_role_arn"
    for prefix in prefixes:
        request = _request(prefix, defaults)
        body = [
            ("prefix", hcl(prefix)),
            ("description", hcl(defaults.description)),
            ("applied_for", f"[{hcl(PULL_THROUGH_CACHE)}]"),
            ("image_tag_mutability", hcl(MUTABLE)),
        ]
        if role:
            body.append(("custom_role_arn", role))
        lines = _aligned(body, "  ")
        if "lifecyclePolicy" in request:  # multi-line: `terraform fmt` aligns it with nothing
            lifecycle = json.loads(str(request["lifecyclePolicy"]))
            lines += f"\n  lifecycle_policy = {_jsonencode(lifecycle)}\n"
        lines += "\n  encryption_configuration {\n"
        encryption = [("encryption_type", hcl(defaults.encryption))]
        if defaults.kms_key:
            encryption.append(("kms_key", hcl(defaults.kms_key)))
        lines += _aligned(encryption, "    ") + "  }\n"
        if defaults.tags:
            tags = _aligned([(hcl(k), hcl(v)) for k, v in defaults.tags], "    ")
            lines += f"\n  resource_tags = {{\n{tags}  }}\n"
        blocks.append(
            f'resource "aws_ecr_repository_creation_template" "{name_of(prefix)}" {{\n{lines}}}'
        )
    document = policy(check) if check else None
    if check and document:
        who = check.principal
        head = _aligned([("name", hcl(POLICY_NAME)), (who.kind, hcl(who.name))], "  ")
        blocks.append(
            f"# {who.arn} lacks what a first pull through the cache needs\n"
            f'resource "aws_iam_{who.kind}_policy" "ecr_ptc_puller" {{\n{head}'
            f"  policy = {_jsonencode(document)}\n}}"
        )
    return blocks


def _aligned(pairs: Sequence[tuple[str, str]], indent: str) -> str:
    """Attributes with their `=` aligned, as `terraform fmt` writes them."""
    width = max(len(key) for key, _ in pairs)
    return "".join(f"{indent}{key:<{width}} = {value}\n" for key, value in pairs)


def _jsonencode(value: object) -> str:
    """`jsonencode(...)` of the JSON text itself: HCL's object syntax takes `"key": value`, its
    strings JSON's escapes; only template sequences need doubling."""
    text = json.dumps(value, indent=2, separators=(",", " : "))  # `terraform fmt`'s spacing
    text = text.replace("${", "$${").replace("%{", "%%{")
    return "jsonencode(" + text.replace("\n", "\n  ") + ")"


# --- cloudformation ------------------------------------------------------------------------------
def cloudformation_parts(
    prefixes: Sequence[str],
    defaults: Defaults,
    check: PullerCheck | None,
    name_of: Callable[[str], str],
) -> tuple[dict[str, object], dict[str, object]]:
    """(Parameters, Resources) to merge into the template."""
    parameters: dict[str, object] = {}
    resources: dict[str, object] = {}
    role: object = defaults.role
    if prefixes and defaults.needs_role and not defaults.role:
        parameters["TemplateRoleArn"] = {
            "Type": "String",
            "Description": "IAM role ECR uses to tag or KMS-encrypt new repositories",
        }
        role = {"Ref": "TemplateRoleArn"}
    for prefix in prefixes:
        # CloudFormation's property names are the API's with a capital letter.
        props = _capitalised(_request(prefix, defaults))
        if role and defaults.needs_role:
            props["CustomRoleArn"] = role
        resources[f"{name_of(prefix)}RepositoryCreationTemplate"] = {
            "Type": "AWS::ECR::RepositoryCreationTemplate",
            "Properties": props,
        }
    document = policy(check) if check else None
    if check and document:
        who = check.principal
        kind = who.kind.capitalize()
        resources["EcrPtcPullerPolicy"] = {
            "Type": f"AWS::IAM::{kind}Policy",
            "Properties": {
                "PolicyName": POLICY_NAME,
                f"{kind}Name": who.name,
                "PolicyDocument": document,
            },
        }
    return parameters, resources


def _capitalised(request: dict[str, object]) -> dict[str, object]:
    def one(value: object) -> object:
        if isinstance(value, dict):
            return {k[:1].upper() + k[1:]: one(v) for k, v in value.items()}
        if isinstance(value, list):
            return [one(v) for v in value]
        return value

    capitalised = one(request)
    assert isinstance(capitalised, dict)
    return capitalised


# --- json ----------------------------------------------------------------------------------------
def json_parts(
    prefixes: Sequence[str], defaults: Defaults, check: PullerCheck | None
) -> dict[str, object]:
    templates = []
    for prefix in prefixes:
        request = _request(prefix, defaults)
        if defaults.role:
            request["customRoleArn"] = defaults.role
        elif defaults.needs_role:
            request["customRoleArnRequired"] = True
        templates.append(request)
    document = policy(check) if check else None
    puller: dict[str, object] | None = None
    if check and document:
        puller = {
            "principal": check.principal.arn,
            "policyName": POLICY_NAME,
            "policyDocument": document,
        }
    return {"templates": templates, "puller": puller}
