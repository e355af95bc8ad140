"""Helm values files: `image`-like string values and image maps (`repository` + `tag`, ...).

Values are data, not templates, but the chart's templates decide how a map becomes a reference;
the common shapes are `{{ registry }}/{{ repository }}:{{ tag }}` (Bitnami, with
`global.imageRegistry` overriding every registry) and `{{ repository }}:{{ tag }}`.
https://github.com/bitnami/charts/blob/main/bitnami/common/templates/_images.tpl
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

from migrate.context import STANDALONE, FileContext
from migrate.occurrence import Occurrence, Part
from migrate.scanners import _yaml
from migrate.scanners._paths import YAML_SUFFIXES, in_helm_templates
from migrate.scanners._yaml import Mapping, Node, Scalar, fields, reference, string, unresolved

NAME = "helm"
# Values files by name anywhere, and any YAML beside a Chart.yaml (`is_values`).
FILES = r"\.ya?ml$"

# values.yaml, values-prod.yaml, prod.values.yaml, and the close cousins values.prod.yaml,
# prod-values.yaml, values_prod.yaml that charts and CI setups use just as often.
_VALUES = re.compile(r"^(?:.*[._-])?values(?:[._-].*)?\.ya?ml$")
_CHART_FILES = frozenset({"chart.yaml", "chart.lock", "requirements.yaml", "requirements.lock"})
_MAP_KEYS = ("tag", "digest", "registry", "pullPolicy")
_WORDS = re.compile("image|repository", re.IGNORECASE)
_GLOBAL = "global.imageRegistry overrides the registry in templates"


def is_values(path: Path) -> bool:
    name = path.name.lower()
    if not name.endswith(YAML_SUFFIXES) or name in _CHART_FILES:
        return False
    return bool(_VALUES.match(name)) or (path.parent / "Chart.yaml").is_file()


def by_name(path: Path) -> bool:
    return is_values(path) and not in_helm_templates(path)


def claims(path: Path, text: str) -> bool:
    return by_name(path)


def scan(text: str, context: FileContext = STANDALONE) -> Iterator[Occurrence]:
    if not _yaml.mentions(text, _WORDS, context):
        return
    for doc in _yaml.documents(text, context.parsing):
        yield from sorted(_document(doc), key=lambda occ: occ.at)  # walk order is not text order


def _document(doc: Node | None) -> Iterator[Occurrence]:
    override = _global_registry(doc)
    if override is not None:
        yield unresolved("image-registry", override.value, override, _GLOBAL)
    seen: set[int] = set()  # a map merged into another (`<<: *img`) shares its scalars
    for node in _yaml.mappings([doc]):
        keys = fields(node)
        repository = string(keys.get("repository"))
        if repository is not None and any(k in keys for k in _MAP_KEYS):
            if id(repository) not in seen and _looks_like_image(repository.value):
                seen.add(id(repository))
                yield _image_map(keys, repository, override is not None)
            continue
        for key, value in node.pairs:
            if not (isinstance(key, Scalar) and key.value.endswith(("image", "Image"))):
                continue
            found = string(value)
            if found is not None and id(found) not in seen:
                seen.add(id(found))
                yield reference("image", found)


def _global_registry(doc: Node | None) -> Scalar | None:
    """A non-empty `global.imageRegistry`: Bitnami-style templates put it before every image."""
    top = fields(doc).get("global") if isinstance(doc, Mapping) else None
    return string(fields(top).get("imageRegistry")) if isinstance(top, Mapping) else None


def _looks_like_image(value: str) -> bool:
    return "://" not in value and not any(c.isspace() for c in value)  # not a git or chart repo


def _image_map(keys: dict[str, Node], repository: Scalar, overridden: bool) -> Occurrence:
    kind = "image-map"
    suffix = _yaml.tag_suffix(keys.get("tag"), keys.get("digest"))
    path = repository.value
    inline_tag = "@" in path or ":" in path and "/" not in path.rpartition(":")[2]
    if "registry" not in keys:
        if overridden:
            return unresolved(kind, path + suffix, repository, _GLOBAL)
        if inline_tag:  # `repository: nginx:1.27`: the tag key cannot be appended as well
            return reference(kind, repository, "ref")
        # A full reference (`quay.io/prometheus/prometheus`) or a Docker Hub path: the name.
        return reference(kind, repository, "name", written=path + suffix)
    registry = string(keys["registry"])
    if registry is None:
        return unresolved(kind, path + suffix, repository, "empty registry: templates decide")
    written = f"{registry.value}/{path}{suffix}"
    if overridden:
        return unresolved(kind, written, repository, _GLOBAL)
    reason = (
        registry.refused
        or repository.refused
        or _yaml.templated(registry.value, tag_allowed=False)
        or _yaml.templated(path, tag_allowed=False)
    )
    if inline_tag:
        reason = reason or "tag inside repository"
    if reason or registry.span is None or repository.span is None:
        return unresolved(kind, written, repository, reason or _yaml.ESCAPED)
    parts = (Part("registry", *registry.span), Part("path", *repository.span))
    return Occurrence(kind, written, parts, *repository.span)
