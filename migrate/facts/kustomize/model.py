"""One kustomization file as data: what it reads and the image overrides it applies.

Fields as kustomize v5 reads them (https://kubectl.docs.kubernetes.io/references/kustomize/kustomization/):
`resources` (and the deprecated `bases`) are files or directories, `components` directories,
`patches` / `patchesJson6902` entries a `path` or an inline `patch`, `patchesStrategicMerge`
entries a path or an inline document; remote targets are URLs or git forms.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from migrate.context import STANDALONE, Parsing
from migrate.syntax import yaml as _yaml
from migrate.syntax.yaml import Mapping, Node, Scalar, Sequence, fields, string, text_of

NAMES = ("kustomization.yaml", "kustomization.yml", "Kustomization")  # konfig's order
# Remote targets: URLs, git forms, `?ref=` query, or a host-like first component
# (`github.com/org/repo//path`). https://github.com/kubernetes-sigs/kustomize/blob/master/examples/remoteBuild.md
_REMOTE = re.compile(
    r"^(?:[a-z][a-z0-9+.-]*://|git@|git::|ssh:)|\?(?:ref|version|timeout|submodules)=",
    re.IGNORECASE,
)
_HOST_LIKE = re.compile(r"^[a-z0-9-]+(?:\.[a-z0-9-]+)+/", re.IGNORECASE)


@dataclass(frozen=True)
class Entry:
    """One `images[]` override."""

    index: int
    name: Scalar | None
    new_name: Scalar | None
    new_tag: Node | None
    digest: Node | None

    def apply(self, image: str) -> str:
        """The image as this override rewrites it (kustomize's image.Split + replace)."""
        name, tail = split(image)
        if self.new_name is not None:
            name = self.new_name.value
        tag, digest = text_of(self.new_tag), text_of(self.digest)
        if tag or digest:  # either replaces both the tag and the digest
            tail = (f":{tag}" if tag else "") + (f"@{digest}" if digest else "")
        return name + tail


@dataclass(frozen=True)
class Kustomization:
    component: bool
    resources: tuple[str, ...]  # as written, `resources` then `bases`
    components: tuple[str, ...]
    patch_paths: tuple[str, ...]
    inline_patches: tuple[Scalar, ...]
    entries: tuple[Entry, ...]
    generated: bool  # helmCharts: images from outside the repository
    # Every other path the build reads (generator files, replacements, openapi, crds,
    # configurations, generators, transformers, validators), as written: local or a URL.
    reads: tuple[str, ...] = ()
    # `images:` holds something `entries` leaves out (not a list of mappings, or a name that
    # is not a string): kustomize would read it otherwise, or refuse it.
    odd_images: bool = False

    @property
    def remote(self) -> bool:
        return self.generated or bool(self.urls)

    @property
    def urls(self) -> tuple[str, ...]:
        """What kubectl would fetch: any field naming a URL or a remote git target."""
        every = (*self.resources, *self.components, *self.patch_paths, *self.reads)
        return tuple(target for target in every if is_remote(target) or "://" in target)


def read(text: str, parsing: Parsing = STANDALONE.parsing) -> Kustomization | None:
    """The first mapping document as a kustomization; None if there is none (ScanError on
    invalid YAML)."""
    for doc in _yaml.documents(text, parsing):
        if isinstance(doc, Mapping):
            return of(doc)
    return None


def of(doc: Mapping) -> Kustomization:
    keys = fields(doc)
    paths: list[Scalar] = []
    inline: list[Scalar] = []
    for key in ("patches", "patchesJson6902"):
        for item in _items(keys.get(key)):
            if isinstance(item, Mapping):
                patch = fields(item)
                _add(string(patch.get("path")), paths)
                _add(string(patch.get("patch")), inline)
    for item in _items(keys.get("patchesStrategicMerge")):
        node = string(item)
        # kustomize reads an entry as a file unless it is YAML text (it has a line break)
        _add(node, inline if node is not None and "\n" in node.value else paths)
    images = keys.get("images")
    entries = [
        _entry(index, fields(item))
        for index, item in enumerate(_items(images))
        if isinstance(item, Mapping)
    ]
    odd = images is not None and (
        not isinstance(images, Sequence)
        or len(entries) != len(images.items)
        or any(e.name is None for e in entries)
    )
    kind = string(keys.get("kind"))
    return Kustomization(
        component=kind is not None and kind.value == "Component",
        resources=tuple(_strings(keys.get("resources")) + _strings(keys.get("bases"))),
        components=tuple(_strings(keys.get("components"))),
        patch_paths=tuple(p.value for p in paths),
        inline_patches=tuple(inline),
        entries=tuple(entries),
        generated="helmCharts" in keys or "helmChartInflationGenerator" in keys,
        reads=tuple(_reads(keys)),
        odd_images=odd,
    )


# Fields whose strings (or items' strings) name files or directories the build reads.
_LISTS = ("crds", "configurations", "generators", "transformers", "validators")
_GENERATORS = ("configMapGenerator", "secretGenerator")


def _reads(keys: dict[str, Node]) -> list[str]:
    out = []
    for key in _LISTS:
        out += _strings(keys.get(key))
    for key in _GENERATORS:
        for item in _items(keys.get(key)):
            generator = fields(item) if isinstance(item, Mapping) else {}
            for field in ("files", "envs"):
                # `files: [key=path]`: the file is what follows the first `=`
                out += [f.partition("=")[2] or f for f in _strings(generator.get(field))]
            _add_value(generator.get("env"), out)
    for item in _items(keys.get("replacements")):
        if isinstance(item, Mapping):
            _add_value(fields(item).get("path"), out)
    openapi = keys.get("openapi")
    if isinstance(openapi, Mapping):
        _add_value(fields(openapi).get("path"), out)
    for key in ("helmCharts", "helmChartInflationGenerator"):
        for item in _items(keys.get(key)):
            chart = fields(item) if isinstance(item, Mapping) else {}
            for field in ("repo", "valuesFile", "chartHome"):
                _add_value(chart.get(field), out)
            out += _strings(chart.get("additionalValuesFiles"))
    globals_ = keys.get("helmGlobals")
    if isinstance(globals_, Mapping):
        _add_value(fields(globals_).get("chartHome"), out)
    return [path.strip() for path in out if path.strip()]


def _add_value(node: Node | None, to: list[str]) -> None:
    scalar = string(node)
    if scalar is not None:
        to.append(scalar.value)


def _entry(index: int, keys: dict[str, Node]) -> Entry:
    return Entry(
        index,
        string(keys.get("name")),
        string(keys.get("newName")),
        keys.get("newTag"),
        keys.get("digest"),
    )


def _items(node: Node | None) -> list[Node]:
    return node.items if isinstance(node, Sequence) else []


def _strings(node: Node | None) -> list[str]:
    return [s.value for s in map(string, _items(node)) if s is not None]


def _add(node: Scalar | None, to: list[Scalar]) -> None:
    if node is not None:
        to.append(node)


def is_remote(target: str) -> bool:
    if _REMOTE.search(target):
        return True
    host = target.split("/", 1)[0]
    return bool(_HOST_LIKE.match(target)) and not host.endswith((".yaml", ".yml", ".json"))


def split(image: str) -> tuple[str, str]:
    """(name, ':tag' / '@digest' / ':tag@digest' / ''), as kustomize's image.Split."""
    at = image.find("@")
    if at >= 0:
        name, tail = image[:at], image[at:]
    else:
        name, tail = image, ""
    colon = name.rfind(":")
    if colon > name.rfind("/"):
        name, tail = name[:colon], name[colon:] + tail
    return name, tail


def matches(image: str, name: str) -> bool:
    """kustomize's image.IsImageMatched: the name, then nothing, a tag or a digest."""
    return image == name or image.startswith(name) and image[len(name)] in ":@"
