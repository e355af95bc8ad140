"""Trees derived for a rewritten text (`kept_trees`) are the trees composing it gives: over every
rewritten fixture, over generated YAML with safe and unsafe values, and a refusal wherever an
edit could change more than one value. `fix` then composes a file once, with the same result."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from migrate.config import Config
from migrate.context import Parsing
from migrate.occurrence import ScanError
from migrate.rewrite import edits, engine, one_file
from migrate.rewrite.settings import Settings
from migrate.rewrite.walk import Candidate
from migrate.syntax import kept_trees
from migrate.syntax import yaml as _yaml
from migrate.syntax.yaml import Mapping, Node, Scalar, Sequence
from tests.helpers import FIXTURES, REGISTRY

CONFIG = Config(registry=REGISTRY)
BOTH = (Parsing(fast=True), Parsing(fast=False))


def difference(one: list[Node], other: list[Node]) -> str | None:
    """Where two lists of trees differ (None: nowhere), aliases included: a node shared in one
    is the same node in the other."""
    if len(one) != len(other):
        return f"{len(one)} documents, {len(other)} composed"
    pairs: dict[int, int] = {}
    todo = list(zip(one, other))
    while todo:
        a, b = todo.pop()
        if id(a) in pairs or id(b) in pairs.values():
            if pairs.get(id(a)) != id(b):
                return f"aliases differ at {a!r}"
            continue
        pairs[id(a)] = id(b)
        if type(a) is not type(b):
            return f"{a!r} is composed as {b!r}"
        if isinstance(a, Scalar):
            assert isinstance(b, Scalar)
            mine = (a.value, a.tag, a.start, a.end, a.span, a.refused, a.lead, a._start)
            theirs = (b.value, b.tag, b.start, b.end, b.span, b.refused, b.lead, b._start)
            if mine != theirs:
                return f"{mine} composed as {theirs}"
            continue
        assert isinstance(a, (Mapping, Sequence)) and isinstance(b, (Mapping, Sequence))
        if (a.start, a.end) != (b.start, b.end):
            return f"{type(a).__name__} at {a.start, a.end} composed at {b.start, b.end}"
        mine_items = a.items if isinstance(a, Sequence) else a.flat
        their_items = b.items if isinstance(b, Sequence) else b.flat  # type: ignore[union-attr]
        if len(mine_items) != len(their_items):
            return f"{type(a).__name__} at {a.start} holds {len(mine_items)}"
        todo.extend(zip(mine_items, their_items))
    return None


def derived(text: str, splices: list[edits.Edit], parsing: Parsing = BOTH[0]) -> list[Node] | None:
    """The trees `kept_trees` derives for `splices` applied to `text`, or None: refused."""
    new_text = edits.apply(text, splices)
    with kept_trees.keeping(text):
        _yaml.documents(text, parsing)
        if not kept_trees.derive(text, new_text, splices):
            return None
        docs = kept_trees.take(new_text)
        assert docs is not None and kept_trees.take(new_text) is None  # handed out once
        return docs


def assert_composed(new_text: str, docs: list[Node]) -> None:
    for parsing in BOTH:
        assert difference(docs, _yaml.documents(new_text, parsing)) is None, parsing


def edit(text: str, old: str, new: str, nth: int = 0) -> edits.Edit:
    start = -1
    for _ in range(nth + 1):
        start = text.index(old, start + 1)
    return edits.Edit(start, start + len(old), old, new)


ECR = f"{REGISTRY}/docker-hub/library/nginx:1.27"

DERIVED = [
    ("image: nginx:1.27\n", [("nginx:1.27", ECR)]),
    ("image: 'nginx:1.27' # pinned\n", [("nginx:1.27", ECR)]),
    ('a: {image: "nginx", tag: "1"}\nb: [nginx, x]\n', [("nginx", ECR, 1)]),
    ("- &img nginx:1.27\n- *img\n- !!str nginx\n", [("nginx:1.27", ECR), ("nginx", "a/b", 1)]),
    ("x: &m {image: nginx}\ny: *m\n---\nimage: redis\n", [("nginx", ECR), ("redis", "r/redis")]),
    ("image: docker.io/bitnami/redis:7.2\n", [("docker.io", REGISTRY), ("bitnami", "d/bitnami")]),
    ("allow: false\nlevel: 1.30\n", [("false", "true"), ("1.30", "1.31")]),
    ("a:\n  b:\n    - c: nginx\n      d:\n  e: x\n", [("nginx", ECR)]),
]


@pytest.mark.parametrize(("text", "changes"), DERIVED)
@pytest.mark.parametrize("parsing", BOTH, ids=["libyaml", "pure"])
def test_derived_as_composed(text: str, changes: list[tuple[Any, ...]], parsing: Parsing) -> None:
    splices = [edit(text, *change) for change in changes]
    docs = derived(text, splices, parsing)
    assert docs is not None
    assert_composed(edits.apply(text, splices), docs)


REFUSED = [
    ("nginx: x\n", ("nginx", ECR)),  # a key
    ("[nginx]: x\n", ("nginx", ECR)),  # inside a key
    ("a: &k nginx\n*k : y\n", ("nginx", ECR)),  # a value that is also a key
    ("image: nginx\n", ("nginx", "a: b")),
    ("image: nginx\n", ("nginx", "a #b")),
    ("image: [nginx]\n", ("nginx", "a,b")),
    ("image: 'nginx'\n", ("nginx", "a'b")),
    ('image: "nginx"\n', ("nginx", 'a"b')),
    ('image: "nginx"\n', ("nginx", "a\\b")),
    ("image: nginx\n", ("nginx", "a:")),
    ("image: nginx\n", ("nginx", "a::b")),
    ("image: nginx\n", ("nginx", "-a")),
    ("image: nginx\n", ("nginx", "123")),  # a string would become an int
    ("image: !!str 123\n", ("123", "124")),  # its tag is not the one its text resolves to
    ("image: |\n  nginx\n", ("nginx", ECR)),  # a block scalar
    ('image: "ng\\x69nx"\n', ("ng", "a")),  # escapes: no span
    ("%YAML 1.2\n---\nimage: nginx\n", ("nginx", ECR)),
    ("image: nginx # c\n", ("# c", "# d")),  # a comment: in no scalar
    ("image: nginx\n", ("ginx\n", "ginx ")),  # past the value
]


@pytest.mark.parametrize(("text", "change"), REFUSED)
def test_refused(text: str, change: tuple[str, str]) -> None:
    splice = edit(text, *change)
    with kept_trees.keeping(text):
        docs = _yaml.documents(text)
        before = repr(docs)
        assert not kept_trees.derive(text, edits.apply(text, [splice]), [splice])
        assert repr(docs) == before  # untouched


def test_insertion_refused() -> None:
    text = "image: nginx\n"
    inserted = edits.Edit(len(text), len(text), "", "global:\n  security: {}\n")
    assert derived(text, [inserted]) is None


def test_one_derivation_per_kept_tree() -> None:
    text = "image: nginx\nother: redis\n"
    first, second = [edit(text, "nginx", ECR)], [edit(text, "redis", "r/redis")]
    with kept_trees.keeping(text):
        _yaml.documents(text)
        assert kept_trees.derive(text, edits.apply(text, first), first)
        assert not kept_trees.derive(text, edits.apply(text, second), second)  # the retry


def test_only_the_kept_text_and_only_its_derived_object() -> None:
    text = "image: nginx\n"
    other = text[:7] + text[7:]  # equal, another object
    splices = [edit(text, "nginx", ECR)]
    new_text = edits.apply(text, splices)
    with kept_trees.keeping(text):
        _yaml.documents(other)
        assert not kept_trees.derive(text, new_text, splices)  # nothing kept for `text`
        _yaml.documents(text)
        assert kept_trees.derive(text, new_text, splices)
        assert kept_trees.take("".join([new_text[:3], new_text[3:]])) is None
    with kept_trees.keeping(text):
        assert kept_trees.take(new_text) is None  # nothing outlives its window
        _yaml.documents(text)
        kept_trees.forget()
        assert not kept_trees.derive(text, new_text, splices)


# Generated YAML: scalars of every style, anchors and aliases, block and flow, several documents.
_PLAIN = st.sampled_from(
    ["nginx", "nginx:1.27", "a b", "1.30", "true", "~", "x#y", "r/n@sha", "-x"]
)
_QUOTED = st.builds(lambda q, v: q + v + q, st.sampled_from(["'", '"']), _PLAIN)
_SAFE_VALUES = st.sampled_from(["nginx", ECR, "r/n:1", "a:b", "_x", "q@1+2", "x.y-z"])
_VALUES = (
    _SAFE_VALUES
    | _SAFE_VALUES
    | _SAFE_VALUES
    | st.sampled_from(["1.5", "123", "null", "true", "0o7", ".inf"])
    | st.sampled_from(["a: b", "a #b", "a,b", "a]", "'", '"', "a\\b", "", " ", "x y", "a\n"])
    | st.sampled_from(["*a", "&a b", "!x", "-", "?", "a::b", "a:", "%x", "{}", "---", "..."])
    | st.text(st.sampled_from("ab1:., #[]{}'\"\\-_@+/&*!?%|>\t\n"), max_size=6)
)


@st.composite
def _scalar(draw: st.DrawFn, anchors: list[str]) -> str:
    if anchors and draw(st.integers(0, 5)) == 0:
        return "*" + draw(st.sampled_from(anchors))
    value = draw(_PLAIN | _QUOTED)
    prefix = draw(st.sampled_from(["", "", "", "!!str ", "&A ", "&B "]))
    if prefix.startswith("&"):
        anchors.append(prefix[1])
    return prefix + value


@st.composite
def _node(draw: st.DrawFn, indent: int, anchors: list[str], depth: int = 0) -> str:
    """A value at `indent`: a scalar or flow collection for the key's line (' x'), or a block
    collection on the lines after it ('\n  ...')."""
    shape = draw(st.integers(0, 4 if depth < 3 else 2))
    if shape <= 1:
        return " " + draw(_scalar(anchors))
    if shape == 2:
        items = draw(st.lists(_scalar(anchors), min_size=1, max_size=3))
        if draw(st.booleans()):
            return " [" + ", ".join(items) + "]"
        return " {" + ", ".join(f"k{i}: {v}" for i, v in enumerate(items)) + "}"
    lines = []
    for i in range(draw(st.integers(1, 3))):
        lead = " " * indent + ("-" if shape == 3 else f"k{i}:")
        lines.append(lead + draw(_node(indent + 2, anchors, depth + 1)))
    return "\n" + "\n".join(lines)


@st.composite
def _yaml_text(draw: st.DrawFn) -> str:
    documents = []
    for _ in range(draw(st.integers(1, 2))):
        body = draw(_node(0, [])).removeprefix("\n").removeprefix(" ")
        documents.append(body + draw(st.sampled_from(["", " # c"])))
    return "\n---\n".join(documents) + "\n"


def _scalars(docs: list[Node]) -> tuple[list[Scalar], list[Scalar]]:
    """The scalars with a span of some characters: (all, those that are values)."""
    every, values, seen = [], [], set()
    todo: list[tuple[Node, bool]] = [(doc, False) for doc in docs]
    while todo:
        node, key = todo.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, Scalar):
            if node.span is not None and node.span[0] < node.span[1]:
                every.append(node)
                if not key:
                    values.append(node)
        elif isinstance(node, Sequence):
            todo.extend((item, key) for item in node.items)
        else:
            todo.extend((item, key or i % 2 == 0) for i, item in enumerate(node.flat))
    return every, values


@settings(suppress_health_check=[HealthCheck.too_slow])
@given(text=_yaml_text(), data=st.data(), fast=st.booleans())
def test_derived_or_refused_never_wrong(text: str, data: st.DataObject, fast: bool) -> None:
    parsing = Parsing(fast=fast)
    try:
        docs = _yaml.documents(text, parsing)
    except ScanError:
        return
    every, values = _scalars(docs)
    if not every:
        return
    pool = data.draw(st.sampled_from([every, values or every]))
    chosen = data.draw(st.lists(st.sampled_from(range(len(pool))), min_size=1, max_size=2))
    splices = []
    for scalar in [pool[i] for i in set(chosen)]:
        lo, hi = scalar.span  # type: ignore[misc]
        whole = data.draw(st.booleans())
        start = lo if whole else data.draw(st.integers(lo, hi - 1))
        end = hi if whole else data.draw(st.integers(start, hi))  # start == end: an insertion
        splices.append(edits.Edit(start, end, text[start:end], data.draw(_VALUES)))
    new_text = edits.apply(text, splices)
    trees = derived(text, splices, parsing)
    event("derived" if trees is not None else "refused")
    if trees is not None:
        assert_composed(new_text, trees)


def test_fixture_rewrites_derive_the_composed_trees(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every rewritten YAML fixture: what `fix` derives for its re-scan is what composing the
    rewritten text gives, and `fix` finds and writes the same as with derivation off."""
    shutil.copytree(FIXTURES, tmp_path / "fixtures", symlinks=True)
    real = kept_trees.derive
    checked: list[str] = []

    def checking(text: str, new_text: str, splices: Any) -> bool:
        done = real(text, new_text, splices)
        if done:
            window = kept_trees._window.get()
            assert window is not None and window.derived is not None
            assert_composed(new_text, window.derived[1])
            checked.append(new_text)
        return done

    def run() -> list[tuple[Any, ...]]:
        found = engine.run(["fixtures"], CONFIG, tmp_path, fix=True, jobs=1)
        return [(r.path, r.file_kind, r.findings, r.after) for r in found]

    monkeypatch.setattr(kept_trees, "derive", checking)
    with_derivation = run()
    monkeypatch.setattr(kept_trees, "derive", lambda *_: False)
    assert run() == with_derivation
    print(len(checked))
    assert len(checked) >= 20, len(checked)  # most rewritten YAML fixtures derive


