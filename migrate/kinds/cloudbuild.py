"""Google Cloud Build: each step's `name:` is the image the step runs in.

`images:` lists what the build pushes; a step that runs one of them (built by an earlier step)
is never rewritten. A step name that is one user substitution (`$_BUILDER`, `${_BUILDER}`) is
found where `substitutions:` gives it its default; built-in substitutions (`$PROJECT_ID`) are
set by Cloud Build (PTC004). https://cloud.google.com/build/docs/build-config-file-schema
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from migrate.context import STANDALONE, FileContext
from migrate.kinds import ci as _ci
from migrate.kinds.paths import in_helm_templates
from migrate.occurrence import Occurrence
from migrate.syntax.yaml import Mapping, Node, Scalar, fields, string

NAME = "cloudbuild"
# Renovate's cloudbuild manager matches `cloudbuild.ya?ml` (lib/modules/manager/cloudbuild/
# index.ts, 39.x); `cloudbuild-*.yaml` and `cloudbuild.prod.yaml` are as common.
FILES = r"(?:^|/)cloudbuild[^/]*\.ya?ml$"
_WORDS = "steps"


by_name = _ci.named(FILES)


def claims(path: Path, text: str) -> bool:
    return by_name(path) and not in_helm_templates(path)  # a chart's Go template, not YAML


def scan(text: str, context: FileContext = STANDALONE) -> Iterator[Occurrence]:
    found: list[Occurrence | None] = []
    for keys in _ci.top_mappings(text, _WORDS, context):
        pushed = {s.value for s in map(string, _ci.items(keys.get("images"))) if s}
        defaults = _substitutions(keys.get("substitutions"))
        for step in _ci.mapping_items(keys.get("steps")):
            name = string(step.get("name"))
            if name is None or name.value in pushed:
                continue
            variable = _ci.variable(name.value)
            if variable is not None and variable in defaults:
                if defaults[variable].value not in pushed:
                    found.append(_ci.image("substitution", defaults[variable]))
                continue
            found.append(_ci.image("step", name))
    yield from _ci.once(found)


def _substitutions(node: Node | None) -> dict[str, Scalar]:
    out: dict[str, Scalar] = {}
    if isinstance(node, Mapping):
        for key, value in fields(node).items():
            scalar = string(value)
            if scalar is not None:
                out[key] = scalar
    return out
