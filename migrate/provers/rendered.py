"""The container images a rendered chart would run: every `image` of a container-shaped list
(`containers`, `initContainers`, `ephemeralContainers`) at any depth of every manifest, so pod
templates of every kind count, CRDs' included, plus image volumes' `reference`."""

from __future__ import annotations

import functools
import hashlib
import re
from collections.abc import Iterator, Mapping
from typing import Any, NamedTuple

from migrate.syntax import prefilter as _prefilter

_CONTAINER_LISTS = ("containers", "initContainers", "ephemeralContainers")


class Rendered(NamedTuple):
    where: str  # template path, document and field: stable between two renders of one chart
    image: str


Found = tuple[tuple[str, str], ...]  # a document's (field, image) pairs
Memo = dict[str, Found]  # a parsed document's text digest (`digest`) -> what it holds


def images(
    manifests: Mapping[str, str], memo: Memo | None = None, used: Memo | None = None
) -> list[Rendered]:
    """The images of a render's manifests (template path -> text). With `memo`, a document
    whose text it holds is not parsed, and each one parsed goes into it (and into `used` with
    those found there): a rewrite's render parses only what the rewrite changed, given the
    memo of the chart's render as it was (kept between runs, `helm_cache`)."""
    out: list[Rendered] = []
    for template in sorted(manifests):
        text = manifests[template]
        if "image" not in text:
            continue
        for index, document in enumerate(_documents(text)):
            # CRDs name `image` in their schemas hundreds of times and run nothing: a chart's
            # CRDs were most of the rendered bytes parsed here (argo-cd), so they are skipped
            # unparsed (and uncached), as the scanners skip them (`_prefilter`).
            if not _prefilter.may_hold(document, "image", ("reference",)):
                continue
            found = _found(document) if memo is None else _memoized(document, memo, used)
            out.extend(Rendered(f"{template}#{index}{field}", image) for field, image in found)
    return out


@functools.lru_cache(maxsize=4096)
def _found(document: str) -> tuple[tuple[str, str], ...]:
    """The images of one rendered document, by text: most documents render the same before
    and after a rewrite, and each is parsed once."""
    import yaml

    try:  # libyaml's safe loader where there is one, much faster
        docs = list(yaml.load_all(document, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)))
    except yaml.YAMLError:
        return (("", "<not YAML>"),)
    return tuple(found for doc in docs for found in _walk(doc, ""))


def memo_of(value: Any) -> Memo | None:
    """A documents memo from its JSON form, or None: not one."""
    if not isinstance(value, dict):
        return None
    out: Memo = {}
    for key, found in value.items():
        read = pairs(found)
        if read is None:
            return None
        out[str(key)] = read
    return out


def pairs(value: Any) -> Found | None:
    """String pairs from their JSON form (a list of two-string lists), or None: not that."""
    if not isinstance(value, list) or not all(
        isinstance(pair, list) and len(pair) == 2 and all(isinstance(p, str) for p in pair)
        for pair in value
    ):
        return None
    return tuple((first, second) for first, second in value)


def digest(document: str) -> str:
    return hashlib.sha256(document.encode("utf-8", "surrogatepass")).hexdigest()


def _memoized(document: str, memo: Memo, used: Memo | None) -> Found:
    key = digest(document)
    found = memo.get(key)
    if found is None:
        found = memo[key] = _found(document)
    if used is not None:
        used[key] = found
    return found


# A line of Helm's own between documents: `---`, maybe a comment. Searched from its literal
# `---`, then kept only at a line's start: `(?m)^---` tries every offset of the text, and
# argo-cd's 1.9 MB of CRDs took ~40 ms to split that way.
_SEPARATOR = re.compile(r"---[ \t]*(?:#[^\n]*)?\r?$", re.MULTILINE)


def _documents(text: str) -> list[str]:
    """The documents of Helm's output: it joins them with a `---` line of its own."""
    out, start = [], 0
    for match in _SEPARATOR.finditer(text):
        at = match.start()
        if at == 0 or text[at - 1] == "\n":  # a match ends before its line's end: none hides
            out.append(text[start:at])  # another at the next line's start
            start = match.end()
    out.append(text[start:])
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
