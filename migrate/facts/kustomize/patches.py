"""Images in patches: strategic merge patches are manifests (their container images, as
`_containers` finds them); a JSON6902 patch (RFC 6902: a list of `{op, path, value}`) sets an
image where its `path` leads to one, or in a container-shaped `value`
(https://kubectl.docs.kubernetes.io/references/kustomize/kustomization/patches/).

Inline patches are YAML inside a string of the kustomization. A literal block (`patch: |-`) or
a plain/quoted one-line string holds the patch's characters verbatim, shifted by the
indentation, so each offset of the patch text maps back to one in the file and a reference in
it is rewritten in place. Folded or escaped strings do not: their references are reported, not
rewritten.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterator

from migrate.context import STANDALONE, Parsing
from migrate.kinds import containers as _containers
from migrate.occurrence import Occurrence, Part, ScanError
from migrate.syntax import yaml as _yaml
from migrate.syntax.yaml import Mapping, Node, Scalar, Sequence, fields, reference, string

JSON_PATCH = "json-patch"
INLINE = "inline patch cannot be rewritten in place (folded or escaped string)"
_SETS = frozenset({"add", "replace", "test"})  # ops with a `value`; `test` must keep matching


def is_json6902(doc: Node | None) -> bool:
    return (
        isinstance(doc, Sequence)
        and bool(doc.items)
        and all(isinstance(op, Mapping) and "op" in fields(op) for op in doc.items)
    )


def json6902(doc: Sequence) -> Iterator[Scalar]:
    for op in doc.items:
        assert isinstance(op, Mapping)
        keys = fields(op)
        kind, path = string(keys.get("op")), string(keys.get("path"))
        if kind is None or kind.value not in _SETS or path is None or "value" not in keys:
            continue
        yield from _containers.images(keys["value"], pointer(path.value))


def pointer(path: str) -> _containers.Trail:
    """A JSON pointer (RFC 6901) as a trail: `/spec/containers/0/image` -> ('spec',
    'containers', ITEM, 'image'); array indexes and `-` are positions."""
    out: list[str | int] = []
    for token in path.split("/")[1:]:
        token = token.replace("~1", "/").replace("~0", "~")
        out.append(_containers.ITEM if token == "-" or token.isdigit() else token)
    return tuple(out)


def scan(text: str, parsing: Parsing = STANDALONE.parsing) -> Iterator[Occurrence]:
    """Every image of a patch text: JSON6902 documents and strategic merge documents."""
    found: list[Occurrence] = []
    for doc in _yaml.documents(text, parsing):
        if is_json6902(doc):
            assert isinstance(doc, Sequence)
            found += [reference(JSON_PATCH, node) for node in json6902(doc)]
        else:
            found += [_containers.occurrence(k, node) for k, node in _containers.keyed_images(doc)]
    yield from sorted(found, key=lambda occ: occ.at)


def inline(text: str, node: Scalar, parsing: Parsing = STANDALONE.parsing) -> Iterator[Occurrence]:
    """The images of an inline patch, at their offsets in `text` (the kustomization)."""
    located = _located(text, node)
    inner = node.value if located is None else located[0]
    try:
        found = list(scan(inner, parsing))
    except ScanError as exc:
        at = node.start if located is None else _outer(located, exc.offset)
        raise ScanError(at, f"inline patch: {exc.reason}") from None
    for occ in found:
        if located is None:
            yield Occurrence(
                occ.kind, occ.written, (), node.start, node.end, occ.unresolved or INLINE
            )
            continue
        parts = tuple(
            Part(p.role, _outer(located, p.start), _outer(located, p.end)) for p in occ.parts
        )
        at, end = _outer(located, occ.at), _outer(located, occ.end)
        yield Occurrence(occ.kind, occ.written, parts, at, end, occ.unresolved)


_Located = tuple[
    str, list[int], list[int]
]  # inner text, its line starts, their offsets in the file


def _outer(located: _Located, offset: int) -> int:
    _, inner_starts, outer_starts = located
    line = bisect.bisect_right(inner_starts, offset) - 1
    return outer_starts[line] + offset - inner_starts[line]


def _located(text: str, node: Scalar) -> _Located | None:
    """The patch text with where each of its lines starts in `text`; None where the string's
    characters are not the patch's (folded, escaped, an explicit indentation we cannot see)."""
    if node.span is not None:
        return node.value, [0], [node.span[0]]
    header_end = text.find("\n", node.start)
    if header_end < 0 or header_end >= node.end:
        return None
    header = text[node.start : header_end].split("#", 1)[0].split()
    if not header or not header[-1].startswith("|"):
        return None  # folded (`>`), or not a block at all
    body_start = header_end + 1
    lines = text[body_start : node.end].split("\n")
    indent = next((len(ln) - len(ln.lstrip(" ")) for ln in lines if ln.strip(" \r")), 0)
    inner: list[str] = []
    inner_starts: list[int] = []
    outer_starts: list[int] = []
    at, length = body_start, 0
    for line in lines:
        content = line.rstrip("\r")[indent:]
        inner_starts.append(length)
        outer_starts.append(at + indent)
        inner.append(content)
        length += len(content) + 1
        at += len(line) + 1
    joined = "\n".join(inner)
    if joined.rstrip("\n") != node.value.rstrip("\n"):
        return None
    return joined, inner_starts, outer_starts
