"""CloudFormation and SAM templates (YAML with short tags, or JSON): the image of each resource
that pulls one, by resource type: `AWS::ECS::TaskDefinition` `ContainerDefinitions[].Image`,
`AWS::Batch::JobDefinition` (container, node, ECS and EKS properties), `AWS::Lambda::Function`
`Code.ImageUri`, `AWS::Serverless::Function` `ImageUri`, `AWS::AppRunner::Service`
`ImageIdentifier`. A `!Ref` to a parameter is found at the parameter's `Default`.

`!Sub` strings are references where only the tag is a variable (`ruby:${Version}`); one built
on `${AWS::AccountId}.dkr.ecr...` is the account's own ECR, not a finding. Other functions
(`!Join`, `!GetAtt`, `!FindInMap`, ...) are PTC004, both sides of an `!If` are read. App Runner
images are reported, never rewritten (its `ImageRepositoryType` and access role change too);
a Lambda image must be in ECR when the function is created (`warm` first).
https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/intrinsic-function-reference.html
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator
from pathlib import Path

from migrate.context import STANDALONE, FileContext
from migrate.kinds import ci as _ci
from migrate.kinds.paths import in_helm_templates
from migrate.occurrence import Occurrence
from migrate.syntax import yaml as _yaml
from migrate.syntax.yaml import STR, Mapping, Node, Scalar, Sequence, fields, reference

NAME = "cloudformation"
# No naming convention (template.yaml is SAM's default): any YAML or JSON shaped as a template.
FILES = r"\.ya?ml$|\.json$"
_SUFFIXES = (".yaml", ".yml", ".json")
# A top-level `AWSTemplateFormatVersion`, or `Resources` with a resource of an AWS type; JSON's
# keys are quoted and need not start a line.
_VERSION = re.compile(r"""(?:^["']?|")AWSTemplateFormatVersion["']?[ \t]*:""", re.MULTILINE)
_RESOURCES = re.compile(r"""(?:^["']?|")Resources["']?[ \t]*:""", re.MULTILINE)
_TYPE = re.compile(r"""["']?Type["']?[ \t]*:[ \t]*["']?AWS::""")
_WORDS = "Image"
# A Helm values file or Compose file that mentions a template is still theirs.
DEFERS_TO_GENERIC = True
_PRIVATE_ECR = ".dkr.ecr."
_LAMBDA_NOTE = (
    "Lambda reads the image from the account's ECR when the function is created or updated: "
    "run `ecr-ptc warm` before deploying"
)
_APP_RUNNER_KEPT = (
    "App Runner pulls only from ECR or ECR Public by `ImageRepositoryType`; pointing it at the "
    "cache means `ImageRepositoryType: ECR` and an access role, changed by hand"
)


def by_name(path: Path) -> bool:
    return False


def claims(path: Path, text: str) -> bool:
    if not path.name.lower().endswith(_SUFFIXES) or in_helm_templates(path):
        return False
    # The words first: a pattern that may start at any line start is tried at every offset
    # of every YAML and JSON file, and most never say these words.
    if "AWSTemplateFormatVersion" in text and _VERSION.search(text):
        return True
    return (
        "AWS::" in text
        and "Resources" in text
        and _RESOURCES.search(text) is not None
        and _TYPE.search(text) is not None
    )


def scan(text: str, context: FileContext = STANDALONE) -> Iterator[Occurrence]:
    if not context.named and _WORDS not in text:
        return
    if text.lstrip("\ufeff \t\r\n").startswith("{"):
        from migrate.syntax import jsonc as _jsonc  # JSON: one document, escapes kept apart

        docs = [_jsonc.document(text)]
    else:
        docs = _yaml.documents(text, context.parsing)
    found: list[Occurrence | None] = []
    for doc in docs:
        if isinstance(doc, Mapping):
            found.extend(_Template(text, fields(doc)).images())
    yield from _ci.once(found)


class _Template:
    def __init__(self, text: str, top: dict[str, Node]) -> None:
        self.text = text
        self.top = top
        parameters = top.get("Parameters")
        self.parameters = {
            name: fields(value)
            for name, value in (
                fields(parameters).items() if isinstance(parameters, Mapping) else ()
            )
            if isinstance(value, Mapping)
        }

    def images(self) -> Iterator[Occurrence | None]:
        resources = self.top.get("Resources")
        if not isinstance(resources, Mapping):
            return
        for resource in fields(resources).values():
            if not isinstance(resource, Mapping):
                continue
            keys = fields(resource)
            kind = _literal(keys.get("Type"))
            properties = keys.get("Properties")
            if kind is None or not isinstance(properties, Mapping):
                continue
            for node in _fields_of(kind, properties, self.text):
                for occ in self.image(node):
                    if kind in ("AWS::Lambda::Function", "AWS::Serverless::Function"):
                        occ = dataclasses.replace(occ, note=_LAMBDA_NOTE)
                    elif kind == "AWS::AppRunner::Service":
                        occ = dataclasses.replace(occ, parts=(), kept=_APP_RUNNER_KEPT)
                    yield occ

    def image(self, node: Node) -> Iterator[Occurrence]:
        """The occurrences of one image value: a literal, a `!Sub`, a `!Ref` to a parameter's
        default, both branches of an `!If`; any other function is PTC004."""
        function, argument = _function(node, self.text)
        if function is None:
            if isinstance(node, Scalar) and node.tag == STR and node.value.strip():
                yield reference("image", node)
            return
        if function == "Fn::If" and isinstance(argument, Sequence) and len(argument.items) == 3:
            for branch in argument.items[1:]:
                yield from self.image(branch)
            return
        if function == "Fn::Sub":
            if isinstance(argument, Sequence) and argument.items:
                argument = argument.items[0]  # [string, {variables}]: the variables stay
            if isinstance(argument, Scalar):
                whole = _ci.variable(argument.value)
                if whole is not None and whole in self.parameters:  # `!Sub '${AppImage}'`
                    yield from self.parameter(argument, whole)
                else:
                    yield from _sub(argument)
            return
        if function == "Ref" and isinstance(argument, Scalar):
            yield from self.parameter(argument, argument.value)
            return
        if any(_PRIVATE_ECR in s.value for s in _strings(argument)):
            return  # a `!Join` of the account's registry host and a repository
        yield self.function(node, function)

    def parameter(self, node: Scalar, name: str) -> Iterator[Occurrence]:
        """What `!Ref name` (at `node`) reads: a parameter's default, where it is rewritten."""
        keys = self.parameters.get(name)
        if keys is None:
            why = "pseudo parameter" if name.startswith("AWS::") else "resource attribute"
            yield _yaml.unresolved("image", f"!Ref {name}", node, f"set by CloudFormation ({why})")
            return
        default = keys.get("Default")
        kind = _literal(keys.get("Type")) or ""
        if not isinstance(default, Scalar) or default.tag != STR or not default.value.strip():
            yield _yaml.unresolved("image", f"!Ref {name}", node, "parameter without a default")
        elif kind.startswith("AWS::SSM::"):
            yield _yaml.unresolved("image", default.value, default, "SSM parameter, read at deploy")
        else:
            yield reference("parameter", default)

    def function(self, node: Node, function: str) -> Occurrence:
        written = " ".join(self.text[node.start : node.end].split())
        return Occurrence(
            "image", written, (), node.start, node.end, f"set by CloudFormation {function}"
        )


def _sub(value: Scalar) -> Iterator[Occurrence]:
    """A `!Sub` string: a reference where only its tag is a variable; one whose name holds a
    variable is the account's own ECR (`${AWS::AccountId}.dkr.ecr...`, not a finding) or PTC004.
    A rewritten name is concrete, so the re-scan finds it again."""
    if "${!" in value.value:  # `${!Literal}` is written out as `${Literal}`: not the text
        yield _yaml.unresolved("image", value.value, value, "literal ${! in !Sub")
    elif _yaml.templated(value.value) is None or _PRIVATE_ECR not in value.value:
        yield reference("image", value)


def _fields_of(kind: str, properties: Mapping, text: str) -> Iterator[Node]:
    """The image values of one resource's properties, by its type."""
    props = fields(properties)
    if kind == "AWS::ECS::TaskDefinition":
        for container in _items(props.get("ContainerDefinitions"), text):
            yield from _get(container, "Image")
    elif kind == "AWS::Batch::JobDefinition":
        yield from _get(props.get("ContainerProperties"), "Image")
        for node in _items(_field(props.get("NodeProperties"), "NodeRangeProperties"), text):
            yield from _get(_field(node, "Container"), "Image")
        for task in _items(_field(props.get("EcsProperties"), "TaskProperties"), text):
            for container in _items(_field(task, "Containers"), text):
                yield from _get(container, "Image")
        pod = _field(props.get("EksProperties"), "PodProperties")
        for key in ("InitContainers", "Containers"):
            for container in _items(_field(pod, key), text):
                yield from _get(container, "Image")
    elif kind == "AWS::Lambda::Function":
        yield from _get(props.get("Code"), "ImageUri")
    elif kind == "AWS::Serverless::Function":
        yield from _get(properties, "ImageUri")
    elif kind == "AWS::AppRunner::Service":
        repository = _field(_field(props.get("SourceConfiguration"), "ImageRepository"), None)
        yield from _get(repository, "ImageIdentifier")


def _field(node: Node | None, key: str | None) -> Node | None:
    if key is None:
        return node
    return fields(node).get(key) if isinstance(node, Mapping) else None


def _get(node: Node | None, key: str) -> Iterator[Node]:
    value = _field(node, key)
    if value is not None:
        yield value


def _items(node: Node | None, text: str) -> Iterator[Node]:
    """A list's entries, those an `!If` adds on either side included (`!Ref AWS::NoValue`
    drops one: not a mapping, skipped by the callers)."""
    if isinstance(node, Sequence) and _function(node, text)[0] is None:
        for item in node.items:
            function, argument = _function(item, text)
            if function == "Fn::If" and isinstance(argument, Sequence):
                yield from argument.items[1:]
            else:
                yield item


def _function(node: Node, text: str) -> tuple[str | None, Node | None]:
    """An intrinsic function and its argument: a short tag (`!Sub x`; the tree keeps tags on
    scalars, the text shows them on collections) or a one-key `{"Fn::Sub": x}` / `{"Ref": x}`."""
    if isinstance(node, Scalar):
        if node.tag.startswith("!"):
            return _long(node.tag[1:]), node
        return None, None
    if text.startswith("!", node.start):
        match = re.match(r"!([A-Za-z:]+)", text[node.start : node.start + 40])
        return (_long(match[1]) if match else "!"), node
    if isinstance(node, Mapping) and len(node.flat) == 2:
        key = node.flat[0]
        if isinstance(key, Scalar) and (key.value == "Ref" or key.value.startswith("Fn::")):
            return key.value, node.flat[1]
    return None, None


def _long(short: str) -> str:
    return short if short == "Ref" or short.startswith("Fn::") else f"Fn::{short}"


def _literal(node: Node | None) -> str | None:
    return node.value if isinstance(node, Scalar) and node.tag == STR else None


def _strings(node: Node | None) -> Iterator[Scalar]:
    if isinstance(node, Scalar):
        yield node
    elif isinstance(node, Mapping):
        for item in node.flat:
            yield from _strings(item)
    elif isinstance(node, Sequence):
        for item in node.items:
            yield from _strings(item)
