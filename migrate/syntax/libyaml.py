"""The fast path of `_yaml.documents()`: libyaml's C parser (PyYAML's `yaml._yaml.CParser`), its
events built into the very trees the pure composer gives, ~10x faster (bench/run.py).

Exactness first: wherever libyaml and ruamel's pure composer could disagree — positions of
empty values next to complex keys, `!`/local/`%TAG` tags, `%YAML` directives, NEL/LS/PS line
breaks, a BOM inside the text, tabs and block scalar headers libyaml reads leniently, duplicate keys,
undefined aliases, very deep nesting, any error at all — `compose()` returns None and the pure
path decides. tests/fast_path_test.py holds both paths to the same findings and rewrites.
"""

from __future__ import annotations

import gc
import re
from typing import Any

from migrate.syntax.nodes import STR, Mapping, Node, Scalar, Sequence, span_of

# Past this depth the pure composer's recursion decides (it gives up at ~300 levels).
_DEEP = 64
# Tags libyaml and ruamel expand alike; the resolved implicit ones are all of this form too.
_STANDARD_TAG = re.compile(r"tag:yaml\.org,2002:[a-z]+\Z")
# Line breaks ruamel's 1.2 scanner and libyaml's 1.1 scanner treat differently, and a BOM that
# is not at the start: only searched for in non-ASCII text (the search costs per byte).
_ODD_CHARACTERS = re.compile("[\ufeff\x85\u2028\u2029]")
# Block scalar headers that ruamel refuses and libyaml accepts: a comment without a space
# before it, and leading blank lines whose spaces grow (ruamel: "more indented follow up line").
_LENIENT_HEADER = re.compile(r"[|>][0-9+-]{0,2}(?:#|[ \t]*(?:#[^\n]*)?\r?\n +\r?\n)")

_parser: Any = None  # (CParser, event classes), or False when PyYAML's C extension is missing
_tags: dict[str, str] = {}
# Scalars up to this length are shared by value within a document: keys and images repeat
# (a dense values file holds far more scalars than distinct values: bench/dense.py), and each
# copy would be a string object of its own.
_SHARED = 256

# ruamel's YAML 1.2 implicit resolvers (`VersionedResolver.versioned_resolver`), so that a plain
# scalar gets the very tag the pure composer gives it (`1.30` a float, `yes` a string, `~` null):
# by its first character ("" for the empty scalar), the first tag whose pattern matches; any
# other plain scalar is a string. Written out rather than read from ruamel, because importing
# ruamel costs every composing process 67M instructions (a pool worker's included) that the
# fast path otherwise never needs; tests/implicit_tags_test.py holds it to the installed ruamel.
_VERBOSE = re.UNICODE | re.VERBOSE
PATTERNS: dict[str, tuple[str, int]] = {  # a tag's name: its pattern, as ruamel compiles it
    "bool": (r"^(?:true|True|TRUE|false|False|FALSE)$", _VERBOSE),
    "float": (
        r"""^(?:
         [-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+]?[0-9]+)?
        |[-+]?(?:[0-9][0-9_]*)(?:[eE][-+]?[0-9]+)
        |[-+]?\.[0-9_]+(?:[eE][-+][0-9]+)?
        |[-+]?\.(?:inf|Inf|INF)
        |\.(?:nan|NaN|NAN))$""",
        _VERBOSE,
    ),
    "int": (
        r"""^(?:[-+]?0b[0-1_]+
        |[-+]?0o?[0-7_]+
        |[-+]?[0-9_]+
        |[-+]?0x[0-9a-fA-F_]+)$""",
        _VERBOSE,
    ),
    "timestamp": (
        r"""^(?:[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]
        |[0-9][0-9][0-9][0-9] -[0-9][0-9]? -[0-9][0-9]?
        (?:[Tt]|[ \t]+)[0-9][0-9]?
        :[0-9][0-9] :[0-9][0-9] (?:\.[0-9]*)?
        (?:[ \t]*(?:Z|[-+][0-9][0-9]?(?::[0-9][0-9])?))?)$""",
        _VERBOSE,
    ),
    "merge": (r"^(?:<<)$", re.UNICODE),
    "null": (
        r"""^(?: ~
        |null|Null|NULL
        | )$""",
        _VERBOSE,
    ),
    "value": (r"^(?:=)$", re.UNICODE),
    "yaml": (r"^(?:!|&|\*)$", re.UNICODE),
}
IMPLICIT: dict[str, tuple[str, ...]] = {
    **dict.fromkeys("tTfF", ("bool",)),
    **dict.fromkeys("-+", ("float", "int")),
    **dict.fromkeys("0123456789", ("float", "int", "timestamp")),
    ".": ("float",),
    "<": ("merge",),
    **dict.fromkeys(("~", "n", "N", ""), ("null",)),
    "=": ("value",),
    **dict.fromkeys("!&*", ("yaml",)),
}
_compiled: dict[str, re.Pattern[str]] = {}  # compiled on first use: most runs need few


