"""`rules plan --emit ...`: what creates the missing rules, as text. Pure string building."""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from migrate import registries
from migrate.aws import plan_templates
from migrate.aws.assess import Assessment
from migrate.aws.puller import PullerCheck, policy
from migrate.aws.rules import SECRET_PREFIX, credential_need, source
from migrate.config import Defaults, Rule

# The API's `upstreamRegistry` for each upstream key of registries.UPSTREAMS (+ ACR, ECR).
UPSTREAM_REGISTRY = {
    "docker-hub": "docker-hub",
    "ecr-public": "ecr-public",
    "kubernetes": "k8s",
    "quay": "quay",
    "github": "github-container-registry",
    "gitlab": "gitlab-container-registry",
    "chainguard": "chainguard",
    "azure": "azure-container-registry",
    "ecr": "ecr",
}
# What each secret must hold, whatever the upstream:
# https://docs.aws.amazon.com/AmazonECR/latest/userguide/pull-through-cache-creating-secret.html
SECRET_SHAPE = '{"username": "...", "accessToken": "..."}'


@dataclass(frozen=True)
class Plan:
    registry: str
    create: tuple[Rule, ...]  # the rules to create
    aliases: tuple[Rule, ...]  # every rule the references use: Renovate needs them all
    notes: tuple[str, ...] = ()
    templates: tuple[str, ...] = ()  # prefixes to give a repository creation template
    defaults: Defaults = field(default_factory=Defaults)  # what those templates set
    puller: PullerCheck | None = None  # the role that pulls, when it was checked

    @classmethod
    def of(cls, found: Assessment) -> Plan:
        """What the assessment proposes to create; Renovate's aliases cover every needed rule."""
        return cls(
            found.registry,
            found.create,
            found.needed,
            found.notes + found.unfixable,
            found.templates,
            found.defaults,
            found.puller,
        )

    @property
    def empty(self) -> bool:
        """Nothing to create: no rule, no template, no grant."""
        return not (self.create or self.templates or (self.puller and policy(self.puller)))

    @property
    def account(self) -> str:
        host = registries.ecr_host(self.registry)
        return host.account if host else ""

    @property
    def region(self) -> str:
        host = registries.ecr_host(self.registry)
        return host.region if host else ""


def secret_name(rule: Rule) -> str:
    return f"{SECRET_PREFIX}{rule.prefix}"


def _kind(rule: Rule) -> str | None:
    upstream = registries.upstream_for_url(rule.upstream)
    return UPSTREAM_REGISTRY.get(upstream.key) if upstream else None


def _title(rule: Rule) -> str:
    upstream = registries.upstream_for_url(rule.upstream)
    return upstream.title if upstream else rule.upstream


def _names(prefixes: Iterable[str], make: Callable[[str], str], sep: str) -> dict[str, str]:
    """prefix -> a unique identifier ('a-b' and 'a.b' both want 'a_b')."""
    names: dict[str, str] = {}
    for prefix in prefixes:
        base = name = make(prefix)
        n = 2
        while name in names.values():
            name, n = f"{base}{sep}{n}", n + 1
        names[prefix] = name
    return names


def _role_variable(rule: Rule) -> str:
    return "ROLE_ARN_" + re.sub(r"[^A-Z0-9]+", "_", rule.prefix.upper())


