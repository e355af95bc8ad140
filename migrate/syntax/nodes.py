"""The trees every YAML kind reads: scalars, mappings and sequences with exact value spans,
built by either composer (`yaml`'s pure one, `libyaml`'s fast one)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TypeAlias

STR = "tag:yaml.org,2002:str"
MERGE = "tag:yaml.org,2002:merge"
ESCAPED = "quoted scalar with escapes"
BLOCK = "block scalar"


# Identity, not value: an alias is the very same object. Slots: a large tree or a dense values
# file holds hundreds of thousands of nodes (bench/run.py, bench/dense.py), where each byte per
# scalar counts.
class Scalar:
    """A scalar node: its value as composed, its resolved tag (plain scalars are never
    constructed, so `1.30` keeps its text), the node's range as the parser reports it
    (`start`: anchor and tag included) and, where they are exactly the value, the value's
    own characters (`span`; else `refused` says why not)."""

    __slots__ = ("_start", "end", "lead", "refused", "tag", "value")

    def __init__(
        self, value: str, tag: str, start: int, end: int, lead: int | None, refused: str | None
    ) -> None:
        self.value, self.tag, self.end, self.refused = value, tag, end, refused
        # How `span` ends before `end`: 0 (plain) or 1 (a closing quote); None when the value's
        # characters are not exactly the value. A span kept as a tuple of two ints would cost
        # 90 bytes more per scalar, and a start kept when the span implies it 30 more.
        self.lead = lead
        self._start: int | None = start
        if lead is not None and start == end - len(value) - 2 * lead:
            self._start = None

    @property
    def start(self) -> int:
        if self._start is not None:
            return self._start
        assert self.lead is not None
        return self.end - len(self.value) - 2 * self.lead

    @start.setter
    def start(self, start: int) -> None:
        self._start = start

    @property
    def span(self) -> tuple[int, int] | None:
        """The value's own characters, when they are exactly the value."""
        if self.lead is None:
            return None
        # Plain: the very `end` object, not an equal new int (a dense file's 10^5 spans).
        close = self.end - self.lead if self.lead else self.end
        return close - len(self.value), close

    def __repr__(self) -> str:
        return (
            f"Scalar({self.value!r}, {self.tag!r}, {self.start}, {self.end}, "
            f"span={self.span}, refused={self.refused!r})"
        )


@dataclass(eq=False, slots=True)
class Mapping:
    start: int
    end: int
    # Keys and values in turn, [k0, v0, k1, v1, ...]: a tuple per pair would be one more object
    # per pair, a large share of a dense values file's tree (bench/dense.py). `pairs` builds them.
    flat: list[Node] = field(default_factory=list)

    @property
    def pairs(self) -> list[tuple[Node, Node]]:
        """(key, value) in order; a new list on each read (this module walks `flat`)."""
        flat = self.flat
        return list(zip(flat[::2], flat[1::2]))


@dataclass(eq=False, slots=True)
class Sequence:
    start: int
    end: int
    items: list[Node] = field(default_factory=list)


Node: TypeAlias = Scalar | Mapping | Sequence


def span_of(
    value: str, style: str | None, start: int, end: int, text: str
) -> tuple[int | None, str | None]:
    """Whether the value's own characters end right before `end` (lead 0) or before a closing
    quote there (lead 1), found from the end mark (the start mark sits on an anchor or tag
    when there is one); None and the reason when they are not exactly the value. Escapes and
    folding only ever shorten the raw text, so a match of `value` right before the end, with
    no escape character or line break in it and the opening quote right before it, can only
    be the whole raw value."""
    if not style:  # plain, by far the most common: checked first (once per scalar of a tree)
        if "\n" in value or "\r" in value:
            return None, "multi-line plain scalar"
        begin = end - len(value)
        if begin >= start and text.startswith(value, begin):
            return 0, None
        return None, "value differs from its text"  # a tab inside it, read as a space
    if style in ("|", ">"):
        return None, BLOCK
    if "\n" in value or "\r" in value:
        return None, ESCAPED
    if style in ("'", '"'):
        close = end - 1
        begin = close - len(value)
        escape = "\\" if style == '"' else "'"
        if (
            begin > start
            and text[close] == style
            and text[begin - 1] == style
            and escape not in value
            and text[begin:close] == value
        ):
            return 1, None
        return None, ESCAPED
    begin = end - len(value)
    if begin >= start and text[begin:end] == value:
        return 0, None
    return None, "value differs from its text"  # a tab inside it, read as a space
