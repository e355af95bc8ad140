"""JSON with comments and trailing commas (JSONC: devcontainer.json), composed into the same
node types as YAML (`_yaml.Scalar`, `Mapping`, `Sequence`) with each value's exact span, so
the scanners' field readers and the byte-exact splice work unchanged.

Our own: PyPI has JSONC readers that strip comments and hand the rest to `json.loads`
(commentjson, json-with-comments, jsonc-parser), a JSON5 round-trip model (json-five), and
fresh span-keeping ones without a track record yet (jsonc-document, jsonc-edit); none gives
value offsets with a history of maintenance, and JSONC's grammar is this small.
https://code.visualstudio.com/docs/languages/json#_json-with-comments
"""

from __future__ import annotations

import re

from migrate.occurrence import ScanError
from migrate.syntax.yaml import ESCAPED, STR, Mapping, Node, Scalar, Sequence

_SPACE = re.compile(r"(?:[ \t\r\n]+|//[^\n]*|/\*.*?\*/)*", re.DOTALL)
_STRING = re.compile(r'"(?:[^"\\\x00-\x1f]|\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4}))*"')
_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?")
_LITERALS = {
    "true": "tag:yaml.org,2002:bool",
    "false": "tag:yaml.org,2002:bool",
    "null": "tag:yaml.org,2002:null",
}
_MAX_DEPTH = 200


def document(text: str) -> Node:
    reader = _Reader(text)
    node = reader.value(0)
    reader.space()
    if reader.at != len(text):
        raise ScanError(reader.at, "unexpected text after the JSON value")
    return node


class _Reader:
    def __init__(self, text: str) -> None:
        self.text = text
        self.at = 0

    def space(self) -> None:
        match = _SPACE.match(self.text, self.at)
        self.at = match.end() if match else self.at
        if self.text.startswith("/*", self.at):
            raise ScanError(self.at, "unterminated comment")

    def value(self, depth: int) -> Node:
        if depth > _MAX_DEPTH:
            raise ScanError(self.at, "nesting too deep")
        self.space()
        char = self.text[self.at : self.at + 1]
        if char == "{":
            return self.mapping(depth)
        if char == "[":
            return self.sequence(depth)
        if char == '"':
            return self.string()
        match = _NUMBER.match(self.text, self.at)
        if match:
            tag = "float" if match[1] or match[2] else "int"
            return self.scalar(match.end(), f"tag:yaml.org,2002:{tag}")
        for word, tag in _LITERALS.items():
            if self.text.startswith(word, self.at):
                return self.scalar(self.at + len(word), tag)
        raise ScanError(self.at, "expected a JSON value" if char else "unexpected end of file")

    def scalar(self, end: int, tag: str) -> Scalar:
        start, self.at = self.at, end
        return Scalar(self.text[start:end], tag, start, end, 0, None)  # the value's own text

    def string(self) -> Scalar:
        match = _STRING.match(self.text, self.at)
        if match is None:
            raise ScanError(self.at, "invalid string")
        start, end = match.span()
        self.at = end
        raw = self.text[start + 1 : end - 1]
        if "\\" in raw:
            import json  # rare: a value with escapes, never rewritten

            return Scalar(json.loads(match[0]), STR, start, end, None, ESCAPED)
        return Scalar(raw, STR, start, end, 1, None)  # the value between its quotes

    def mapping(self, depth: int) -> Mapping:
        node = Mapping(self.at, self.at)
        self.at += 1
        keys: set[str] = set()
        while True:
            self.space()
            if self.text.startswith("}", self.at):
                break
            if not self.text.startswith('"', self.at):
                raise ScanError(self.at, "expected a quoted key or '}'")
            key = self.string()
            if key.value in keys:
                raise ScanError(key.start, f"duplicate key {key.value!r}")
            keys.add(key.value)
            self.space()
            if not self.text.startswith(":", self.at):
                raise ScanError(self.at, "expected ':'")
            self.at += 1
            node.flat += (key, self.value(depth + 1))
            if not self.comma("}"):
                break
        self.at += 1
        node.end = self.at
        return node

    def sequence(self, depth: int) -> Sequence:
        node = Sequence(self.at, self.at)
        self.at += 1
        while True:
            self.space()
            if self.text.startswith("]", self.at):
                break
            node.items.append(self.value(depth + 1))
            if not self.comma("]"):
                break
        self.at += 1
        node.end = self.at
        return node

    def comma(self, close: str) -> bool:
        """After a member: a comma (a trailing one is fine) or the closing bracket."""
        self.space()
        if self.text.startswith(",", self.at):
            self.at += 1
            return True
        if self.text.startswith(close, self.at):
            return False
        raise ScanError(self.at, f"expected ',' or {close!r}")
