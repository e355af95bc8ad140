"""YAML positions shared by the YAML kinds: documents as small trees with exact value spans.

Two parsers behind `documents()`: libyaml's C parser (`_libyaml`, events built straight into
these trees, ~10x faster) and ruamel.yaml's pure composer (`_convert()`), the reference, which
decides wherever the two could differ (tests/fast_path_test.py holds them to the same trees).
Nothing is ever constructed (no Python objects from tags) and nothing is ever dumped: rewriting
splices spans.

A scalar's `span` is the characters of its value alone (no anchor, tag or quotes). It is None
when those characters are not exactly the value: block scalars (`|`, `>`), escapes (`\\x41`,
`''`), folded multi-line scalars. Such values are reported, never rewritten.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterable, Iterator
from typing import Any

from migrate.context import STANDALONE, FileContext, Parsing
from migrate.occurrence import Occurrence, Part, ScanError
from migrate.syntax import kept_trees
from migrate.syntax.nodes import (
    BLOCK,
    ESCAPED,
    MERGE,
    STR,
    Mapping,
    Node,
    Scalar,
    Sequence,
    span_of,
)

__all__ = ["BLOCK", "ESCAPED", "MERGE", "STR", "Mapping", "Node", "Scalar", "Sequence"]


def mentions(text: str, pattern: re.Pattern[str], context: FileContext = STANDALONE) -> bool:
    """Worth composing? A text that never mentions one of the scanner's keys has nothing to
    rewrite. Occurrences are identical either way; the one difference is that invalid YAML
    without such a word is not reported, so files claimed by name are always composed."""
    if context.named or context.parsing.prefilter == "off":
        return True
    return pattern.search(text) is not None


# ruamel's scanner keeps a possible simple key per open flow collection and rescans them all
# per token: `[[[[...` costs quadratic time before the composer's recursion gives up, a few
# hundred levels deep. No real file opens 64 flow collections, each within 32 characters of
# the last, without closing one.
_DEEP_FLOW = re.compile(r"(?:[\[{][^\[\]{}]{0,32}){64}")


def deep_flow(text: str) -> int | None:
    """Where `_DEEP_FLOW` first matches, or None; the regex itself runs at ~10 MB/s (it tries
    every position), as slow as composing, while real files hold a few brackets."""
    if text.count("[") + text.count("{") < 64:
        return None
    brackets = sorted(at for char in "[]{}" for at in _positions(text, char))
    run, start, last = 0, 0, 0
    for at in brackets:
        if text[at] in "]}":
            run = 0
            continue
        if run and at - last <= 33:  # at most 32 characters between two openers
            run += 1
        else:
            run, start = 1, at
        last = at
        if run == 64:
            return start
    return None


def _positions(text: str, char: str) -> Iterator[int]:
    at = text.find(char)
    while at >= 0:
        yield at
        at = text.find(char, at + 1)


def documents(text: str, parsing: Parsing = STANDALONE.parsing) -> list[Node]:
    """Every document of `text`, composed; YAML errors become ScanError at the problem mark.

    libyaml through PyYAML's C parser first where `parsing` says so (`_libyaml`, ~10x faster),
    this module's pure composer wherever the two could differ. A rewritten text whose trees
    `kept_trees` derived from the original's is not composed at all."""
    derived = kept_trees.take(text)
    if derived is not None:
        return derived
    docs = _compose(text, parsing)
    kept_trees.keep(text, docs)
    return docs