def _values(images: int) -> str:
    out = ["global:\n  imageRegistry: ''\n"]
    for i in range(images):
        out.append(
            f"c{i}:\n  image: nginx:1.{i}\n  sidecar:\n    image:\n      registry: quay.io\n"
            f"      repository: prometheus/node-exporter\n      tag: 'v1.{i}'\n"
            f'  list:\n    - name: x\n      image: &a{i} "redis:{i}"\n    - image: *a{i}\n'
        )
    return "".join(out)


@pytest.mark.parametrize("parsing", BOTH, ids=["libyaml", "pure"])
def test_fix_composes_a_dense_file_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, parsing: Parsing
) -> None:
    path = tmp_path / "values.yaml"
    path.write_text(_values(120))
    real = _yaml._compose
    composed: list[int] = []

    def counting(text: str, parsing: Parsing) -> list[Node]:
        composed.append(len(text))
        return real(text, parsing)

    monkeypatch.setattr(_yaml, "_compose", counting)

    def fix() -> tuple[Any, ...]:
        run = Settings(CONFIG, fix=True, parsing=parsing, provers=())
        found = one_file.result(Candidate("values.yaml", path), run)
        assert found is not None and found.after is not None and found.after != found.before
        return found.findings, found.after

    once = fix()
    assert len(composed) == 1
    monkeypatch.setattr(kept_trees, "derive", lambda *_: False)
    assert fix() == once
    assert len(composed) == 3


def test_nothing_to_rewrite_keeps_no_tree_beside_the_findings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "values.yaml"
    path.write_text(f"image: {ECR}\n" + "".join(f"k{i}: v\n" for i in range(2000)))  # libyaml
    real = one_file.findings
    kept: list[object] = []

    def spying(*args: Any) -> Any:
        window = kept_trees._window.get()
        kept.append(window and window.kept)
        return real(*args)

    monkeypatch.setattr(one_file, "findings", spying)
    found = one_file.process(Candidate("values.yaml", path), CONFIG, fix=True, write=False)
    assert found is not None and found.findings and found.after is None
    assert kept == [None]