def implicit_tag(value: str) -> str:
    """The tag both composers give a plain scalar `value` written without a tag (YAML 1.2)."""
    return _plain_tag(value)


def _load() -> bool:
    global _parser
    if _parser is None:
        try:
            import yaml
            from yaml._yaml import CParser
        except ImportError:  # PyYAML without libyaml (a source build without the headers)
            _parser = False
            return False
        _parser = (
            CParser,
            yaml.ScalarEvent,
            yaml.AliasEvent,
            yaml.MappingStartEvent,
            yaml.SequenceStartEvent,
            yaml.MappingEndEvent,
            yaml.SequenceEndEvent,
            yaml.DocumentStartEvent,
            yaml.DocumentEndEvent,
            yaml.StreamEndEvent,
            yaml.YAMLError,
        )
    return _parser is not False


def _plain_tag(value: str) -> str:
    names = IMPLICIT.get(value[:1])
    if names is None:
        return STR
    tag = _tags.get(value)
    if tag is None:
        tag = _resolve(value, names)
        if len(value) <= 64 and len(_tags) < 8192:  # the same few hundred values recur
            _tags[value] = tag
    return tag


def _resolve(value: str, names: tuple[str, ...]) -> str:
    for name in names:
        pattern = _compiled.get(name)
        if pattern is None:
            pattern = _compiled[name] = re.compile(*PATTERNS[name])
        if pattern.match(value):
            return f"tag:yaml.org,2002:{name}"
    return STR


def _lenient_header(parsed: str, start: int, end: int) -> bool:
    header_end = parsed.find("\n", start)
    first_end = parsed.find("\n", header_end + 1) if header_end >= 0 else -1
    return (
        _LENIENT_HEADER.search(parsed, start, end if first_end < 0 else first_end + 1) is not None
    )


def compose(parsed: str, text: str) -> list[Node] | None:
    """The documents of `parsed` (`text` with separating tabs as spaces), or None when the pure
    composer must decide."""
    # Every event allocates a few objects, and the cyclic collector would otherwise walk the
    # growing tree at each of its thresholds, a large share of the time. Trees only form cycles
    # through aliases (`&a [*a]`), and those are collected once it is back on.
    enabled = gc.isenabled()
    gc.disable()
    try:
        return _compose(parsed, text)
    finally:
        if enabled:
            gc.enable()