def _compose(text: str, parsing: Parsing) -> list[Node]:
    deep = deep_flow(text)
    if deep is not None:
        raise ScanError(deep, "nesting too deep")
    parsed = _tabs_as_spaces(text)
    if parsing.use_fast(len(text)):
        from migrate.syntax import libyaml as _libyaml

        fast = _libyaml.compose(parsed, text)
        if fast is not None:
            return fast
    # Only here: ruamel's import costs more than the fast path spends on most trees.
    from ruamel.yaml import YAML
    from ruamel.yaml.error import MarkedYAMLError, YAMLError
    from ruamel.yaml.reader import ReaderError

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # ReusedAnchorWarning: legal YAML, not our concern
            loader = YAML(typ="safe", pure=True)
            nodes = loader.compose_all(parsed)
            # One memo per document: anchors do not cross documents, and a finished document's
            # nodes are freed, so their ids are reused by the next one.
            return [_convert(node, text, {}) for node in nodes]
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        raise ScanError(mark.index if mark else 0, exc.problem or exc.context or "invalid YAML")
    except ReaderError as exc:
        raise ScanError(exc.position, f"unacceptable character #x{exc.character:04x}")
    except YAMLError as exc:
        raise ScanError(0, str(exc).splitlines()[0])
    except RecursionError:
        # The composer recurses per nesting level; ~300 levels deep is not a real manifest.
        raise ScanError(0, "nesting too deep") from None


# YAML 1.2 allows tabs as separation inside a line (`image: x\t# pinned`, `key:\tvalue`, a
# trailing tab) and go-yaml (Kubernetes, Compose, Helm) reads them; ruamel's scanner does not.
# Spaces of the same length keep every offset. A tab inside a quoted or plain value changes the
# composed value, so its span no longer matches the original text and it is refused, not guessed.
_SEPARATING_TABS = re.compile(r"(?<=\S)[ \t]*\t|^[ \t]*\t[ \t]*(?=\r?$)", re.MULTILINE)


def _tabs_as_spaces(text: str) -> str:
    if "\t" not in text:
        return text
    return _SEPARATING_TABS.sub(lambda m: " " * len(m.group()), text)


def _convert(node: Any, text: str, memo: dict[int, Node]) -> Node:
    if id(node) in memo:  # an alias: the node already converted, shared
        return memo[id(node)]
    start, end = node.start_mark.index, node.end_mark.index
    if node.id == "scalar":  # `id` names the node kind in ruamel, PyYAML and their C loaders
        lead, refused = span_of(node.value, node.style, start, end, text)
        memo[id(node)] = out = Scalar(node.value, str(node.tag), start, end, lead, refused)
        return out
    if node.id == "sequence":
        seq = memo[id(node)] = Sequence(start, end)
        seq.items = [_convert(item, text, memo) for item in node.value]
        return seq
    mapping = memo[id(node)] = Mapping(start, end)
    seen: set[tuple[str, str]] = set()
    for key, value in node.value:
        k = _convert(key, text, memo)
        # Several `<<:` merges in one mapping are strictly duplicates, but CircleCI and PyYAML
        # take each as a merge (ethereum/solidity's config); `fields()` merges them in order.
        if isinstance(k, Scalar) and k.tag != MERGE:
            # Kubernetes, Compose and Helm reject duplicate keys too; which one would we rewrite?
            if (k.tag, k.value) in seen:
                raise ScanError(k.start, f"duplicate key {k.value!r}")
            seen.add((k.tag, k.value))
        mapping.flat.append(k)
        mapping.flat.append(_convert(value, text, memo))
    return mapping


def mappings(roots: Iterable[Node | None]) -> Iterator[Mapping]:
    """Every mapping under `roots` once, however often it is aliased (an alias bomb stays
    linear), depth first in document order. Scalars are ~70% of all nodes and are never
    pushed at all: what a scanner looking for keys needs."""
    seen: set[int] = set()
    add = seen.add
    stack = [n for n in reversed(list(roots)) if n is not None and type(n) is not Scalar]
    pop = stack.pop
    while stack:
        node = pop()
        if id(node) in seen:
            continue
        add(id(node))
        if isinstance(node, Mapping):
            yield node
            stack.extend([n for n in reversed(node.flat) if type(n) is not Scalar])
        elif isinstance(node, Sequence):
            stack.extend([n for n in reversed(node.items) if type(n) is not Scalar])


