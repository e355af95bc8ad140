"""The trees of the text a fix rewrites, kept for its verifying re-scan: where every edit only
swaps one scalar's value for another of the same kind, the rewritten text's trees are the old
ones with those values swapped and later positions moved, and composing it again (the largest
cost of `fix` on a dense values file, bench/dense.py) is skipped. The re-scan itself still runs
in full on the new text; only its trees come from here.

`yaml.documents()` keeps what it composes for the file's own text object (`keeping()` names it:
never a chart's defaults, a slice, another file, all of which other code may hold on to), and
hands out a derived tree for exactly the derived text object, once.

Why a derived tree is the tree of the new text, edit by edit. Each edit lies inside the value
characters (`Scalar.span`) of one scalar met only outside keys (no key, nor any collection used
as a key, holds it: an implicit key's 1024-character limit is the one length rule of YAML), and
that scalar's new value is `_SAFE`: it starts with a letter, digit or `_` (never an indicator,
never `---`/`...`), then holds only letters, digits and `_.@+/-`, and `:` only before one of
those. So:
  - Plain (lead 0): both scanners read a plain scalar up to a space, a line break, `: `, or in
    flow context `,[]{}` (libyaml 1.1 also `:` before a flow indicator); none is in the value,
    and where it stops after the value depends on the characters after it alone, which are
    unchanged (a `#` starts a comment only after a space; the last character is never a
    space). Its tag is resolved from its text, so the old value must resolve to the node's tag
    and the new one to the same (`nginx` -> `123` would turn a string into an int).
  - Quoted (lead 1): only the closing quote (and a backslash in double quotes) ends or escapes,
    and `_SAFE` holds neither; the value stays exactly its characters, the tag stays.
  - Nothing else reads a value's characters: indentation is read at line starts (no edit holds
    a line break), tokens later on the line keep their order and their distances to each other,
    anchors, aliases, tags and comments outside the value are untouched text. `%YAML 1.1`
    resolves tags otherwise: a text with a directive is composed again.
Any other edit (an inserted `allow-*` line, a key, a block or escaped scalar, a value that fails
`_SAFE`) refuses, and the new text is composed as always. tests/kept_trees_test.py compares
derived trees with composed ones (fixtures, generated YAML).
"""

from __future__ import annotations

import bisect
import re
from array import array
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from itertools import accumulate, cycle, repeat
from typing import TYPE_CHECKING

# The nodes' module is loaded by whatever composed a tree, not by a hook on a Dockerfile.
if TYPE_CHECKING:
    from migrate.syntax.nodes import Node, Scalar

Splice = tuple[int, int, str, str]  # start, end, old, new: `rewrite.edits.Edit` is one

_SAFE = re.compile(r"[A-Za-z0-9_](?:[A-Za-z0-9_.@+/-]|:(?=[A-Za-z0-9_.@+/-]))*\Z")


class _Window:
    __slots__ = ("derived", "kept", "text")

    def __init__(self, text: str) -> None:
        self.text = text
        self.kept: list[Node] | None = None  # the trees of `text`, until one derivation
        self.derived: tuple[str, list[Node]] | None = None  # a new text and its trees


_window: ContextVar[_Window | None] = ContextVar("kept_trees", default=None)


@contextmanager
def keeping(text: str | None) -> Iterator[None]:
    """While one file is scanned and its rewrite verified, keep the trees of its `text` (None:
    keep nothing); whatever is kept is dropped on leaving, so no tree outlives its file."""
    token = _window.set(_Window(text) if text is not None else None)
    try:
        yield
    finally:
        _window.reset(token)


def forget() -> None:
    """Nothing of this file will be re-scanned: its trees go now, not when the window closes."""
    window = _window.get()
    if window is not None:
        window.kept = window.derived = None


def keep(text: str, docs: list[Node]) -> None:
    """The trees just composed for `text`: kept when it is the very text being rewritten."""
    window = _window.get()
    if window is not None and text is window.text:
        window.kept = docs


def take(text: str) -> list[Node] | None:
    """The trees derived for exactly this text object, once; None: compose it."""
    window = _window.get()
    if window is None or window.derived is None or window.derived[0] is not text:
        return None
    docs = window.derived[1]
    window.derived = None
    return docs


def derive(text: str, new_text: str, splices: Sequence[Splice]) -> bool:
    """Turn the kept trees of `text` into those of `new_text` (`splices` applied to `text`), in
    place: their nodes are never read for `text` again, and a dense file's tree is too large to
    copy. True when `take(new_text)` will give them; False leaves the trees untouched, and a
    kept tree serves one derivation at most (a retry's text is composed)."""
    window = _window.get()
    if window is None or text is not window.text or window.kept is None:
        return False
    docs, window.kept, window.derived = window.kept, None, None
    # dict.fromkeys: in the order given (text order), so the sort has little to do
    if not _derive(text, new_text, docs, sorted(dict.fromkeys(splices))):
        return False
    window.derived = (new_text, docs)
    return True


