"""CircleCI: `docker:` images of jobs and executors (inline orbs too), through anchors and
`<<:` merges. `machine:` and `macos:` executors name VM images, never read.

An image that is one parameter is found where the parameter gets its value: `<< pipeline.
parameters.x >>` at the pipeline parameter's `default:`, `<< parameters.x >>` at the job's
parameter `default:` and in the workflow entries that invoke the job with that parameter
(`matrix:` lists too). A `docker:` entry's `auth:` or `aws_auth:` holds its credentials.
https://circleci.com/docs/configuration-reference/#docker
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

from migrate.context import STANDALONE, FileContext
from migrate.kinds import ci as _ci
from migrate.occurrence import Occurrence
from migrate.syntax import yaml as _yaml
from migrate.syntax.yaml import Mapping, Node, Scalar, Sequence, fields, string

NAME = "circleci"
# Renovate's circleci manager (lib/modules/manager/circleci/index.ts, 39.x).
FILES = r"(?:^|/)\.circleci/.+\.ya?ml$"
_WORDS = "docker"
_EXPRESSION = r"<<\s*[\w.-]+\s*>>"
_WHY = "CircleCI parameter: resolved when the pipeline runs"
_PARAMETER = r"^<<\s*(pipeline\.)?parameters\.([\w-]+)\s*>>$"

Found = list[Occurrence | None]


by_name = _ci.named(FILES)
# The pattern is a whole directory or a loose name: Compose, Helm values, Kustomize and
# Kubernetes files there are theirs (`registry.scanner_for`).
DEFERS_TO_GENERIC = True


def claims(path: Path, text: str) -> bool:
    return by_name(path)


def scan(text: str, context: FileContext = STANDALONE) -> Iterator[Occurrence]:
    if not _yaml.mentions(text, re.compile(_WORDS), context):
        return
    found: Found = []
    docs = _yaml.documents(text, context.parsing)
    for doc in docs:
        if not isinstance(doc, Mapping):
            continue
        keys = fields(doc)
        pipeline = _defaults(keys.get("parameters"))
        seen: set[int] = set()
        used: dict[str, set[str]] = {}  # job -> parameters that are its whole image
        _definitions(keys, pipeline, found, seen, used)
        found += _invocations(keys.get("workflows"), used)
        # `docker:` lists outside jobs and executors: anchors in `aliases:` or `_defaults:`
        for mapping in _yaml.mappings([doc]):
            for entry in _ci.mapping_items(mapping_docker(mapping)):
                if id(entry.get("image")) not in seen:
                    found += _image(entry, {}, pipeline, seen)
    yield from _ci.once(found)


def mapping_docker(mapping: Mapping) -> Node | None:
    return fields(mapping).get("docker")


def _definitions(
    keys: dict[str, Node],
    pipeline: dict[str, Scalar],
    found: Found,
    seen: set[int],
    used: dict[str, set[str]],
) -> None:
    for section in ("jobs", "executors"):
        jobs = keys.get(section)
        if not isinstance(jobs, Mapping):
            continue
        for name, body in fields(jobs).items():
            if not isinstance(body, Mapping):
                continue
            job = fields(body)
            own = _defaults(job.get("parameters"))
            for entry in _ci.mapping_items(job.get("docker")):
                found += _image(entry, own, pipeline, seen)
                image = string(entry.get("image"))
                match = re.match(_PARAMETER, image.value.strip()) if image else None
                if match and not match[1] and section == "jobs":
                    used.setdefault(name, set()).add(match[2])
    for orb in _ci.mapping_values(keys.get("orbs")):  # an inline orb: jobs and executors of its own
        _definitions(orb, pipeline, found, seen, used)


def _image(
    entry: dict[str, Node], own: dict[str, Scalar], pipeline: dict[str, Scalar], seen: set[int]
) -> Found:
    node = entry.get("image")
    seen.add(id(node))
    credentials = "auth" in entry or "aws_auth" in entry
    scalar = string(node)
    if scalar is None:
        return []
    match = re.match(_PARAMETER, scalar.value.strip())
    if match is None:
        return [_of("image", scalar, credentials)]
    table = pipeline if match[1] else own
    if match[2] in table:
        return [_of("parameter", table[match[2]], credentials)]
    return [_ci.unresolved("image", scalar, _WHY, credentials)]


def _of(kind: str, node: Node | None, credentials: bool | None = None) -> Occurrence | None:
    return _ci.image(kind, node, expression=_EXPRESSION, why=_WHY, credentials=credentials)


def _invocations(workflows: Node | None, used: dict[str, set[str]]) -> Found:
    """Workflow entries `- job: {image: cimg/node:20}` that set a job's image parameter."""
    found: Found = []
    for workflow in _ci.mapping_values(workflows):
        for entry in _ci.items(workflow.get("jobs")):
            if not isinstance(entry, Mapping):
                continue
            for key, arguments in entry.pairs:
                names = used.get(key.value, set()) if isinstance(key, Scalar) else set()
                if not names or not isinstance(arguments, Mapping):
                    continue
                given = fields(arguments)
                matrix = given.get("matrix")
                lists = _defaults_lists(matrix)
                for name in sorted(names):
                    found.append(_of("parameter", given.get(name)))
                    found += [_of("parameter", value) for value in lists.get(name, ())]
    return found


def _defaults(node: Node | None) -> dict[str, Scalar]:
    """`parameters: {name: {type: string, default: value}}`: the string defaults."""
    out: dict[str, Scalar] = {}
    for name, spec in fields(node).items() if isinstance(node, Mapping) else ():
        value = string(fields(spec).get("default")) if isinstance(spec, Mapping) else None
        if value is not None:
            out[name] = value
    return out


def _defaults_lists(matrix: Node | None) -> dict[str, list[Node]]:
    parameters = fields(matrix).get("parameters") if isinstance(matrix, Mapping) else None
    out: dict[str, list[Node]] = {}
    for name, values in fields(parameters).items() if isinstance(parameters, Mapping) else ():
        out[name] = list(values.items) if isinstance(values, Sequence) else [values]
    return out