def fields(mapping: Mapping) -> dict[str, Node]:
    """String keys to values as a merge-aware loader sees them: own keys win over `<<:` merged
    ones, and earlier merged mappings win over later ones (yaml.org/type/merge.html)."""
    own = mapping.flat
    try:  # the common case, in one comprehension: scalar keys, no `<<:`, none alike by value
        out = {k.value: v for k, v in zip(own[::2], own[1::2]) if k.tag != MERGE}  # type: ignore[union-attr]
        if 2 * len(out) == len(own):
            return out
    except AttributeError:  # a collection as a key (no `value`): the loop below skips it
        pass
    out = {}
    pairs = iter(own)
    for key, value in zip(pairs, pairs):
        if type(key) is Scalar:
            if key.tag == MERGE:
                break
            if key.value not in out:
                out[key.value] = value
    else:
        return out
    out = {}
    seen: set[int] = set()
    todo: list[Mapping] = [mapping]
    while todo:
        current = todo.pop(0)
        if id(current) in seen:  # a merge cycle (`&a {<<: *a}`) or the same base twice
            continue
        seen.add(id(current))
        merged: list[Mapping] = []
        flat = iter(current.flat)
        for key, value in zip(flat, flat):
            if isinstance(key, Scalar) and key.tag == MERGE:
                sources = value.items if isinstance(value, Sequence) else [value]
                merged.extend(m for m in sources if isinstance(m, Mapping))
            elif isinstance(key, Scalar):
                out.setdefault(key.value, value)
        todo[:0] = merged
    return out


def string(node: Node | None) -> Scalar | None:
    """A non-empty string scalar: what an image value must be (null, numbers, maps are not)."""
    # `isspace()`, not `strip()`: the same characters, and no new string per value
    if isinstance(node, Scalar) and node.tag == STR and node.value and not node.value.isspace():
        return node
    return None


def text_of(node: Node | None) -> str | None:
    """A scalar's text whatever its type (a tag `1.30` is a float but reads `1.30`), if set."""
    if isinstance(node, Scalar) and node.tag != "tag:yaml.org,2002:null" and node.value:
        return node.value
    return None


def where(node: Scalar) -> tuple[int, int]:
    return node.span or (node.start, node.end)


def unresolved(kind: str, written: str, node: Scalar, reason: str) -> Occurrence:
    return Occurrence(kind, written, (), *where(node), unresolved=reason)


def reference(kind: str, node: Scalar, role: str = "ref", written: str | None = None) -> Occurrence:
    """One scalar that holds a whole reference (role 'ref') or an image name ('name', with
    `written` adding the tag and digest kept elsewhere)."""
    written = node.value if written is None else written
    reason = node.refused or templated(node.value, tag_allowed=role == "ref")
    span = node.span
    if reason or span is None:
        return unresolved(kind, written, node, reason or ESCAPED)
    return Occurrence(kind, written, (Part(role, *span),), *span)


def templated(value: str, tag_allowed: bool = True) -> str | None:
    """Why `value` is not a concrete reference, or None. A variable only in the tag or digest
    (`node:${TAG}`) is fine: the engine keeps tag text as written."""
    if "{{" in value or "$(" in value:  # Go templates (Helm, Argo), Tekton/Kubernetes `$(var)`
        return "templated value"
    if "$$" in value:
        return "literal $$ in reference"  # the engine's parser has no notion of it: refuse
    dollar = value.find("$")
    if dollar < 0:
        return None
    prefix = value[:dollar]
    if tag_allowed and ("@" in prefix or ":" in prefix and "/" not in prefix.rpartition(":")[2]):
        return None
    return "variable in image name"


def tag_suffix(tag: Node | None, digest: Node | None) -> str:
    """`:tag@digest` from separate keys, as written: a float tag `1.30` keeps its text (and is
    never rewritten); an empty or templated one is left out, as it does not change the name."""
    out = ""
    for sep, node in ((":", tag), ("@", digest)):
        value = text_of(node)
        if value and templated(value) is None:
            out += sep + value
    return out
