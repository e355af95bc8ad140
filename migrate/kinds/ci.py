"""What the CI kinds share: image values in their string or mapping forms, the expressions each
CI system resolves at run time (PTC004), variables defined in the same file, and the test that
keeps Compose, Helm values, Kustomize and Kubernetes files with their own scanners.

Only fields a CI system pulls are read, never scripts: images a pipeline builds or pushes
(`docker build -t`, Cloud Build `images:`, plugin `repo:` settings) are never rewritten.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from migrate.context import FileContext
from migrate.occurrence import Occurrence, Part
from migrate.syntax import yaml as _yaml
from migrate.syntax.yaml import Mapping, Node, Scalar, Sequence, fields, string

# Patterns are compiled on first use (by `re`'s cache), not at import: a hook run on a
# Dockerfile never pays for the CI kinds. A whole value that is one variable: `$NAME`, `${NAME}`.
_VARIABLE = r"^\$(?:\{([A-Za-z_][A-Za-z0-9_]*)\}|([A-Za-z_][A-Za-z0-9_]*))$"


def named(files: str) -> Callable[[Path], bool]:
    """A CI kind's `by_name`: its `FILES` pattern matches the path."""
    pattern = re.compile(files)

    def by_name(path: Path) -> bool:
        return pattern.search(path.as_posix()) is not None

    return by_name


def top_mappings(text: str, words: str, context: FileContext) -> Iterator[dict[str, Node]]:
    """The keys of every document that is a mapping, when the text mentions one of `words`
    (a regex): where a CI file's images start."""
    if not _yaml.mentions(text, re.compile(words), context):
        return
    for doc in _yaml.documents(text, context.parsing):
        if isinstance(doc, Mapping):
            yield fields(doc)


def variable(value: str) -> str | None:
    """The name when `value` is exactly one variable (`$IMAGE`, `${IMAGE}`), else None."""
    match = re.match(_VARIABLE, value.strip())
    return (match[1] or match[2]) if match else None


def image(
    kind: str,
    node: Node | None,
    *,
    prefix: str = "",
    expression: str | None = None,
    why: str = "",
    credentials: bool | None = None,
) -> Occurrence | None:
    """The occurrence of an image value, or None when `node` is not a non-empty string.

    `prefix` is text before the reference that stays (`docker://`); `expression` (a regex) finds
    the CI system's run-time expressions anywhere in the value (then PTC004 saying `why`)."""
    scalar = string(node)
    if scalar is None or not scalar.value.startswith(prefix):
        return None
    value = scalar.value[len(prefix) :]
    reason = scalar.refused
    if reason is None and expression is not None and re.search(expression, value):
        reason = why
    reason = reason or _yaml.templated(value)
    if reason or scalar.span is None or not value.strip():
        at, end = _yaml.where(scalar)
        reason = reason or ("empty reference" if not value.strip() else _yaml.ESCAPED)
        return Occurrence(kind, value, (), at, end, reason, credentials=credentials)
    start, end = scalar.span[0] + len(prefix), scalar.span[1]
    return Occurrence(kind, value, (Part("ref", start, end),), start, end, credentials=credentials)


def unresolved(kind: str, node: Scalar, reason: str, credentials: bool | None = None) -> Occurrence:
    return Occurrence(kind, node.value, (), *_yaml.where(node), reason, credentials=credentials)


def image_or_name(node: Node | None, name_key: str) -> Node | None:
    """`image: x` or `image: {<name_key>: x, ...}`: the node that holds the reference."""
    if isinstance(node, Mapping):
        return fields(node).get(name_key)
    return node


def items(node: Node | None) -> list[Node]:
    return node.items if isinstance(node, Sequence) else []


def values(node: Node | None) -> list[Node]:
    return [value for _, value in node.pairs] if isinstance(node, Mapping) else []


def mapping_values(node: Node | None) -> Iterator[dict[str, Node]]:
    """The fields of each mapping among a mapping's values (jobs, services, steps by name)."""
    for value in values(node):
        if isinstance(value, Mapping):
            yield fields(value)


def mapping_items(node: Node | None) -> Iterator[dict[str, Node]]:
    """The fields of each mapping in a sequence (steps, `docker:` entries)."""
    for item in items(node):
        if isinstance(item, Mapping):
            yield fields(item)


def once(found: Iterable[Occurrence | None]) -> list[Occurrence]:
    """In text order, each position once: an anchored value aliased by several jobs (`*image`,
    `<<: *defaults`) is one reference, rewritten once."""
    seen: dict[tuple[int, int], Occurrence] = {}
    for occ in found:
        if occ is not None:
            seen.setdefault((occ.at, occ.end), occ)
    return sorted(seen.values(), key=lambda occ: occ.at)


def top_level(text: str, keys: Iterable[str]) -> bool:
    """Does any of `keys` start a line (a top-level key of a block mapping)?"""
    alternatives = "|".join(re.escape(k) for k in keys)
    return re.search(rf"""^["']?(?:{alternatives})["']?[ \t]*:""", text, re.MULTILINE) is not None
