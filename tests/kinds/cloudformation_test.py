"""CloudFormation and SAM: images by resource type, through short and long intrinsic functions,
parameter defaults rewritten where `!Ref` reads them, the account's own ECR left alone, App
Runner reported only, and the corpus's templates fixed so that they load (with their short
tags) to the same structure but for image strings."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from migrate.kinds import cloudformation as cfn
from migrate.kinds import compose, kubernetes
from migrate.kinds.registry import scanner_for
from migrate.occurrence import Occurrence
from tests.kinds import aws_corpus


def _task(image: str, parameters: str = "") -> str:
    return (
        "AWSTemplateFormatVersion: '2010-09-09'\n"
        + parameters
        + "Resources:\n  Task:\n    Type: AWS::ECS::TaskDefinition\n    Properties:\n"
        + f"      ContainerDefinitions:\n        - Name: app\n          Image: {image}\n"
    )


def _one(text: str) -> Occurrence:
    (found,) = cfn.scan(text)
    return found


def _rewritten(text: str, occ: Occurrence) -> str:
    return "".join(text[part.start : part.end] for part in occ.parts)


def test_a_literal_image_is_rewritable() -> None:
    text = _task("nginx:1.27")
    found = _one(text)
    assert _rewritten(text, found) == "nginx:1.27" and found.unresolved is None


def test_sub_with_only_the_tag_a_variable_is_rewritten_in_place() -> None:
    text = _task("!Sub 'ruby:${RubyVersion}-slim'")
    found = _one(text)
    assert _rewritten(text, found) == "ruby:${RubyVersion}-slim"


@pytest.mark.parametrize(
    "image",
    [
        "!Sub '${AWS::AccountId}.dkr.ecr.${AWS::Region}.amazonaws.com/app:1'",
        "!Join ['', [!Ref AWS::AccountId, '.dkr.ecr.', !Ref AWS::Region, '.amazonaws.com/app']]",
        '{"Fn::Sub": "${AWS::AccountId}.dkr.ecr.${AWS::Region}.amazonaws.com/app:1"}',
    ],
)
def test_the_accounts_own_ecr_is_not_a_finding(image: str) -> None:
    assert list(cfn.scan(_task(image))) == []


@pytest.mark.parametrize(
    ("image", "reason"),
    [
        ("!Sub '${Repository}:latest'", "variable in image name"),
        ("!GetAtt Repository.RepositoryUri", "Fn::GetAtt"),
        ("!ImportValue shared-image", "Fn::ImportValue"),
        ("!FindInMap [Images, !Ref AWS::Region, App]", "Fn::FindInMap"),
        ("{'Fn::GetAtt': [Repository, RepositoryUri]}", "Fn::GetAtt"),
        ("!Ref AWS::StackName", "pseudo parameter"),
        ("!Ref Repository", "resource attribute"),
        ("!Sub 'nginx:${!Literal}'", "literal ${!"),
    ],
)
def test_functions_are_unresolved(image: str, reason: str) -> None:
    found = _one(_task(image))
    assert found.parts == () and found.unresolved and reason in found.unresolved


def test_a_parameter_default_is_the_reference() -> None:
    parameters = "Parameters:\n  AppImage:\n    Type: String\n    Default: ghcr.io/acme/app:1\n"
    for image in ("!Ref AppImage", "{Ref: AppImage}", '{"Ref": "AppImage"}'):
        text = _task(image, parameters)
        found = _one(text)
        assert found.kind == "parameter" and _rewritten(text, found) == "ghcr.io/acme/app:1"
        assert text.index("ghcr.io") == found.at


def test_a_parameter_used_twice_is_one_reference() -> None:
    parameters = "Parameters:\n  AppImage:\n    Default: nginx\n"
    text = (
        _task("!Ref AppImage", parameters) + "        - Name: b\n          Image: !Ref AppImage\n"
    )
    assert len(list(cfn.scan(text))) == 1


@pytest.mark.parametrize(
    ("parameter", "reason"),
    [
        ("    Type: String\n", "parameter without a default"),
        ("    Type: AWS::SSM::Parameter::Value<String>\n    Default: /images/app\n", "SSM"),
    ],
)
def test_parameters_without_an_image_default_are_unresolved(parameter: str, reason: str) -> None:
    found = _one(_task("!Ref AppImage", "Parameters:\n  AppImage:\n" + parameter))
    assert found.parts == () and found.unresolved and reason in found.unresolved


def test_both_sides_of_an_if_are_read() -> None:
    text = _task("!If [Prod, 'nginx:1.27', 'nginx:1.27-debug']")
    assert [occ.written for occ in cfn.scan(text)] == ["nginx:1.27", "nginx:1.27-debug"]
    item = (
        "        - !If\n          - WithProxy\n          - Name: proxy\n"
        "            Image: envoyproxy/envoy:v1.31.0\n          - !Ref AWS::NoValue\n"
    )
    assert [occ.written for occ in cfn.scan(_task("nginx") + item)] == [
        "nginx",
        "envoyproxy/envoy:v1.31.0",
    ]


RESOURCES = """\
Resources:
  Job:
    Type: AWS::Batch::JobDefinition
    Properties:
      ContainerProperties: {Image: batch-a}
      NodeProperties:
        NodeRangeProperties:
          - Container: {Image: batch-b}
      EcsProperties:
        TaskProperties:
          - Containers: [{Image: batch-c}]
      EksProperties:
        PodProperties:
          InitContainers: [{Image: batch-d}]
          Containers: [{Image: batch-e}]
  Sam:
    Type: AWS::Serverless::Function
    Properties: {PackageType: Image, ImageUri: lambda-a}
  Lambda:
    Type: AWS::Lambda::Function
    Properties: {PackageType: Image, Code: {ImageUri: lambda-b}}
  Runner:
    Type: AWS::AppRunner::Service
    Properties:
      SourceConfiguration:
        ImageRepository: {ImageIdentifier: runner, ImageRepositoryType: ECR_PUBLIC}
  Other:
    Type: AWS::ECR::Repository
    Properties: {Image: not-an-image, RepositoryName: app}
