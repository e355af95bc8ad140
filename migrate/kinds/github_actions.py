"""GitHub Actions workflows and actions: the images a job runs in and beside.

`jobs.<id>.container` (a string or `image:`), `jobs.<id>.services.<id>.image`, steps that use
`docker://IMAGE`, and in an action's `action.yml` `runs.image: docker://IMAGE` (a Docker
container action) and its composite steps. `${{ matrix.x }}` is followed to the job's
`strategy.matrix` values (and `include:` entries) written in the file; any other `${{ }}`
expression is resolved by GitHub at run time (PTC004). `docker://` images are pulled while the
job is set up, before any step can log in: they carry `before_login`, and are kept (PTC015)
unless the config says the runners pull from ECR on their own.
https://docs.github.com/en/actions/writing-workflows/workflow-syntax-for-github-actions#jobsjob_idcontainer
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

from migrate.context import STANDALONE, FileContext
from migrate.kinds import ci as _ci
from migrate.kinds.paths import in_helm_templates
from migrate.occurrence import Occurrence
from migrate.syntax.yaml import Mapping, Node, Scalar, Sequence, fields, string

NAME = "github-actions"
# Renovate's github-actions manager (lib/modules/manager/github-actions/index.ts, 39.x).
FILES = (
    r"(?:^|/)(?:workflow-templates|\.(?:github|gitea|forgejo)/(?:workflows|actions))/.+\.ya?ml$"
    r"|(?:^|/)action\.ya?ml$"
)
_WORDS = "container|services|docker://"
_EXPRESSION = r"\$\{\{"
_WHY = "GitHub Actions expression: resolved at run time"
_MATRIX = r"^\$\{\{\s*matrix\.([\w-]+(?:\.[\w-]+)*)\s*\}\}$"
DOCKER = "docker://"
_ACTION_PULL = (
    "GitHub pulls a Docker container action's image while it sets up the job of each workflow "
    "that uses the action, before any step can log in, on runners that may not be yours (set "
    "ci.github-runners-have-ecr-credential-helper in .ecr-ptc.yaml if every runner that uses it "
    "pulls from ECR on its own)"
)
# https://docs.github.com/en/actions/writing-workflows/workflow-syntax-for-github-actions#example-using-a-docker-hub-action
_SETUP_PULL = (
    "GitHub pulls a `docker://` step's image while it sets up the job, before any step can log "
    "in, and the step has no credentials field (set ci.github-runners-have-ecr-credential-helper "
    "in .ecr-ptc.yaml if your runners pull from ECR on their own)"
)


by_name = _ci.named(FILES)


def claims(path: Path, text: str) -> bool:
    return by_name(path) and not in_helm_templates(path)  # a chart's Go template, not YAML


def scan(text: str, context: FileContext = STANDALONE) -> Iterator[Occurrence]:
    found: list[Occurrence | None] = []
    for top in _ci.top_mappings(text, _WORDS, context):
        for job in _ci.mapping_values(top.get("jobs")):
            found += _job(job)
        runs = top.get("runs")
        if isinstance(runs, Mapping):
            action = fields(runs)
            image = _ci.image("docker-action", action.get("image"), prefix=DOCKER)
            found.append(image and replace(image, before_login=_ACTION_PULL))
            found += _steps(action.get("steps"))
    yield from _ci.once(found)


def _job(job: dict[str, Node]) -> Iterator[Occurrence | None]:
    container = job.get("container")
    has_credentials = isinstance(container, Mapping) and "credentials" in fields(container)
    yield from _image("container", _ci.image_or_name(container, "image"), job, has_credentials)
    for name, service in _services(job.get("services")):
        has_credentials = isinstance(service, Mapping) and "credentials" in fields(service)
        yield from _image("service", _ci.image_or_name(service, "image"), job, has_credentials)
    yield from _steps(job.get("steps"))


def _services(node: Node | None) -> Iterator[tuple[Node, Node]]:
    if isinstance(node, Mapping):
        yield from node.pairs


def _steps(node: Node | None) -> Iterator[Occurrence | None]:
    for step in _ci.mapping_items(node):
        found = _ci.image(
            "docker-step", step.get("uses"), prefix=DOCKER, expression=_EXPRESSION, why=_WHY
        )
        yield found and replace(found, before_login=_SETUP_PULL)


def _image(
    kind: str, node: Node | None, job: dict[str, Node], credentials: bool
) -> Iterator[Occurrence | None]:
    scalar = string(node)
    if scalar is None:
        return
    match = re.match(_MATRIX, scalar.value.strip())
    if match is None:
        yield _ci.image(kind, scalar, expression=_EXPRESSION, why=_WHY, credentials=credentials)
        return
    values = _matrix(job, match[1].split("."))
    if values is None:
        yield _ci.unresolved(kind, scalar, "matrix value not written in this file", credentials)
        return
    for value in values:
        yield _ci.image("matrix", value, expression=_EXPRESSION, why=_WHY, credentials=credentials)


def _matrix(job: dict[str, Node], path: list[str]) -> list[Scalar] | None:
    """The strings at `matrix.<path>` over every combination written in the file: the values
    listed under the first key, and those `include:` entries add. None when the matrix (or a
    part of it) is itself an expression (`${{ fromJSON(...) }}`)."""
    strategy = job.get("strategy")
    matrix = fields(strategy).get("matrix") if isinstance(strategy, Mapping) else None
    if not isinstance(matrix, Mapping):
        return None
    keys = fields(matrix)
    first, rest = path[0], path[1:]
    roots: list[Node] = []
    listed = keys.get(first)
    if isinstance(listed, Sequence):
        roots += listed.items
    elif listed is not None:
        return None  # `key: ${{ fromJSON(...) }}`
    include = keys.get("include")
    if include is not None and not isinstance(include, Sequence):
        return None
    roots += [entry[first] for entry in _ci.mapping_items(include) if first in entry]
    found: list[Scalar] = []
    for root in roots:
        node: Node | None = root
        for key in rest:
            node = fields(node).get(key) if isinstance(node, Mapping) else None
        value = string(node)
        if value is not None:
            found.append(value)
    return found or None
