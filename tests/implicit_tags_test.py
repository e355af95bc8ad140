"""The fast composer's table of plain-scalar tags (`libyaml.IMPLICIT`, `libyaml.PATTERNS`) is
ruamel's own YAML 1.2 resolver, written out so that composing with libyaml imports no ruamel:
this holds it to the installed ruamel, entry by entry and value by value."""

from __future__ import annotations

import subprocess
import sys

import pytest
from ruamel.yaml.nodes import ScalarNode
from ruamel.yaml.resolver import VersionedResolver

from migrate.syntax import libyaml

_RUAMEL = VersionedResolver()


def _ruamel_tag(value: str) -> str:
    return str(_RUAMEL.resolve(ScalarNode, value, (True, False)))


def test_the_table_is_ruamels_first_character_by_first_character() -> None:
    table = _RUAMEL.versioned_resolver
    assert set(table) == set(libyaml.IMPLICIT)
    for first, resolvers in table.items():
        names = tuple(str(tag).rsplit(":", 1)[1] for tag, _ in resolvers)
        assert names == libyaml.IMPLICIT[first], first
        for name, (_, regexp) in zip(names, resolvers, strict=True):
            assert libyaml.PATTERNS[name] == (regexp.pattern, regexp.flags), name


@pytest.mark.parametrize(
    "value",
    [
        "", "~", "null", "Null", "NULL", "nil", "none", "true", "True", "TRUE", "tRue", "false",
        "yes", "no", "on", "off", "y", "n", "1", "-1", "+1", "0", "007", "0o17", "0x1F", "0b101",
        "1_000", "1.30", "1.", ".5", "-.5", "1e3", "1.5e-3", ".inf", "-.Inf", ".NaN", ".nan",
        "1:30", "190:20:30", "2024-01-02", "2024-01-02T10:20:30Z", "2024-1-2 3:04:05 +01:00",
        "<<", "=", "!", "&", "*", "nginx", "nginx:1.27", "1.27-alpine", "3.9", "8080", "-",
        "+", ".", "0.0.0.0", "1.2.3", "v1", "latest", "n/a", "N/A", "true-ish", "2024-01-02x",
    ],
)  # fmt: skip
def test_every_tag_is_the_one_ruamel_gives(value: str) -> None:
    assert libyaml.implicit_tag(value) == _ruamel_tag(value)


def test_a_tree_composed_by_libyaml_imports_no_ruamel() -> None:
    """The point of the table: scanning a tree costs no ruamel import unless the pure composer
    must decide a file."""
    code = (
        "import sys\n"
        "from migrate.syntax import yaml\n"
        "from migrate.context import Parsing\n"
        "docs = yaml.documents('a: 1.30\\nb: [yes, ~, 2024-01-02]\\n', Parsing(fast=True))\n"
        "assert [s.tag for s in docs[0].flat[3].items] == [\n"
        "    'tag:yaml.org,2002:str', 'tag:yaml.org,2002:null', 'tag:yaml.org,2002:timestamp']\n"
        "print(sorted(m for m in sys.modules if m.startswith('ruamel')))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
