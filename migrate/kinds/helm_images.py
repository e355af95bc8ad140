"""How a chart composes an image from its values, read statically: which node supplies the
registry (a chart-wide override or the component's own), which the name, which the tag; and so
which spans a rewrite edits. Helm's renderer checks the result (`migrate.provers.helm`).

Conventions, each in real charts:
  - `registry` + `repository` (+ `tag`/`digest`): Bitnami, argo-rollouts;
  - `repository` holding a full reference, or a Docker Hub path: most charts;
  - `registry` + `image`, the registry with a namespace (`docker.io/library` + `traefik`);
  - `hub` + a bare name (`global.hub: docker.io/org` + `image: agent`): Istio;
  - chart-wide registries: `global.imageRegistry` (Bitnami: wins over the component's),
    `global.image.registry`, `global.registry`, `global.hub` (defaults: the component's own
    wins), top-level `imageRegistry` + `imageNamespace` + a per-image `name` (cert-manager);
    `coalesce`/`default` in the templates say which wins where they say anything.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import NamedTuple

from migrate.facts.charts.evidence import Evidence
from migrate.occurrence import Occurrence, Part
from migrate.syntax import yaml as _yaml
from migrate.syntax.yaml import Mapping, Node, Scalar, fields, string

# Chart-wide registries, the first set one applies; True: it wins over a component's own by
# default (Bitnami's common.images.image puts global.imageRegistry first).
HEADS: tuple[tuple[str, bool], ...] = (
    ("global.imageRegistry", True),
    ("global.image.registry", False),
    ("global.registry", False),
    ("global.hub", False),
    ("imageRegistry", False),
)
BITNAMI = "global.imageRegistry"
GLOBAL = "global.imageRegistry overrides the registry in templates"
_NAMESPACE = "imageNamespace"
_EXTRA = ("tag", "digest", "registry", "pullPolicy", "hub")
_IMAGE_ONLY = ("digest", "registry", "pullPolicy", "hub")  # never beside a git or chart repo
# Values that name a file, not an image: `backgroundImage: background.png`, a VM disk.
_FILE = re.compile(
    r"\.(?:png|jpe?g|gif|svg|ico|webp|bmp|iso|img|qcow2|raw|vhdx?|vmdk|ova|tar|gz|tgz|zip)$",
    re.IGNORECASE,
)
_WHITESPACE = re.compile(r"\s")  # what str.isspace says, in one C loop


# Keys whose value is a part of an image, never all of it: a registry before the name, ...
_NOT_WHOLE = re.compile(
    r"registry|hub|namespace|repository|name$|tag|digest|version|policy", re.IGNORECASE
)


# Named tuples, not frozen dataclasses: a dense values file makes one or two per image, each
# field of a frozen dataclass set through object.__setattr__ (a tenth of a scan's time).
class Head(NamedTuple):
    key: str  # where it is set: 'global.hub', 'registry' (the map's own), ...
    value: str
    node: Scalar | None  # None: set in the chart's values.yaml, not in this file
    shared: bool  # serves every image of the chart


class Site(NamedTuple):
    """A value that may be an image: a string under an image-like key, or an image map."""

    path: str  # dotted values path, for the templates' evidence
    name: Scalar  # the repository / image / name value
    own: Scalar | None = None  # the map's own registry or hub
    own_key: str = ""
    tag: Node | None = None
    digest: Node | None = None
    named: bool = False  # the map gives a `name` (cert-manager): imageNamespace applies
    is_map: bool = False
    holder: Mapping | None = None  # the image map
    name_key: str = ""  # which key of the map gives the name


def image_like(key: str) -> bool:
    return key == "image" or key.endswith(("Image", "_image", "-image")) or key == "images"


def chart_heads(doc: Node | None, defaults: Node | None) -> list[Head]:
    """The chart-wide registries set in this document, else in the chart's values.yaml."""
    out = []
    for key, _ in HEADS:
        node = string(_at(doc, key))
        if node is not None:
            out.append(Head(key, node.value, node, True))
            continue
        default = string(_at(defaults, key))
        if default is not None:
            out.append(Head(key, default.value, None, True))
    return out


def namespace(doc: Node | None, defaults: Node | None) -> str | None:
    found = string(_at(doc, _NAMESPACE)) or string(_at(defaults, _NAMESPACE))
    return found.value if found else None


def _at(node: Node | None, dotted: str) -> Node | None:
    for key in dotted.split("."):
        if not isinstance(node, Mapping):
            return None
        node = fields(node).get(key)
    return node