def cli(plan: Plan) -> str:
    """One `aws` command per line, so each parses with shlex on its own."""
    lines = [f"# ecr-ptc: pull-through cache rules to create in {plan.registry}"]
    lines += [f"# note: {note}" for note in plan.notes]
    if plan.empty:
        lines.append("# nothing to create")
    for rule in plan.create:
        args = [
            "aws",
            "ecr",
            "create-pull-through-cache-rule",
            "--region",
            plan.region,
            "--registry-id",
            plan.account,
            "--ecr-repository-prefix",
            rule.prefix,
            "--upstream-registry-url",
            rule.upstream,
        ]
        kind = _kind(rule)
        if kind:
            args += ["--upstream-registry", kind]
        if rule.upstream_prefix:
            args += ["--upstream-repository-prefix", rule.upstream_prefix]
        command = " ".join(shlex.quote(a) for a in args)
        need = credential_need(rule, plan.registry)
        if need == "secret":
            secret = secret_name(rule)
            lines += [
                f"# {rule.prefix}: {_title(rule)} needs credentials; store them first, e.g.",
                (
                    f"#   aws secretsmanager create-secret --region {plan.region} --name {secret} "
                    f"--secret-string '{SECRET_SHAPE}'"
                ),
            ]
            command += (
                f' --credential-arn "$(aws secretsmanager describe-secret --region '
                f'{plan.region} --secret-id {secret} --query ARN --output text)"'
            )
        elif need == "role":
            variable = _role_variable(rule)
            lines.append(
                f"# {rule.prefix}: set {variable} to the IAM role ECR assumes to pull "
                f"from {rule.upstream}"
            )
            command += f' --custom-role-arn "${variable}"'
        lines.append(command)
    lines += plan_templates.cli_lines(plan.region, plan.templates, plan.defaults)
    lines += plan_templates.cli_policy(plan.puller)
    return "\n".join(lines) + "\n"


