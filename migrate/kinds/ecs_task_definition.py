"""ECS task definitions (JSON): each `containerDefinitions[].image`, at the top level (what
`aws ecs register-task-definition --cli-input-json` reads) or under `taskDefinition` (what
`describe-task-definition` writes). Recognised by content, whatever the file's name. An image
string with JSON escapes (`\\/`, `\\u002f`) is reported, never rewritten.
https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task_definition_parameters.html#container_definition_image
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from migrate.context import STANDALONE, FileContext
from migrate.occurrence import Occurrence, ScanError
from migrate.syntax.yaml import Mapping, Node, Sequence, fields, reference, string

NAME = "ecs-task-definition"
# No naming convention: any JSON file whose top-level object holds container definitions.
FILES = r"\.json$"
_WORD = '"containerDefinitions"'


def by_name(path: Path) -> bool:
    return False


def claims(path: Path, text: str) -> bool:
    # The substring test first: every JSON file of a repository is asked, few name the key.
    if _WORD not in text or not path.name.lower().endswith(".json"):
        return False
    from migrate.syntax import jsonc as _jsonc  # only for a file that names the key

    try:
        doc = _jsonc.document(text)
    except ScanError:
        return text.lstrip().startswith("{")  # meant as one: its parse error is reported
    return bool(_containers(doc))


def scan(text: str, context: FileContext = STANDALONE) -> Iterator[Occurrence]:
    if _WORD not in text and not context.named:
        return
    from migrate.syntax import jsonc as _jsonc

    found = []
    for container in _containers(_jsonc.document(text)):
        image = string(fields(container).get("image"))
        if image is not None:
            found.append(reference("image", image))
    yield from sorted(found, key=lambda occ: occ.at)


def _containers(doc: Node) -> list[Mapping]:
    """The container definitions of a task definition in either shape, else none."""
    if not isinstance(doc, Mapping):
        return []
    top = fields(doc)
    nested = top.get("taskDefinition")
    definitions = top.get("containerDefinitions")
    if definitions is None and isinstance(nested, Mapping):
        definitions = fields(nested).get("containerDefinitions")
    if not isinstance(definitions, Sequence):
        return []
    return [item for item in definitions.items if isinstance(item, Mapping)]


def execution_role(text: str) -> str | None:
    """The task definition's `executionRoleArn`, in either shape: the role ECS pulls its images
    with (`rules check --puller task.json`).
    https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task_execution_IAM_role.html"""
    from migrate.syntax import jsonc as _jsonc

    doc = _jsonc.document(text)
    if not isinstance(doc, Mapping):
        return None
    top = fields(doc)
    nested = top.get("taskDefinition")
    keys = fields(nested) if "executionRoleArn" not in top and isinstance(nested, Mapping) else top
    role = string(keys.get("executionRoleArn"))
    return role.value if role is not None else None