class _Unremembered:
    """The `seen` of a walk over a tree without aliases, where every node is met once: a set
    of a million node ids was a fifth of a dense values file's peak memory."""

    def __contains__(self, item: object) -> bool:
        return False

    def add(self, item: object) -> None:
        pass


def sites(doc: Node | None, evidence: Evidence | None, aliases: bool = True) -> Iterator[Site]:
    """Every image site of a values document, each scalar once, in walk order. `aliases`:
    whether the text has any (`*`), that is whether a node can be met twice."""
    seen: set[int] | _Unremembered = set() if aliases else _Unremembered()
    stack: list[tuple[Node, str, str]] = [(doc, "", "")] if doc is not None else []
    while stack:
        node, path, key = stack.pop()
        if aliases:  # else `seen` forgets: not even a call per node
            if id(node) in seen:
                continue
            seen.add(id(node))
        if isinstance(node, _yaml.Sequence):
            stack.extend((item, path, key) for item in reversed(node.items))
            continue
        if not isinstance(node, Mapping):
            continue
        keys = fields(node)
        site = _map_site(node, keys, path, key, evidence)
        if site is not None:
            if id(site.name) not in seen:
                seen.add(id(site.name))
                yield site
            continue
        flat = node.flat  # keys and values in turn: both last first, without a list of pairs
        for k, value in zip(flat[-2::-2], flat[::-2]):
            if not isinstance(k, Scalar):
                continue
            found = string(value)
            if found is not None:
                named = image_like(k.value)
                if not named and evidence is None:
                    continue  # only the templates' evidence makes another key's string whole
                here = f"{path}.{k.value}" if path else k.value
                if (
                    (named or _printed_whole(here, found, evidence))
                    and id(found) not in seen
                    and _is_image(found, here, evidence)
                ):
                    seen.add(id(found))
                    yield Site(here, found)
            elif k.tag != _yaml.MERGE and not isinstance(value, Scalar):
                # A path per collection only: a number or a null holds no site.
                stack.append((value, f"{path}.{k.value}" if path else k.value, k.value))


def _map_site(
    node: Mapping, keys: dict[str, Node], path: str, key: str, evidence: Evidence | None
) -> Site | None:
    if "repository" not in keys and "image" not in keys and "name" not in keys:
        return None  # most mappings: the cheap test first (every branch below needs one)
    get = keys.get
    repository, image, name = string(get("repository")), string(get("image")), string(get("name"))
    extra = not keys.keys().isdisjoint(_EXTRA)
    proof = evidence.of(path) if evidence and path else None
    strong = not keys.keys().isdisjoint(_IMAGE_ONLY)  # an image map whatever the templates say
    if proof is False and not strong:
        return None
    own_key = "registry" if "registry" in keys else "hub"

    def site(name: Scalar, name_key: str) -> Site:
        own, tag, digest = string(keys.get(own_key)), keys.get("tag"), keys.get("digest")
        named = name_key == "name"
        return Site(path, name, own, own_key, tag, digest, named, True, node, name_key)

    if repository is not None and extra and _looks_like_image(repository.value):
        if image_like(key) or proof or strong:
            return site(repository, "repository")
        return None  # `git: {repository: org/repo, tag: v1}`
    if repository is None and image is not None and extra and _looks_like_image(image.value):
        return site(image, "image")
    if (
        repository is None
        and name is not None
        and (image_like(key) or (evidence is not None and f"{path}.name" in evidence.images))
        and ("repository" in keys or extra)
        and _looks_like_image(name.value)
    ):
        return site(name, "name")
    return None


def _printed_whole(path: str, node: Scalar, evidence: Evidence | None) -> bool:
    """A string under a key that does not say `image`, which a container's image line prints
    itself, first: `druid.exporter: quay.io/org/exporter` and `{{ .Values.druid.exporter }}`.
    A path (`/`) it must hold; a tag or registry beside a name never is a whole image."""
    return (
        evidence is not None
        and path in evidence.images
        and path not in evidence.tails
        and path not in evidence.heads
        and not _NOT_WHOLE.search(path.rpartition(".")[2])
        and "/" in node.value
        and _looks_like_image(node.value)
    )


def _looks_like_image(value: str) -> bool:
    return "://" not in value and _WHITESPACE.search(value) is None  # not a git or chart repo


def _is_image(node: Scalar, path: str, evidence: Evidence | None) -> bool:
    proof = evidence.of(path) if evidence else None
    if proof is not None:
        return proof
    value = node.value
    if "://" in value:
        return False
    dot = value.rfind(".")  # a file's extension follows the last dot, or there is none
    return dot < 0 or _FILE.match(value, dot) is None