def _hcl(value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    return '"' + escaped.replace("${", "$${").replace("%{", "%%{") + '"'


def _tf_name(prefix: str) -> str:
    name = re.sub(r"[^A-Za-z0-9_]", "_", prefix)
    return name if re.match(r"[A-Za-z_]", name) else f"rule_{name}"


def terraform(plan: Plan) -> str:
    """`aws_ecr_pull_through_cache_rule` resources for a provider set to the plan's account and
    region; a secret is looked up by name, never written into the state."""
    blocks = [
        (
            f"# ecr-ptc: pull-through cache rules to create in {plan.registry}\n"
            f"# (use a provider for account {plan.account}, region {plan.region})"
        )
    ]
    blocks += [f"# note: {note}" for note in plan.notes]
    names = _names((r.prefix for r in plan.create), _tf_name, "_")
    for rule in plan.create:
        name = names[rule.prefix]
        body = [
            ("ecr_repository_prefix", _hcl(rule.prefix)),
            ("upstream_registry_url", _hcl(rule.upstream)),
        ]
        if rule.upstream_prefix:
            body.append(("upstream_repository_prefix", _hcl(rule.upstream_prefix)))
        need = credential_need(rule, plan.registry)
        if need == "secret":
            blocks.append(
                f'data "aws_secretsmanager_secret" "{name}" {{\n'
                f"  # {_title(rule)} credentials, {SECRET_SHAPE}: create the secret first\n"
                f"  name = {_hcl(secret_name(rule))}\n}}"
            )
            body.append(("credential_arn", f"data.aws_secretsmanager_secret.{name}.arn"))
        elif need == "role":
            blocks.append(
                f'variable "{name}_role_arn" {{\n'
                f"  description = {_hcl(f'IAM role ECR assumes to pull from {rule.upstream}')}\n"
                "  type        = string\n}"
            )
            body.append(("custom_role_arn", f"var.{name}_role_arn"))
        width = max(len(key) for key, _ in body)
        lines = "".join(f"  {key:<{width}} = {value}\n" for key, value in body)
        blocks.append(f'resource "aws_ecr_pull_through_cache_rule" "{name}" {{\n{lines}}}')
    template_names = _names(plan.templates, _tf_name, "_")
    blocks += plan_templates.terraform_blocks(
        plan.templates, plan.defaults, plan.puller, _hcl, template_names.__getitem__
    )
    return "\n\n".join(blocks) + "\n"


def _cfn_name(prefix: str) -> str:
    name = "".join(part[:1].upper() + part[1:] for part in re.split(r"[^A-Za-z0-9]+", prefix))
    return name if name[:1].isalpha() else f"Rule{name}"


def cloudformation(plan: Plan) -> str:
    """A template (JSON is YAML too) with one AWS::ECR::PullThroughCacheRule per rule; secret and
    role ARNs are parameters, since a template cannot look a secret's full ARN up by name."""
    if plan.empty:
        return ""  # a template needs at least one resource; the CLI says there is nothing to do
    names = _names((r.prefix for r in plan.create), _cfn_name, "")
    parameters: dict[str, object] = {}
    resources: dict[str, object] = {}
    for rule in plan.create:
        name = names[rule.prefix]
        props: dict[str, object] = {
            "EcrRepositoryPrefix": rule.prefix,
            "UpstreamRegistryUrl": rule.upstream,
        }
        kind = _kind(rule)
        if kind:
            props["UpstreamRegistry"] = kind
        if rule.upstream_prefix:
            props["UpstreamRepositoryPrefix"] = rule.upstream_prefix
        need = credential_need(rule, plan.registry)
        if need == "secret":
            parameters[f"{name}CredentialArn"] = {
                "Type": "String",
                "Description": f"ARN of the Secrets Manager secret {secret_name(rule)} "
                f"({_title(rule)} credentials)",
                "AllowedPattern": r"^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:[0-9]{12}:secret:"
                r"ecr-pullthroughcache/.+$",
            }
            props["CredentialArn"] = {"Ref": f"{name}CredentialArn"}
        elif need == "role":
            parameters[f"{name}RoleArn"] = {
                "Type": "String",
                "Description": f"ARN of the IAM role ECR assumes to pull from {rule.upstream}",
            }
            props["CustomRoleArn"] = {"Ref": f"{name}RoleArn"}
        resources[f"{name}PullThroughCacheRule"] = {
            "Type": "AWS::ECR::PullThroughCacheRule",
            "Properties": props,
        }
    template_names = _names(plan.templates, _cfn_name, "")
    more_parameters, more_resources = plan_templates.cloudformation_parts(
        plan.templates, plan.defaults, plan.puller, template_names.__getitem__
    )
    parameters.update(more_parameters)
    resources.update(more_resources)
    template: dict[str, object] = {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": f"Pull-through cache rules for {plan.registry} (ecr-ptc)",
    }
    if parameters:
        template["Parameters"] = parameters
    template["Resources"] = resources
    return json.dumps(template, indent=2) + "\n"


def as_json(plan: Plan) -> str:
    """Each rule in CreatePullThroughCacheRule's own field names, plus where its secret lives."""
    rules = []
    for rule in plan.create:
        item: dict[str, object] = {
            "registryId": plan.account,
            "ecrRepositoryPrefix": rule.prefix,
            "upstreamRegistryUrl": rule.upstream,
        }
        kind = _kind(rule)
        if kind:
            item["upstreamRegistry"] = kind
        if rule.upstream_prefix:
            item["upstreamRepositoryPrefix"] = rule.upstream_prefix
        need = credential_need(rule, plan.registry)
        if need == "secret":
            item["secretName"] = secret_name(rule)
        elif need == "role":
            item["customRoleArnRequired"] = True
        rules.append(item)
    body = {
        "registry": plan.registry,
        "region": plan.region,
        "rules": rules,
        **plan_templates.json_parts(plan.templates, plan.defaults, plan.puller),
        "notes": list(plan.notes),
    }
    return json.dumps(body, indent=2) + "\n"


def renovate(plan: Plan) -> str:
    """`registryAliases`: Renovate looks a migrated `<registry>/<prefix>/<path>` up at the upstream
    (https://docs.renovatebot.com/configuration-options/#registryaliases). Longest key first:
    Renovate applies the aliases top to bottom."""
    aliases = {f"{plan.registry}/{rule.prefix}": _renovate_source(rule) for rule in plan.aliases}
    ordered = dict(sorted(aliases.items(), key=lambda kv: (-len(kv[0]), kv[0])))
    return json.dumps({"registryAliases": ordered}, indent=2) + "\n"


def _renovate_source(rule: Rule) -> str:
    # Renovate's Docker datasource knows Docker Hub as docker.io (registry-1.docker.io is the
    # API host the rule needs, not the name images go by).
    if rule.upstream == registries.DOCKER_HUB.url:
        return f"docker.io/{rule.upstream_prefix}" if rule.upstream_prefix else "docker.io"
    return source(rule)


EMITTERS: dict[str, Callable[[Plan], str]] = {
    "cli": cli,
    "terraform": terraform,
    "cloudformation": cloudformation,
    "json": as_json,
    "renovate": renovate,
}
