"""HCL (Terraform) trees with exact spans: tree-sitter's HCL grammar, the one parser on PyPI that
gives positions (python-hcl2 gives none). Both packages come with the `terraform` extra and are
imported on first parse only, so a hook run that reads no Terraform never loads them.

Offsets in the tree are UTF-8 bytes; `Tree.at` turns them into offsets of the decoded text, which
is what `Occurrence` spans are.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

MISSING = (
    "Terraform files need tree-sitter and its HCL grammar, which did not install here: "
    "pip install tree-sitter tree-sitter-hcl"
)

_PARSER: list[Any] = []


class Unavailable(Exception):
    """The extra is not installed."""


@dataclass(frozen=True)
class Tree:
    root: Any  # tree_sitter.Node (untyped outside the extra)
    source: str
    data: bytes
    ascii: bool

    def at(self, offset: int) -> int:
        return offset if self.ascii else len(self.data[:offset].decode("utf-8", "replace"))

    def text(self, node: Any) -> str:
        return self.data[node.start_byte : node.end_byte].decode("utf-8", "replace")

    def span(self, node: Any) -> tuple[int, int]:
        return self.at(node.start_byte), self.at(node.end_byte)


def parse(text: str) -> Tree:
    if not _PARSER:
        try:
            import tree_sitter
            import tree_sitter_hcl
        except ImportError as e:
            raise Unavailable(MISSING) from e
        _PARSER.append(tree_sitter.Parser(tree_sitter.Language(tree_sitter_hcl.language())))
    data = text.encode("utf-8", "surrogateescape")
    return Tree(_PARSER[0].parse(data).root_node, text, data, len(data) == len(text))


def first_error(node: Any) -> Any | None:
    """The first node the grammar could not read, if any."""
    if not node.has_error:
        return None
    if node.type == "ERROR" or node.is_missing:
        return node
    for child in node.children:
        found = first_error(child)
        if found is not None:
            return found
    return node


def named(node: Any, kind: str) -> list[Any]:
    return [c for c in node.children if c.type == kind]


def child(node: Any, kind: str) -> Any | None:
    for c in node.children:
        if c.type == kind:
            return c
    return None
