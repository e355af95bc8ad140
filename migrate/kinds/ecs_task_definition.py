"""ECS task definitions (JSON): each `containerDefinitions[].image`, at the top level (what
`aws ecs register-task-definition --cli-input-json` reads) or under `taskDefinition` (what
`describe-task-definition` writes). Recognised by content, whatever the file's name; and the
files a Terraform module reads as `container_definitions` through `file()` or `templatefile()`
(a list of container definitions, `${...}` placeholders left alone:
`migrate.facts.terraform_files`). An image string with JSON escapes (`\\/`, `\\u002f`) is reported, never
rewritten.
https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task_definition_parameters.html#container_definition_image
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

from migrate.context import STANDALONE, FileContext, Repo
from migrate.occurrence import Occurrence, ScanError
from migrate.syntax.yaml import Mapping, Node, Sequence, fields, reference, string

NAME = "ecs-task-definition"
# No naming convention: any JSON file whose top-level object holds container definitions, and
# the templates Terraform's `templatefile()` reads them from (`.tftpl` is its convention).
FILES = r"\.json$|\.json\.tpl$|\.tftpl$"
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


def included(path: Path, repo: Repo) -> bool:
    """A file a Terraform module reads as container definitions (`file()`, `templatefile()`)."""
    # Asked of every file no kind claims: only a name of this kind makes the .tf files worth
    # reading (the fact reads every one of the repository's).
    if re.search(FILES, path.name) is None:
        return False
    from migrate.facts import terraform_files

    try:
        relative = path.relative_to(repo.root).as_posix()
    except ValueError:
        return False
    return relative in terraform_files.of(repo)


def scan(text: str, context: FileContext = STANDALONE) -> Iterator[Occurrence]:
    listed = (
        context.repo is not None
        and context.path is not None
        and included(context.path, context.repo)
    )
    if _WORD not in text and not context.named and not listed:
        return
    from migrate.syntax import jsonc as _jsonc

    doc = _jsonc.document(_placeholders_masked(text) if listed else text)
    found = []
    for container in _containers(doc, listed):
        image = string(fields(container).get("image"))
        if image is not None:
            found.append(reference("image", image))
    yield from sorted(found, key=lambda occ: occ.at)


def _containers(doc: Node, listed: bool = False) -> list[Mapping]:
    """The container definitions of a task definition in either shape, else none; of a file
    Terraform reads as them, also a bare list of them or one Batch `container_properties`."""
    if listed and isinstance(doc, Sequence):
        return [item for item in doc.items if isinstance(item, Mapping)]
    if listed and isinstance(doc, Mapping) and "image" in fields(doc):
        return [doc]
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


_PLACEHOLDER = re.compile(r"\$\{[^{}\n]*\}")


def _placeholders_masked(text: str) -> str:
    """`templatefile()` input as JSON: each `${...}` outside a string (`"cpu": ${cpu}`) becomes
    a number of the same length, so every span stays where it was; inside a string it stays,
    and an image holding one is judged as any `${VAR}` is (a variable only in the tag is
    rewritten around)."""
    out = []
    at = 0
    in_string = False
    index = 0
    while index < len(text):
        char = text[index]
        if in_string:
            if char == "\\":
                index += 2
                continue
            if char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char == "$":
            placeholder = _PLACEHOLDER.match(text, index)
            if placeholder is not None:
                out.append(text[at:index])
                out.append("1" + "0" * (len(placeholder[0]) - 1))
                at = index = placeholder.end()
                continue
        index += 1
    out.append(text[at:])
    return "".join(out)
