"""JSON patch files (RFC 6902), as kustomize's `patches` / `patchesJson6902` name them by
`path`: a YAML list of `{op, path, value}`. An image is a `value` whose `path` leads to one, or
inside a container-shaped `value` (`migrate.facts.kustomize.patches`). Strategic merge patch files
are manifests: the kubernetes scanner reads them.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

from migrate.context import STANDALONE, FileContext
from migrate.facts.kustomize import patches
from migrate.kinds.paths import YAML_SUFFIXES, in_helm_templates
from migrate.occurrence import Occurrence
from migrate.syntax import yaml as _yaml

NAME = "json-patch"
FILES = r"\.ya?ml$"
# The first entry of a top-level block sequence is an operation: `- op: replace`, in any key
# order, quoted or not, block or flow (JSON: `[{"op": ...`).
_OPERATION = re.compile(
    r"""^(?:-[ \t]+(?:\{[ \t]*)?["']?(?:op|path|value|from)["']?[ \t]*:|\[[ \t\r\n]*\{[ \t\r\n]*"(?:op|path|value|from)"[ \t]*:)""",
    re.MULTILINE,
)
_OP = re.compile(r"""(?:^|[\s{,])["']?op["']?[ \t]*:""", re.MULTILINE)
_WORDS = re.compile("image|containers|volumes|package")


def by_name(path: Path) -> bool:
    return False


def claims(path: Path, text: str) -> bool:
    if not path.name.lower().endswith(YAML_SUFFIXES) or in_helm_templates(path):
        return False
    return _OPERATION.search(text) is not None and _OP.search(text) is not None


def scan(text: str, context: FileContext = STANDALONE) -> Iterator[Occurrence]:
    if not _yaml.mentions(text, _WORDS, context):
        return
    yield from patches.scan(text, context.parsing)