"""


def test_every_resource_type_that_pulls() -> None:
    found = {occ.written: occ for occ in cfn.scan(RESOURCES)}
    assert sorted(found) == [
        "batch-a",
        "batch-b",
        "batch-c",
        "batch-d",
        "batch-e",
        "lambda-a",
        "lambda-b",
        "runner",
    ]
    assert all(found[name].note and "warm" in found[name].note for name in ("lambda-a", "lambda-b"))
    assert found["runner"].parts == () and found["runner"].kept
    assert "ImageRepositoryType" in found["runner"].kept


def test_json_templates_and_their_escapes() -> None:
    text = json.dumps(
        {
            "Resources": {
                "T": {
                    "Type": "AWS::ECS::TaskDefinition",
                    "Properties": {
                        "ContainerDefinitions": [
                            {"Image": "nginx"},
                            {"Image": {"Fn::Sub": "node:${Version}"}},
                        ]
                    },
                }
            }
        }
    ).replace('"nginx"', '"library\\/nginx"')
    assert _kind(scanner_for(Path("stack.template.json"), text)) == cfn.NAME
    escaped, sub = cfn.scan(text)
    assert escaped.parts == () and escaped.written == "library/nginx"
    assert _rewritten(text, sub) == "node:${Version}"


@pytest.mark.parametrize(
    ("name", "text", "kind"),
    [
        ("template.yaml", _task("nginx"), cfn),
        (
            "sam.yml",
            "Transform: AWS::Serverless-2016-10-31\nResources:\n  F:\n    Type: AWS::Serverless::Function\n",
            cfn,
        ),
        (
            "deploy.yaml",
            "apiVersion: v1\nkind: Pod\nspec:\n  containers: [{image: nginx}]\n",
            kubernetes,
        ),
        ("compose.yaml", "services:\n  web:\n    image: nginx\n", compose),
        ("values.yaml", "Resources:\n  x:\n    Type: AWS::S3::Bucket\n", None),  # Helm's
    ],
)
def test_claims_leave_other_kinds_their_files(name: str, text: str, kind: object) -> None:
    found = _kind(scanner_for(Path(name), text))
    if kind is None:
        assert found != cfn.NAME
    else:
        assert found == getattr(kind, "NAME", None)


# Literal images and parameter defaults, per repository of the corpus's CloudFormation folder.
EXPECTED_REWRITABLE = {
    "aws-samples__serverless-patterns": 4,
    "aws__aws-app-mesh-examples": 14,
    "bridgecrewio__checkov": 4,  # and App Runner's, reported only
    "cdklabs__cdk-ecs-service-extensions": 11,
    "widdix__aws-cf-templates": 1,
}
EXPECTED_UNRESOLVED = 23  # App Runner's one included


@pytest.mark.corpus
def test_corpus_every_image_found() -> None:
    root = aws_corpus.corpus() / "aws" / "cloudformation"
    rewritable: dict[str, int] = {}
    unresolved = 0
    for rel in aws_corpus.files("cloudformation"):
        path = root / rel
        text = path.read_text("utf-8-sig")
        assert _kind(scanner_for(path, text)) == cfn.NAME, rel
        for occ in cfn.scan(text):
            if occ.parts:
                owner = rel.split("/", 1)[0]
                rewritable[owner] = rewritable.get(owner, 0) + 1
            else:
                unresolved += 1
    assert rewritable == EXPECTED_REWRITABLE
    assert unresolved == EXPECTED_UNRESOLVED


def _loaded(raw: bytes) -> object:
    """The template as cfn-lint reads it: short tags become their `Fn::` forms."""
    from cfnlint.decode import decode_str

    template, matches = decode_str(raw.decode("utf-8-sig"))
    assert not matches, matches
    return json.loads(json.dumps(template, default=str))


@pytest.mark.corpus
def test_corpus_fix_changes_only_image_strings(in_tmp: Path) -> None:
    before, after = aws_corpus.fix_twice("cloudformation", in_tmp)
    changed = [rel for rel in before if before[rel] != after[rel]]
    rewritten = 0
    for rel in changed:
        diffs = list(aws_corpus.differences(_loaded(before[rel]), _loaded(after[rel])))
        assert diffs, rel
        for where, old, new in diffs:
            assert where.endswith((".Image", ".ImageUri", ".Default", ".Fn::Sub")), where
            assert aws_corpus.is_rewrite(old, new), (rel, where, old, new)
        rewritten += len(diffs)
    assert len(changed) == 13
    assert rewritten == sum(EXPECTED_REWRITABLE.values())


def test_a_sub_of_one_parameter_reads_its_default() -> None:
    parameters = "Parameters:\n  AppImage:\n    Default: nginx:1.27\n"
    text = _task("!Sub '${AppImage}'", parameters)
    found = _one(text)
    assert found.kind == "parameter" and _rewritten(text, found) == "nginx:1.27"
    found = _one(_task("!Sub '${Unknown}'", parameters))
    assert found.parts == () and found.unresolved == "variable in image name"


def _kind(found: object) -> str | None:
    """The NAME of what `scanner_for` returned (None: no kind claimed the file)."""
    return getattr(found, "NAME", None)
