"""Textual pre-filters: is a file worth composing at all?

Composing is most of a YAML scan's time (bench/run.py), and the biggest YAML in repositories is
CRDs: their OpenAPI schemas name `image` as a property hundreds of times (`image:` followed by
`description:` and `type: string`), so a word test cannot skip them. `may_hold` looks at every
place where the text could spell the key and proves, line by line, that its value is empty, a
block sequence, or a block mapping without the child keys that matter. Anything it cannot
prove (a value on the key's line, flow style, anchors on the key, explicit `?` keys, escapes in
quoted keys, tabs) means "compose it". Skipping a file changes no occurrence; as with the word
test, invalid YAML in a skipped file is not reported (it has nothing to migrate).
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Mapping
from functools import cache

from migrate.context import STANDALONE, Parsing
from migrate.syntax import yaml as _yaml

# Where a key could be spelt other than literally: `"\x69mage"` escapes in a quoted key, and
# `? key` explicit keys (found from the `?`: a pattern that starts at every line start or flow
# indicator runs orders of magnitude slower than one that starts with a literal).
_ESCAPED_KEY = re.compile(r""""(?:[^"\\\n]|\\.)*\\[xuU](?:[^"\\\n]|\\.)*"[ \t]*:""")
_QUESTION = re.compile(r"\?(?=[ \t]|\r?$)", re.MULTILINE)
# A key line inside a block mapping: `name:`, `"name":`, `'name':`, then a space or the end.
_SIMPLE_KEY = re.compile(
    r"""(?:"([^"\\\n]*)"|'([^'\n]*)'|([^\s#'"\[\]{},&*!|>%@`?-][^\n#]*?|-[^\s\n#][^\n#]*?))"""
    r"""[ \t]*:(?:[ \t]|\r?$)"""
)
_LINE = re.compile(r"( *)([^\n]*)\n?")
_SEQUENCE_ENTRY = re.compile(r"-(?:[ \t]|\r?$)")


@cache
def _patterns(key: str) -> tuple[re.Pattern[str], re.Pattern[str]]:
    word = re.escape(key)
    return (
        re.compile(word + r"""["']?[ \t]*:"""),
        # The key scalar carrying an anchor (`&k image`, `!!str &k image`): an alias can then
        # use it as a key anywhere, with any value.
        re.compile(r"&[^\s]+[ \t]+(?:![^\s]*[ \t]+)?[\"']?" + word),
    )


def may_hold(
    text: str, key: str, children: tuple[str, ...] = (), parsing: Parsing = STANDALONE.parsing
) -> bool:
    """Could a mapping key reading `key` have a non-empty scalar value, or a mapping value with
    one of `children` or a `<<` merge? False only when the text proves it cannot."""
    if parsing.prefilter == "off":
        return True
    if parsing.prefilter == "words":
        return key in text
    escaped = "\\" in text and _ESCAPED_KEY.search(text) is not None  # `"\x69mage":`
    if key not in text:  # or `? "\x69mage"`, then `: value` on the next line
        return escaped or "\\" in text and _explicit_key(text, key)
    occurrence, anchored = _patterns(key)
    # A tab: indentation is then not what the spaces say.
    if escaped or "\t" in text or anchored.search(text) or _explicit_key(text, key):
        return True
    return any(
        not _provably_inert(text, m.start(), m.end(), children) for m in occurrence.finditer(text)
    )


def documents(
    text: str, keys: Mapping[str, tuple[str, ...]], parsing: Parsing = STANDALONE.parsing
) -> list[_yaml.Node]:
    """`_yaml.documents(text)` less the documents that `may_hold` proves hold none of `keys`
    (key -> its children).

    Bundles mix CRDs with workloads (argo-cd's install.yaml: 1.5 MB, a few images at the end).
    A `---` at the start of a line always starts a document in valid YAML (no scalar may hold
    one), and anchors do not cross documents, so each run of kept documents is composed alone,
    behind as many newlines as characters came before it: every offset stays the same."""
    directives = text.startswith("%") or "\n%" in text
    starts = [0] if parsing.prefilter == "smart" and not directives else []
    at = text.find("\n---")
    while starts and at >= 0:
        if text[at + 4 : at + 5] in ("", " ", "\t", "\r", "\n"):
            starts.append(at + 1)
        at = text.find("\n---", at + 4)
    if len(starts) < 2:
        return _yaml.documents(text, parsing)  # one document, or directives to keep together
    starts.append(len(text))
    kept = [
        any(may_hold(text[a:b], key, children, parsing) for key, children in keys.items())
        for a, b in itertools.pairwise(starts)
    ]
    composed: list[_yaml.Node] = []
    run_start: int | None = None
    for index, keep in enumerate([*kept, False]):
        if keep and run_start is None:
            run_start = starts[index]
        elif not keep and run_start is not None:
            run = "\n" * run_start + text[run_start : starts[index]]
            composed += _yaml.documents(run, parsing)
            run_start = None
    return composed


def _explicit_key(text: str, key: str) -> bool:
    """Could an explicit key (`? image` then `: nginx` on the next line) spell `key`?

    A `?` that starts a line is also the text of a multi-line scalar (a CEL rule in a CRD:
    `? 1 : 0)`); such a `?` does not make the whole file worth composing. A block `?`'s key is
    its own line and the lines indented deeper; it can spell `key` only if that text holds the
    word, an escape or an alias. (A quoted key that goes on at a lesser indentation folds its
    first line break into a space unless that break is escaped on the `?` line; folding never
    joins two lines' words, so a quoted key spells the word whole or uses an escape.) A flow
    `?` (after `[`, `{`, `,` or `:`) is always composed: flow lines may be indented anyhow."""
    for match in _QUESTION.finditer(text):
        line_start = text.rfind("\n", 0, match.start()) + 1
        before = text[line_start : match.start()].rstrip(" ")
        if before.endswith(("[", "{", ",", ":")):
            return True
        if not before.strip(" -") and _may_spell(_explicit_key_text(text, match.start()), key):
            return True
    return False


def _explicit_key_text(text: str, question: int) -> str:
    """From a block `?` to the first content line indented no deeper than it."""
    column = question - (text.rfind("\n", 0, question) + 1)
    line_end = text.find("\n", question)
    if line_end < 0:
        return text[question:]
    next_line = _next_content(text, line_end + 1)
    while next_line is not None and next_line[0] > column:
        next_line = _next_content(text, next_line[2])
    if next_line is None:
        return text[question:]
    end = text.rfind("\n", 0, next_line[2] - 1)  # the start of that line
    return text[question : end if end > question else next_line[2]]


def _may_spell(key_text: str, key: str) -> bool:
    return key in key_text or "\\" in key_text or "*" in key_text


def _provably_inert(text: str, start: int, colon_end: int, children: tuple[str, ...]) -> bool:
    if start and (text[start - 1].isalnum() or text[start - 1] in "_.-/"):
        return True  # the end of a longer plain key (`baseimage:`), not the key itself
    line_start = text.rfind("\n", 0, start) + 1
    prefix = text[line_start:start]
    unquoted = prefix.lstrip(" -")  # `- image:` is a key at the column after `- `
    if unquoted not in ("", '"', "'"):
        return False  # inside a flow collection, or after another node on the line
    key_column = len(prefix) - len(unquoted)
    line_end = text.find("\n", colon_end)
    rest = text[colon_end : len(text) if line_end < 0 else line_end].rstrip("\r")
    if rest.strip() and not rest.lstrip(" ").startswith("#") or rest.startswith("#"):
        return False  # a value on the key's own line (or `key:#`, which is no comment)
    if line_end < 0:
        return True  # `image:` at the very end: null
    # The first content line after the key decides what the value is.
    pos = line_end + 1
    first = _next_content(text, pos)
    if first is None:
        return True
    column, body, pos = first
    if column <= key_column:
        return True  # null (or a compact sequence, `image:\n- a`): never a string
    if _SEQUENCE_ENTRY.match(body):
        return True
    child_column = column
    line: tuple[int, str, int] | None = first
    while line is not None:
        column, body, after = line
        if column <= key_column:
            return True
        if column < child_column:
            return False  # bad indentation: the parser decides
        if column == child_column:
            simple = _SIMPLE_KEY.match(body)
            if simple is None:
                return False  # not a plain `key:` line: a scalar, flow, alias, anchor, tag
            name = next(g for g in simple.groups() if g is not None).rstrip()
            if name in children or name == "<<":
                return False
        line = _next_content(text, after)
    return True


def _next_content(text: str, pos: int) -> tuple[int, str, int] | None:
    """(column, the line after its indentation, offset after it) of the next line that is not
    blank or a comment, from `pos` (a line start)."""
    end = len(text)
    while pos < end:
        match = _LINE.match(text, pos)
        assert match is not None  # the pattern matches the empty string
        body = match.group(2).rstrip("\r")
        after = match.end()
        if body.strip() and not body.lstrip(" ").startswith("#"):
            return len(match.group(1)), body, after
        if after == pos:
            return None
        pos = after
    return None