def _derive(text: str, new_text: str, docs: list[Node], splices: list[Splice]) -> bool:
    if text.startswith("%") or "\n%" in text:
        return False  # a `%YAML 1.1` directive would resolve tags by other rules
    # shifts[i]: how much the splices before the i-th grow the text; an array, as a dense
    # file's 10^5 splices would be as many new int objects in a list.
    shifts = array(
        "q", accumulate((len(new) - (end - start) for start, end, _, new in splices), initial=0)
    )
    if len(new_text) != len(text) + shifts[-1]:
        return False
    try:
        from migrate.syntax.libyaml import implicit_tag
    except ImportError:
        return False
    if any(start >= end for start, end, _, _ in splices):
        return False  # an insertion (`allow-*` lines) adds tokens
    found = _targets(docs, splices, "*" in text)
    if found is None:
        return False
    nodes, targets, firsts = found
    firsts.append(len(splices))
    values: list[str] = []
    # Per distinct value: a dense file rewrites the same few references a hundred thousand
    # times, each a string the composers share and a tag the resolver's regexes find slowly
    # (a registry's digits may start a number; `libyaml` remembers only short values' tags).
    shared: dict[str, str] = {}
    tags: dict[str, str] = {}
    for scalar, first, last in zip(targets, firsts, firsts[1:]):
        span = scalar.span
        assert span is not None  # eligible scalars have one
        lo, old = span[0], scalar.value
        pieces: list[str] = []
        cursor = 0
        for start, end, expected, new in splices[first:last]:
            if start - lo < cursor or old[start - lo : end - lo] != expected:
                return False  # overlapping, or not what the text holds there
            pieces += (old[cursor : start - lo], new)
            cursor = end - lo
        value = "".join(pieces) + old[cursor:]
        if not new_text.startswith(value, lo + shifts[first]):
            return False
        if value not in shared:
            if not _SAFE.match(value):
                return False
            shared[value] = value
        if scalar.lead == 0:
            for plain in (old, value):
                if plain not in tags:
                    tags[plain] = implicit_tag(plain)
                if tags[plain] != scalar.tag:
                    return False
        values.append(shared[value])
    _move(nodes, [end for _, end, _, _ in splices], shifts)  # the splices' own ints: a list
    for scalar, value in zip(targets, values):
        scalar.value = value  # `end` already moved past the splices: `start` still derives
    return True


def _targets(
    docs: list[Node], splices: list[Splice], aliases: bool
) -> tuple[list[Node], list[Scalar], array[int]] | None:
    """Every node once, each edited scalar, and where its `splices` start (they run on to the
    next one's: every splice is inside one); None
    when a splice lies outside every scalar met only as (part of) a value."""
    from migrate.syntax.nodes import Mapping, Scalar

    nodes: list[Node] = []
    keep = nodes.append
    targets: list[Scalar] = []
    firsts = array("q")
    seen: set[int] = set()
    count, at = len(splices), 0
    previous = -1  # where the last eligible span ended: spans come in text order, or refuse
    stack: list[tuple[Node, bool]] = [(doc, False) for doc in reversed(docs)]
    while stack:
        node, in_key = stack.pop()
        if aliases:
            if id(node) in seen:
                if in_key:
                    return None  # first met as a value, now (inside) a key: not worth sorting out
                continue
            seen.add(id(node))
        keep(node)
        if isinstance(node, Scalar):
            if in_key or node.lead is None:
                continue
            hi = node.end - node.lead
            lo = hi - len(node.value)
            if lo < previous:
                return None
            previous = hi
            if at < count and splices[at][0] < lo:
                return None  # before this span and after the last: in no eligible scalar
            first = at
            while at < count and splices[at][1] <= hi:
                at += 1
            if at > first:
                targets.append(node)
                firsts.append(first)
        elif isinstance(node, Mapping):  # keys and values in turn, last first: [.., v1, k1, ..]
            stack.extend(zip(reversed(node.flat), cycle((in_key, True))))
        else:
            stack.extend(zip(reversed(node.items), repeat(in_key)))
    if at < count:
        return None
    return nodes, targets, firsts


def _move(nodes: list[Node], ends: list[int], shifts: array[int]) -> None:
    """Every position at or after a splice's end moves by the growth of the splices up to it."""
    from migrate.syntax.nodes import Scalar

    if not ends:
        return
    first = ends[0]
    where = bisect.bisect_right
    for node in nodes:
        if isinstance(node, Scalar):
            end = node.end
            if end >= first:
                node.end = end + shifts[where(ends, end)]
                own = node._start  # set only where `end` does not imply it (an anchor, a tag)
                if own is not None and own >= first:
                    node._start = own + shifts[where(ends, own)]
        elif node.end >= first:
            node.end += shifts[where(ends, node.end)]
            if node.start >= first:
                node.start += shifts[where(ends, node.start)]
