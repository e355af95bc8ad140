"""The fast path (libyaml events, `_libyaml`; the key-aware pre-filter, `_prefilter`; the
bracket scan for deep flow nesting) must change no finding and no rewritten byte: every fixture
and the shared corpus go through `fix` both ways, and the composed trees are compared node by
node over a table of YAML corner cases and a seeded fuzz of the fixtures."""

from __future__ import annotations

import random
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from migrate.config import Config
from migrate.context import FileContext, Parsing
from migrate.kinds import kubernetes
from migrate.occurrence import ScanError
from migrate.rewrite import engine
from migrate.syntax import libyaml as _libyaml
from migrate.syntax import prefilter as _prefilter
from migrate.syntax import yaml as _yaml
from migrate.syntax.yaml import Mapping, Node, Scalar, Sequence
from tests.helpers import CORPUS, FIXTURES, REGISTRY

# The application repositories of the corpus: what these seeded comparisons were tuned on.
APPS = ("awesome-compose", "kubernetes-examples", "microservices-demo", "opentelemetry-demo")
CONFIG = Config(registry=REGISTRY)
pytestmark = pytest.mark.skipif(
    _libyaml._load() is False, reason="PyYAML's C extension (libyaml) is not installed"
)


def _set_fast(monkeypatch: pytest.MonkeyPatch, fast: bool) -> Parsing:
    """fast: libyaml, the key-aware pre-filter and the bracket scan; else the pure composer
    behind the word test, as before them."""
    real_deep_flow = _yaml.deep_flow
    monkeypatch.setattr(_yaml, "deep_flow", real_deep_flow if fast else _deep_flow_regex)
    return Parsing(fast=fast, prefilter="smart" if fast else "words")


def _deep_flow_regex(text: str) -> int | None:
    match = _yaml._DEEP_FLOW.search(text)
    return match.start() if match else None


def _results(root: Path, cwd: Path, parsing: Parsing) -> list[tuple[Any, ...]]:
    return [
        (r.path, r.file_kind, r.findings, r.after)
        for r in engine.run([root.name], CONFIG, cwd, fix=True, jobs=1, parsing=parsing)
    ]


