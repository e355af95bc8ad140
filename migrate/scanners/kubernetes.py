"""Kubernetes manifests: every `image:` string at any depth, in every document.

That covers all workload kinds, `List` items and CRDs that call the key `image` (Argo
Workflows, Tekton, Prometheus Operator), plus image volumes: `volumes[].image.reference`
(https://kubernetes.io/docs/concepts/storage/volumes/#image).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

from migrate.context import STANDALONE, FileContext
from migrate.occurrence import Occurrence
from migrate.scanners import _prefilter, _yaml
from migrate.scanners._paths import YAML_SUFFIXES, in_helm_templates
from migrate.scanners._yaml import Mapping, Scalar, fields, reference, string

NAME = "kubernetes"
# No naming convention: any YAML whose documents have a top-level apiVersion and kind.
FILES = r"\.ya?ml$"

# Top-level keys start a line; a manifest inside a block scalar (indented) does not count.
_API_VERSION = re.compile(r"""^["']?apiVersion["']?[ \t]*:""", re.MULTILINE)
_KIND = re.compile(r"""^["']?kind["']?[ \t]*:""", re.MULTILINE)
_WORDS = re.compile("image")


def by_name(path: Path) -> bool:
    return False


def claims(path: Path, text: str) -> bool:
    if not path.name.lower().endswith(YAML_SUFFIXES) or in_helm_templates(path):
        return False
    if "templates" in path.parts[:-1] and "{{" in text:
        return False  # a chart's templates whose Chart.yaml is not in view: Go, not YAML
    return bool(_API_VERSION.search(text) and _KIND.search(text))


def scan(text: str, context: FileContext = STANDALONE) -> Iterator[Occurrence]:
    # More than the word: CRD schemas name `image` as a property hundreds of times, with
    # mapping values that hold no image (`_prefilter`); such files are not composed at all.
    if not _yaml.mentions(text, _WORDS, context):
        return
    if not _prefilter.may_hold(text, "image", ("reference",), context.parsing):
        return
    yield from sorted(_images(text, context), key=lambda occ: occ.at)  # walk order != text order


def _images(text: str, context: FileContext) -> Iterator[Occurrence]:
    # the CRDs of a bundle are skipped
    docs = _prefilter.documents(text, "image", ("reference",), context.parsing)
    built = {id(m) for doc in docs for m in _skaffold_artifacts(doc)}
    seen: set[int] = set()  # one scalar aliased under two `image:` keys is one reference
    for node in _yaml.mappings(docs):
        if id(node) in built:
            continue
        for key, value in node.pairs:
            if not (isinstance(key, Scalar) and key.value == "image"):
                continue
            found = string(value)
            if found is None and isinstance(value, Mapping):
                found = string(fields(value).get("reference"))  # an image volume
            if found is not None and id(found) not in seen:
                seen.add(id(found))
                yield reference("image", found)


def _skaffold_artifacts(doc: _yaml.Node | None) -> Iterator[Mapping]:
    """Skaffold's `build.artifacts[].image` names an image it builds, like Compose's `build:`;
    it is never pulled. https://skaffold.dev/docs/references/yaml/#build-artifacts"""
    if not isinstance(doc, Mapping):
        return
    keys = fields(doc)
    api = string(keys.get("apiVersion"))
    if api is None or not api.value.startswith("skaffold/"):
        return
    profiles = keys.get("profiles")
    configs = [keys, *(fields(p) for p in getattr(profiles, "items", ()) if isinstance(p, Mapping))]
    for config in configs:
        build = config.get("build")
        artifacts = fields(build).get("artifacts") if isinstance(build, Mapping) else None
        for artifact in getattr(artifacts, "items", ()):
            if isinstance(artifact, Mapping):
                yield artifact