def has_domain(name: str) -> bool:
    first, slash, _ = name.partition("/")
    return bool(slash) and ("." in first or ":" in first or first == "localhost")


def occurrence(
    site: Site, heads: list[Head], ns: str | None, evidence: Evidence | None
) -> Occurrence | None:
    """The reference a site renders and the spans its rewrite edits."""
    kind = "image-map" if site.is_map else "image"
    name = site.name.value
    suffix = _yaml.tag_suffix(site.tag, site.digest) if site.is_map else ""
    inline_tag = "@" in name or ":" in name and "/" not in name.rpartition(":")[2]
    if site.is_map and site.own_key != "registry" and any(h.key == BITNAMI for h in heads):
        return _yaml.unresolved(kind, name + suffix, site.name, GLOBAL)
    head = _winner(site, heads, evidence, has_domain(name))
    if head is None and site.own is None and site.own_key == "registry" and not has_domain(name):
        return _yaml.unresolved(kind, name + suffix, site.name, "empty registry: templates decide")
    if head is None and evidence and _name_path(site) in evidence.tails:
        after = "the chart's templates put another value before it"
        return _yaml.unresolved(kind, name + suffix, site.name, after)
    if head is None and site.named and not (evidence and _name_path(site) in evidence.images):
        # A bare `name`: only a chart-wide registry and namespace make it an image, or the
        # templates printing it as the start of a container's image.
        return None
    if head is None:
        if inline_tag or not site.is_map:
            return _yaml.reference(kind, site.name, "ref", written=name if site.is_map else None)
        return _yaml.reference(kind, site.name, "name", written=name + suffix)
    use_ns = ns is not None and head.key == "imageRegistry" and site.named
    rest = f"{ns}/{name}" if use_ns else name
    written = f"{head.value}/{rest}{suffix}"
    reason = (
        site.name.refused
        or _yaml.templated(name, tag_allowed=False)
        or _yaml.templated(head.value, tag_allowed=False)
        or ("tag inside the name" if inline_tag and suffix else None)
        or ("registry ends with '/'" if head.value.endswith("/") else None)
        or (f"a registry ({head.key}) before a full reference" if has_domain(name) else None)
    )
    if reason:
        return _yaml.unresolved(kind, written, site.name, reason)
    if head.node is None:
        return _yaml.unresolved(
            kind, written, site.name, f"registry from {head.key} in values.yaml: rewritten there"
        )
    if head.node.refused or head.node.span is None:
        return _yaml.unresolved(kind, written, site.name, head.node.refused or _yaml.ESCAPED)
    if site.name.span is None:
        return _yaml.unresolved(kind, written, site.name, site.name.refused or _yaml.ESCAPED)
    if not head.shared and "/" not in head.value:
        # The map's own host beside its repository (Bitnami): host and path are edited apart.
        parts = (Part("registry", *head.node.span), Part("path", *site.name.span))
        return Occurrence(kind, written, parts, *site.name.span)
    namespaced = "/" in head.value or "/" in rest  # Docker Hub adds `library/` otherwise
    head_part = Part("head", *head.node.span)
    if head.shared and not namespaced and _docker_hub(head.value):
        # One head for every image: `library/` goes into this image's own name, not the head.
        library = Part("library", *site.name.span)
        return Occurrence(kind, written, (head_part, library), *site.name.span)
    return Occurrence(kind, written, (head_part,), *site.name.span)


def _name_path(site: Site) -> str:
    return f"{site.path}.{site.name_key}" if site.is_map else site.path


def _docker_hub(head: str) -> bool:
    return head.partition("/")[0].lower() in (
        "docker.io",
        "index.docker.io",
        "registry-1.docker.io",
        "registry.hub.docker.com",
    )


def _winner(site: Site, heads: list[Head], evidence: Evidence | None, domain: bool) -> Head | None:
    own = Head(site.own_key, site.own.value, site.own, False) if site.own is not None else None
    for head in heads:
        if head.key == BITNAMI:
            if site.own_key != "registry" or not site.is_map:
                continue  # Bitnami's templates put it before a map's registry only
        elif domain and own is None:
            continue  # a full reference: chart-wide registries go before bare names
        if own is None:
            return head
        wins = evidence.global_wins(head.key) if evidence else None
        return head if (wins if wins is not None else dict(HEADS)[head.key]) else own
    return own