@pytest.fixture(scope="module")
def trees(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The fixtures and the corpus, read-only sources, in one scratch tree (never git)."""
    top = tmp_path_factory.mktemp("fast")
    shutil.copytree(FIXTURES, top / "fixtures", symlinks=True)
    if CORPUS:
        for app in APPS:
            shutil.copytree(CORPUS / app, top / "corpus" / app, symlinks=True)
    return top


@pytest.mark.parametrize("tree", ["fixtures", pytest.param("corpus", marks=pytest.mark.corpus)])
def test_same_findings_and_rewrites(
    trees: Path, tree: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    composed: list[bool] = []
    real = _libyaml.compose

    def spy(parsed: str, text: str) -> list[Node] | None:
        found = real(parsed, text)
        composed.append(found is not None)
        return found

    monkeypatch.setattr(_libyaml, "compose", spy)
    fast = _results(trees / tree, trees, _set_fast(monkeypatch, True))
    fallback = _results(trees / tree, trees, _set_fast(monkeypatch, False))

    assert [r[0] for r in fast] == [r[0] for r in fallback]
    for one, other in zip(fast, fallback):
        assert one == other, one[0]
    assert sum(r[3] is not None and r[3] != b"" for r in fast) > 5  # rewrites were compared
    # Not a vacuous pass: libyaml composed nearly every YAML file itself.
    assert sum(composed) >= 0.8 * len(composed) > 5


def _same(one: Node | None, other: Node | None, pairs: dict[int, int]) -> bool:
    """Equal trees, with aliases (shared nodes) in the same places."""
    if id(one) in pairs:
        return pairs[id(one)] == id(other)
    pairs[id(one)] = id(other)
    if type(one) is not type(other):
        return False
    if isinstance(one, Scalar):
        assert isinstance(other, Scalar)
        return (one.value, one.tag, one.start, one.end, one.span, one.refused) == (
            other.value,
            other.tag,
            other.start,
            other.end,
            other.span,
            other.refused,
        )
    assert isinstance(one, (Mapping, Sequence)) and isinstance(other, (Mapping, Sequence))
    if (one.start, one.end) != (other.start, other.end):
        return False
    mine = one.items if isinstance(one, Sequence) else [n for p in one.pairs for n in p]
    theirs = other.items if isinstance(other, Sequence) else [n for p in other.pairs for n in p]
    return len(mine) == len(theirs) and all(_same(a, b, pairs) for a, b in zip(mine, theirs))


def _compare(text: str) -> str:
    """'same' (libyaml composed it, as the pure path does), or 'fallback' (it declined)."""
    try:
        pure: list[Node] | ScanError = _pure(text)
    except ScanError as exc:
        pure = exc
    fast = _libyaml.compose(_yaml._tabs_as_spaces(text), text)
    if fast is None:
        return "fallback"
    assert not isinstance(pure, ScanError), f"libyaml accepted what the pure path refuses: {pure}"
    pairs: dict[int, int] = {}
    assert len(fast) == len(pure) and all(_same(a, b, pairs) for a, b in zip(pure, fast)), text
    return "same"


def _pure(text: str) -> list[Node]:
    return _yaml.documents(text, Parsing(fast=False))


CORNERS = {
    "empty-values": "a:\nb: # c\n  \nc:\n  d:\n  e:\nf:\n- \n- x\n-\n",
    "empty-before-end": "a:\n  b: 1\n  c:\nd: 2\n",
    "empty-last": "a:\n  b:",
    "empty-flow-value": "a: {b: }\nc: [d]\n",
    "explicit-keys": "? a\n: b\n? c\nd:\n? [x, y]\n: z\n",
    "anchors-merges": "base: &b {image: nginx}\nsvc:\n  <<: *b\n  x: &s !!str 12\n  z: *s\n",
    "tag-then-anchor": "y: !!str &t 13\nz: *t\n",
    "reanchored": "a: &x 1\nb: &x 2\nc: *x\n",
    "tags": "a: !!str 1.30\nb: !local x\nc: ! 12\nd: !<tag:yaml.org,2002:int> '7'\ne: !!map {k: v}\n",
    "non-specific-empty": "! \n",
    "resolver": "k: 0o17\nl: 1_000\nm: 1:30\nn: yes\no: 2001-12-14\np: =\nq: .inf\nr: ~\ns: 0x1F\n",
    "scalars": "a: 'it''s'\nb: \"esc\\x41\"\nc: |\n  block\nd: >-\n  folded\ne: plain\n  more\n",
    "quoted-multiline": "f: \"multi\n  line\"\ng: 'x # y'\nh: x # comment\n",
    "documents": "---\na: 1\n...\n---\n---\n# only a comment\n---\nb: [1, {c: d}]\n--- !!str x\n",
    "directive": "%YAML 1.1\n---\na: yes\n",
    "unicode": "é: \"ü€😀\"\nimage: 'nginx:1.27' # ü\nλ: x\n",
    "nel": "a: b\x85c: d\n",
    "inner-bom": "a: \ufeffb\n",
    "crlf": "a: 1\r\nb:\r\n  c: 2\r\nd:\r\n- e\r\n",
    "flow": "{a: 1, b: [x, y, {c: d}], e: {f: }, ? g : h, 'i': \"j\"}\n",
    "json": '{"image": "nginx:1.27", "list": [1, 2.5, true, null], "o": {}}\n',
    "alias-key": "a: &k image\n*k : nginx\n",
    "merge-list": "x: &x {a: 1}\ny: &y {b: 2}\nz:\n  <<: [*x, *y]\n  c: 3\n",
    "block-headers": "a: |+\n  text\n\nb: |2\n    indented\nc: >\n\n  folded\n",
    "block-comment-no-space": "a: |# c\n  x\n",
    "block-growing-blank-lines": "a: |\n  \n    \n   x\n",
    "tabs": "image: nginx\t# pinned\nkey:\tvalue\n",
    "tab-indent": "a:? \n  b\n   \t2\n",
    "duplicate": "a: 1\na: 2\n",
    "undefined-alias": "a: *nope\n",
    "invalid": "a: [1, 2\n",
    "deep": "a:\n" + "".join("  " * i + f"k{i}:\n" for i in range(1, 80)) + "  " * 80 + "v: 1\n",
    "deep-flow": "a: " + "[" * 70 + "]" * 70 + "\n",
}


@pytest.mark.parametrize("text", [pytest.param(t, id=k) for k, t in CORNERS.items()])
def test_corner_cases_compose_alike(text: str) -> None:
    _compare(text)


def _seeds() -> list[str]:
    roots = [FIXTURES] + ([CORPUS / app for app in APPS] if CORPUS else [])
    return [
        p.read_bytes().decode("utf-8", "replace")
        for root in roots
        for p in sorted(root.rglob("*.y*ml"))
        if p.stat().st_size < 4000
    ][:400]


_NOISE = (
    " ",
    "  ",
    "\n",
    "- ",
    ": ",
    ":",
    "?",
    "? ",
    "&a ",
    "*a",
    "!!str ",
    "! ",
    "{",
    "}",
    "[",
    "]",
    ",",
    '"',
    "'",
    "#",
    "|",
    ">",
    "---\n",
    "...\n",
    "\t",
    "é",
    "\r\n",
    "<<: *a\n",
    "x",
    "\\",
    "%YAML 1.2\n",
)


def _mutations(seed: int, count: int) -> Iterator[str]:
    rng, seeds = random.Random(seed), _seeds()
    for _ in range(count):
        text = rng.choice(seeds)
        for _ in range(rng.randint(1, 4)):
            at = rng.randint(0, len(text))
            cut = rng.randint(1, 5) if rng.random() < 0.5 else 0
            text = text[:at] + ("" if cut else rng.choice(_NOISE)) + text[at + cut :]
        yield text


def test_fuzzed_yaml_composes_alike() -> None:
    # Seeded: the same 400 texts every run (~2 s). A long hunt: raise the count locally.
    outcomes = [_compare(text) for text in _mutations(seed=20261127, count=400)]
    assert outcomes.count("same") > 100


# --- the key-aware pre-filter ------------------------------------------------------------------
def _grammar(rng: random.Random, depth: int, indent: int) -> str:
    pad = " " * indent
    key = rng.choice(
        [
            "image",
            "image",
            "reference",
            "description",
            "type",
            '"image"',
            "'image'",
            "baseimage",
            "<<",
            "properties",
            "x",
        ]
    )
    dash = "- " if rng.random() < 0.1 else ""
    roll = rng.random()
    if depth > 3 or roll < 0.3:
        value = (
            " "
            + rng.choice(
                [
                    "nginx",
                    '"nginx:1"',
                    "'x'",
                    "",
                    "# c",
                    "~",
                    "&a nginx",
                    "*a",
                    "!!str x",
                    "{reference: x}",
                    "[a]",
                    f"|\n{pad}  text image: x",
                    "x # image:",
                    '"a\\x41"',
                ]
            )
            + "\n"
        )
    elif roll < 0.45:
        value = "\n" + "".join(
            f"{pad}{rng.choice(['  ', ''])}- {rng.choice(['a', 'image: x'])}\n" for _ in range(2)
        )
    elif roll < 0.55:
        value = (
            rng.choice(["\n", "\n\n# c\n", f"\n{pad}  # c\n"])
            + pad
            + "  "
            + rng.choice(["nginx", '"q"', "*a", "reference: x"])
            + "\n"
        )
    else:
        child = indent + len(dash) + rng.choice([2, 4])
        value = rng.choice(["\n", " # c\n"]) + "".join(
            _grammar(rng, depth + 1, child) for _ in range(rng.randint(1, 4))
        )
    return pad + dash + key + ":" + value


def _kubernetes_images(text: str) -> list[object] | None:
    try:
        return list(kubernetes.scan(text, FileContext(parsing=Parsing(prefilter="off"))))
    except ScanError:
        return None  # invalid YAML: a skipped file is not reported, as with the word test


def test_prefilter_never_skips_an_image() -> None:
    rng = random.Random(7)
    texts = [
        "apiVersion: v1\nkind: X\n" + "".join(_grammar(rng, 0, 0) for _ in range(3))
        for _ in range(1500)
    ] + _seeds()
    skipped = [t for t in texts if not _prefilter.may_hold(t, "image", ("reference",))]

    assert len(skipped) > (100 if CORPUS else 50)  # not vacuous: the generated texts alone give ~70
    assert [t for t in skipped if _kubernetes_images(t)] == []


def test_bundles_keep_every_image(monkeypatch: pytest.MonkeyPatch) -> None:
    """Multi-document files: the documents holding images are composed on their own, behind
    newlines, and give the very occurrences (offsets included) of the whole file."""
    rng = random.Random(11)
    documents = [
        "apiVersion: v1\nkind: CRD\nspec:\n  image:\n    type: string\n",
        "apiVersion: v1\nkind: Pod\nspec:\n  containers:\n  - image: nginx:1.27\n",
        "kind: Pod\nspec:\n  containers:\n    - name: a\n      image: 'quay.io/a/b:1' # c\n",
        "kind: X\nspec:\n  volumes:\n  - image:\n      reference: redis:7\n",
        "kind: X\ndata:\n  script: |\n    image: not-a-key\n",
        "# only a comment\n",
    ]
    compared = 0
    for _ in range(400):
        parts = [
            rng.choice([*documents, "apiVersion: v1\nkind: X\n" + _grammar(rng, 0, 0)])
            for _ in range(rng.randint(2, 5))
        ]
        text = "".join(rng.choice(["---\n", "--- # c\n", "---\r\n", ""]) + p for p in parts)
        whole = _scan(monkeypatch, text, smart=False)
        if whole is not None:
            assert _scan(monkeypatch, text, smart=True) == whole, text
            compared += bool(whole)
    assert compared > 50


def _scan(monkeypatch: pytest.MonkeyPatch, text: str, *, smart: bool) -> list[object] | None:
    parsing = Parsing(prefilter="smart" if smart else "words")
    try:
        return list(kubernetes.scan(text, FileContext(parsing=parsing)))
    except ScanError:
        return None


@pytest.mark.parametrize(
    ("text", "holds"),
    [
        pytest.param(
            "image:\n  description: The image.\n  type: string\n", False, id="crd-property"
        ),
        pytest.param(
            "image:\n  properties:\n    reference:\n      type: string\n",
            False,
            id="nested-reference",
        ),
        pytest.param("image:\n- a\n", False, id="sequence"),
        pytest.param("image:\nnext: 1\n", False, id="null"),
        pytest.param("baseimage: nginx\n", False, id="longer-key"),
        pytest.param("image: nginx\n", True, id="inline"),
        pytest.param("image: # pinned\n  nginx\n", True, id="next-line"),
        pytest.param("image:\n  reference: nginx\n", True, id="image-volume"),
        pytest.param("image:\n  <<: *v\n", True, id="merge"),
        pytest.param("a: &k image\n*k : nginx\n", True, id="alias-key"),
        pytest.param('"im\\x61ge": nginx\n', True, id="escaped-key"),
        pytest.param("? image\n: nginx\n", True, id="explicit-key"),
        pytest.param("?\n  image\n: nginx\n", True, id="explicit-key-next-line"),
        pytest.param("- ?\n    image\n  : nginx\n", True, id="explicit-key-in-sequence"),
        pytest.param('? "im\\x61ge"\n: nginx\n', True, id="explicit-key-escaped"),
        pytest.param("? *k\n: nginx\nb: &k image\n", True, id="explicit-key-alias"),
        pytest.param(
            "rule: (has(self.a)\n  ? 1 : 0)\nimage:\n  type: string\n", False, id="cel-question"
        ),
        pytest.param("x: {image:\n  {reference: a}}\n", True, id="flow"),
        pytest.param("image:\t\n  a: b\n", True, id="tab"),
    ],
)
def test_prefilter_table(text: str, holds: bool) -> None:
    assert _prefilter.may_hold(text, "image", ("reference",)) is holds


def test_deep_flow_scan_matches_the_regex() -> None:
    rng = random.Random(3)
    for _ in range(2000):
        text = "".join(rng.choice("[[[{{ ]}ab\n") for _ in range(rng.randint(50, 300)))
        if rng.random() < 0.5:
            text = "x" * rng.randint(0, 5) + "[" * rng.randint(60, 70) + text
        if rng.random() < 0.3:
            text = text.replace("[", "[" + " " * rng.randint(0, 34))
        match = _yaml._DEEP_FLOW.search(text)
        assert _yaml.deep_flow(text) == (match.start() if match else None), text
