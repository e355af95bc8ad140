"""GitLab CI: `.gitlab-ci.yml`, and every file it includes locally (`migrate.facts.gitlab`).

`image:` (a string or `name:`) and `services:` (strings or `name:`) at the top, in `default:`
and in every job, hidden jobs (`.template:`) and anchors included. An image that is a whole
variable (`image: $BUILD_IMAGE`) is found where the variable is given a value: the job's
`variables:`, its `parallel: matrix:` lists, or top-level `variables:` of any file of the
pipeline. Predefined `$CI_*` variables and the Dependency Proxy prefix are resolved by GitLab
(PTC004). Remote, project, template and component includes are reported, not followed.
Jobs on GitLab-hosted macOS runners (`saas-macos-*` tags) name a VM image, not a container.
https://docs.gitlab.com/ci/yaml/#image https://docs.gitlab.com/ci/runners/hosted_runners/macos/
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

from migrate.context import STANDALONE, FileContext, Repo
from migrate.facts import gitlab as _gitlab
from migrate.kinds import ci as _ci
from migrate.occurrence import Occurrence
from migrate.syntax import yaml as _yaml
from migrate.syntax.yaml import Mapping, Node, Scalar, Sequence, fields, string

NAME = "gitlab-ci"
# Renovate's gitlabci manager (lib/modules/manager/gitlabci/index.ts, 39.x).
FILES = r"\.gitlab-ci\.ya?ml$"
_WORDS = "image|services|include|variables"
_PROXY = r"^\$\{?CI_DEPENDENCY_PROXY_(?:DIRECT_)?GROUP_IMAGE_PREFIX\}?/"
_VM_TAG = "saas-macos-"
_REMOTE_KEYS = ("remote", "project", "template", "component")


by_name = _ci.named(FILES)


def claims(path: Path, text: str) -> bool:
    return by_name(path)


def included(path: Path, repo: Repo) -> bool:
    """Included by the repository's `.gitlab-ci.yml`: a GitLab CI file whatever its name."""
    try:
        relative = path.relative_to(repo.root).as_posix()
    except ValueError:
        return False
    return relative in _gitlab.of(repo).files


def scan(text: str, context: FileContext = STANDALONE) -> Iterator[Occurrence]:
    if not _yaml.mentions(text, re.compile(_WORDS), context):
        return
    pipeline = _pipeline(context)
    found: list[Occurrence | None] = []
    for doc in _yaml.documents(text, context.parsing):
        if not isinstance(doc, Mapping):
            continue
        keys = fields(doc)
        top = _gitlab.variables(keys.get("variables"))
        defined = pipeline.defined | set(top)
        for name, job in [("", keys), *_gitlab.jobs(keys)]:
            if _on_vm(job):
                continue
            own = _gitlab.variables(job.get("variables")) if name else {}
            matrix = _matrix(job)
            nodes = [("image", _gitlab.image_node(job))]
            nodes += [("service", node) for node in _gitlab.service_nodes(job)]
            for kind, node in nodes:
                found += _image(kind, node, own, matrix, defined)
        used = pipeline.image_variables | set(_gitlab.image_variables(keys))
        found += [_reference("variable", scalar) for name, scalar in top.items() if name in used]
        found += _includes(keys.get("include"))
    yield from _ci.once(found)


def _pipeline(context: FileContext) -> _gitlab.Pipeline:
    if context.repo is None or context.path is None:
        return _gitlab.NONE
    pipeline = _gitlab.of(context.repo)
    return (
        pipeline if included(context.path, context.repo) or by_name(context.path) else _gitlab.NONE
    )


def _on_vm(job: dict[str, Node]) -> bool:
    tags = job.get("tags")
    return any(
        (s := string(tag)) is not None and s.value.startswith(_VM_TAG) for tag in _ci.items(tags)
    )


def _matrix(job: dict[str, Node]) -> dict[str, list[Scalar]]:
    """`parallel: matrix:` values per variable name (a value or a list of values)."""
    parallel = job.get("parallel")
    entries = fields(parallel).get("matrix") if isinstance(parallel, Mapping) else None
    out: dict[str, list[Scalar]] = {}
    for entry in _ci.mapping_items(entries):
        for name, value in entry.items():
            for node in value.items if isinstance(value, Sequence) else [value]:
                scalar = string(node)
                if scalar is not None:
                    out.setdefault(name, []).append(scalar)
    return out


def _image(
    kind: str,
    node: Node | None,
    own: dict[str, Scalar],
    matrix: dict[str, list[Scalar]],
    defined: set[str] | frozenset[str],
) -> list[Occurrence | None]:
    scalar = string(node)
    if scalar is None:
        return []
    name = _ci.variable(scalar.value)
    if name is None:
        return [_reference(kind, scalar)]
    values = [("variable", own[name])] if name in own else []
    values += [("matrix", value) for value in matrix.get(name, ())]
    if values:
        return [_reference(k, value) for k, value in values]
    if name in defined:
        return []  # found where the top-level `variables:` give it a value
    if name.startswith("CI_"):
        return [_ci.unresolved(kind, scalar, "GitLab predefined variable: set when the job runs")]
    return [_ci.unresolved(kind, scalar, "variable not given a value in the pipeline's files")]


def _reference(kind: str, scalar: Scalar) -> Occurrence | None:
    occ = _ci.image(kind, scalar)
    if occ is not None and occ.unresolved and re.match(_PROXY, scalar.value):
        return replace(occ, unresolved="pulled through the GitLab Dependency Proxy")
    if occ is not None and occ.unresolved and "$CI_" in scalar.value.replace("{", ""):
        return replace(occ, unresolved="GitLab predefined variable in the image name")
    return occ


def _includes(node: Node | None) -> Iterator[Occurrence]:
    """Includes from outside the repository: reported, since their images are not checked."""
    for entry in node.items if isinstance(node, Sequence) else [node]:
        target = string(entry)
        if target is not None and "://" in target.value:
            yield _ci.unresolved("include", target, "remote include: not followed")
            continue
        keys = fields(entry) if isinstance(entry, Mapping) else {}
        for key in _REMOTE_KEYS:
            target = string(keys.get(key))
            if target is not None:
                yield _ci.unresolved("include", target, f"{key} include: not followed")
