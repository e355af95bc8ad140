"""The container images a rendered chart would run: every `image` of a container-shaped list
(`containers`, `initContainers`, `ephemeralContainers`) at any depth of every manifest, so pod
templates of every kind count, CRDs' included, plus image volumes' `reference`."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, NamedTuple

_CONTAINER_LISTS = ("containers", "initContainers", "ephemeralContainers")


class Rendered(NamedTuple):
    where: str  # template path, document and field: stable between two renders of one chart
    image: str


def images(manifests: Mapping[str, str]) -> list[Rendered]:
    import yaml

    out: list[Rendered] = []
    for template in sorted(manifests):
        text = manifests[template]
        if "image" not in text:
            continue
        try:
            documents = list(
                yaml.load_all(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
            )
        except yaml.YAMLError:
            out.append(Rendered(f"{template}", "<not YAML>"))
            continue
        for index, doc in enumerate(documents):
            for field, image in _walk(doc, ""):
                out.append(Rendered(f"{template}#{index}{field}", image))
    return out


def _walk(node: Any, at: str) -> Iterator[tuple[str, str]]:
    if isinstance(node, list):
        for i, item in enumerate(node):
            yield from _walk(item, f"{at}[{i}]")
    elif isinstance(node, dict):
        for key, value in node.items():
            here = f"{at}.{key}"
            if key in _CONTAINER_LISTS and isinstance(value, list):
                for i, item in enumerate(value):
                    if isinstance(item, dict) and isinstance(item.get("image"), str):
                        yield f"{here}[{i}].image", item["image"]
            elif (
                key == "image"
                and isinstance(value, dict)
                and isinstance(value.get("reference"), str)
            ):
                yield f"{here}.reference", value["reference"]  # an image volume
            yield from _walk(value, here)
