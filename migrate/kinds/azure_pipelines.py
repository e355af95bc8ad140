"""Azure Pipelines: `resources.containers[].image`, and `container:` of the pipeline, a stage's
jobs or a deployment (a string or a mapping with `image:`). A `container:` naming a resource's
alias is that resource, reported once there. A container that is one variable (`$(image)`,
`$[ variables.image ]`, `${{ variables.image }}`) is found at the value the file's `variables:`
give it; other expressions and template parameters are resolved by Azure (PTC004).
`pool.vmImage` names a VM image and is never read. A container's `endpoint:` (a Docker
registry service connection) holds its credentials.
https://learn.microsoft.com/azure/devops/pipelines/process/container-phases
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

from migrate.context import STANDALONE, FileContext
from migrate.kinds import ci as _ci
from migrate.occurrence import Occurrence
from migrate.syntax import yaml as _yaml
from migrate.syntax.yaml import Mapping, Node, Scalar, fields, string

NAME = "azure-pipelines"
# Renovate's azure-pipelines manager (lib/modules/manager/azure-pipelines/index.ts, 39.x).
FILES = r"(?:^|/)\.azuredevops/.+\.ya?ml$|azure.*pipelines?.*\.ya?ml$"
_WORDS = "container"
_PIPELINE_KEYS = (
    "trigger", "pr", "pool", "stages", "jobs", "steps", "resources", "extends", "parameters",
    "variables", "container", "services", "schedules",
)  # fmt: skip
# Where a `container:` key names the job's container (not a step target or a task input).
_JOB_KEYS = frozenset({"job", "deployment", "steps", "pool", "strategy", "stages", "jobs"})
_EXPRESSION = r"\$\(|\$\[|\$\{\{"
_WHY = "Azure Pipelines expression: resolved when the pipeline runs"
_VARIABLE = r"^(?:\$\(\s*([\w.-]+)\s*\)|\$\[\s*variables\.([\w.-]+)\s*\]|\$\{\{\s*variables\.([\w.-]+)\s*\}\})$"


by_name = _ci.named(FILES)
# The pattern is a whole directory or a loose name: Compose, Helm values, Kustomize and
# Kubernetes files there are theirs (`registry.scanner_for`).
DEFERS_TO_GENERIC = True


def claims(path: Path, text: str) -> bool:
    return by_name(path) and _ci.top_level(text, _PIPELINE_KEYS)


def scan(text: str, context: FileContext = STANDALONE) -> Iterator[Occurrence]:
    if not _yaml.mentions(text, re.compile(_WORDS), context):
        return
    found: list[Occurrence | None] = []
    for doc in _yaml.documents(text, context.parsing):
        if not isinstance(doc, Mapping):
            continue
        keys = fields(doc)
        variables = _variables(keys.get("variables"))
        resources = keys.get("resources")
        entries = fields(resources).get("containers") if isinstance(resources, Mapping) else None
        aliases: set[str] = set()
        for entry in _ci.mapping_items(entries):
            alias = string(entry.get("container"))
            aliases.update([alias.value] if alias else [])
            found += _image("resource", entry.get("image"), variables, "endpoint" in entry)
        for mapping in _yaml.mappings([doc]):
            own = fields(mapping)
            container = own.get("container")
            if container is None or not (mapping is doc or _JOB_KEYS.intersection(own)):
                continue
            if isinstance(container, Mapping):
                inline = fields(container)
                found += _image("container", inline.get("image"), variables, "endpoint" in inline)
            elif (alias := string(container)) is not None and alias.value not in aliases:
                found += _image("container", alias, variables, False)
    yield from _ci.once(found)


def _image(
    kind: str, node: Node | None, variables: dict[str, Scalar], credentials: bool
) -> list[Occurrence | None]:
    scalar = string(node)
    if scalar is None:
        return []
    match = re.match(_VARIABLE, scalar.value.strip())
    name = next((g for g in match.groups() if g), None) if match else None
    if name is not None and name in variables:
        kind, scalar = "variable", variables[name]
    return [_ci.image(kind, scalar, expression=_EXPRESSION, why=_WHY, credentials=credentials)]


def _variables(node: Node | None) -> dict[str, Scalar]:
    """`variables: {name: value}` or `variables: [{name: x, value: y}, {group: g}, ...]`."""
    out: dict[str, Scalar] = {}
    if isinstance(node, Mapping):
        for name, value in fields(node).items():
            scalar = string(value)
            if scalar is not None:
                out[name] = scalar
    for entry in _ci.mapping_items(node):
        key, given = string(entry.get("name")), string(entry.get("value"))
        if key is not None and given is not None:
            out[key.value] = given
    return out