def _compose(parsed: str, text: str) -> list[Node] | None:
    if not _load() or "\t" in parsed or not parsed.isascii() and _ODD_CHARACTERS.search(parsed):
        return None  # a tab left after `_tabs_as_spaces` is indentation, which libyaml allows
    (
        CParser,
        scalar_event,
        alias_event,
        mapping_start,
        sequence_start,
        mapping_end,
        sequence_end,
        document_start,
        document_end,
        stream_end,
        yaml_error,
    ) = _parser
    get = CParser(parsed).get_event
    tags = _tags.get
    starts = IMPLICIT  # first characters that may resolve to another tag than str
    shared: dict[str, str] = {}
    share = shared.setdefault
    documents: list[Node] = []
    anchors: dict[str, Node] = {}
    # Open collections, innermost last: [mapping, pending key or None, keys seen, flow?] or
    # [sequence]; `top` is the innermost (None at document level).
    stack: list[list[Any]] = []
    top: list[Any] | None = None
    # An empty block mapping value: ruamel places it at the next token (libyaml: right after
    # the colon), so it waits for the next event's position.
    empty: Scalar | None = None
    node: Node
    try:
        while True:
            event = get()
            kind = type(event)
            if empty is not None:
                if not _place_empty(empty, event, kind, parsed):
                    return None
                empty = None
            if kind is scalar_event:
                value = event.value
                if len(value) <= _SHARED:
                    value = share(value, value)
                start, end = event.start_mark.index, event.end_mark.index
                tag, style = event.tag, event.style
                if tag is None:
                    if not event.implicit[0] or value and value[0] not in starts:
                        tag = STR  # quoted, or plain and not a possible bool/null/number
                    else:
                        tag = tags(value) or _plain_tag(value)
                elif (
                    not _STANDARD_TAG.match(tag)
                    or event.anchor is not None
                    and parsed[start] == "!"
                ):
                    return None  # odd tags resolve differently; `!!t &a x` starts at `&a` in ruamel
                if style and style in "|>" and _lenient_header(parsed, start, end):
                    return None
                if (
                    not style
                    and "\n" not in value
                    and "\r" not in value
                    and text.startswith(value, end - len(value))
                    and end - len(value) >= start
                ):  # `_span` of the common case, plain and exact, without the call
                    node = Scalar(value, tag, start, end, 0, None)
                else:
                    node = Scalar(value, tag, start, end, *span_of(value, style, start, end, text))
                if event.anchor is not None:
                    anchors[event.anchor] = node
                elif start == end and top is not None and len(top) > 1:
                    if top[1] is None or top[3]:
                        return None  # an empty key, or an empty value in a flow mapping
                    empty = node
            elif kind is mapping_start or kind is sequence_start:
                start = event.start_mark.index
                tag = event.tag
                if tag is not None and (
                    not _STANDARD_TAG.match(tag)
                    or event.anchor is not None
                    and parsed[start] == "!"
                ):
                    return None
                if len(stack) >= _DEEP:
                    return None
                if kind is mapping_start:
                    node = Mapping(start, start)
                    top = [node, None, set(), event.flow_style]
                else:
                    node = Sequence(start, start)
                    top = [node]
                stack.append(top)
                if event.anchor is not None:
                    anchors[event.anchor] = node
                continue
            elif kind is mapping_end or kind is sequence_end:
                node = stack.pop()[0]
                node.end = event.end_mark.index
                top = stack[-1] if stack else None
            elif kind is alias_event:
                found = anchors.get(event.anchor)
                if found is None:
                    return None
                node = found
            elif kind is document_start:
                if event.version is not None or event.tags:
                    return None  # `%YAML 1.1` switches ruamel's resolver; `%TAG` handles
                continue
            elif kind is document_end:
                anchors = {}  # anchors do not cross documents
                shared = {}
                share = shared.setdefault
                continue
            elif kind is stream_end:
                return documents
            else:
                continue  # stream start
            if top is None:
                documents.append(node)
            elif len(top) == 1:
                top[0].items.append(node)
            elif top[1] is None:
                if type(node) is Scalar:
                    # a string key by its value alone: no tuple per key while the map is open
                    key = node.value if node.tag == STR else (node.tag, node.value)
                    if key in top[2]:
                        return None  # a duplicate key: the pure path reports it
                    top[2].add(key)
                top[1] = node
            else:
                flat = top[0].flat
                flat.append(top[1])
                flat.append(node)
                top[1] = None
    except yaml_error:
        return None  # invalid YAML: the pure path words the error


def _place_empty(empty: Scalar, event: Any, kind: type, parsed: str) -> bool:
    """Move an empty block mapping value to the next token, as ruamel does; False when that
    token is a complex key, where the two parsers' positions differ further."""
    (_, scalar_event, alias_event, _, _, mapping_end, *_) = _parser
    if kind is not scalar_event and kind is not alias_event and kind is not mapping_end:
        return False
    at = event.start_mark.index
    before = at - 1
    while before >= 0 and parsed[before] in " \t\r\n":
        before -= 1
    if before >= 0 and parsed[before] == "?":
        return False  # `? key`: ruamel's key token sits on the `?`
    empty.end = at
    empty.lead = 0  # span (at, at)
    empty._start = None  # implied by `end` (start == end), as the constructor keeps it
    return True
