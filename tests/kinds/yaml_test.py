"""The YAML position layer: exact value spans, refusals, aliases, merges, errors, bounds."""

from __future__ import annotations

import re

import pytest

from migrate.context import FileContext, Parsing
from migrate.kinds import compose, helm, kubernetes, kustomize
from migrate.occurrence import ScanError
from migrate.syntax import yaml as _yaml
from migrate.syntax.yaml import Mapping, Scalar, Sequence


def _scalars(text: str) -> list[Scalar]:
    return [n for n in _nodes(_yaml.documents(text)) if isinstance(n, Scalar)]


def _nodes(roots: list[_yaml.Node]) -> list[_yaml.Node]:
    """Every node, each once, in document order (keys before their values)."""
    out: list[_yaml.Node] = []
    seen: set[int] = set()
    stack = list(reversed(roots))
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        out.append(node)
        if isinstance(node, Mapping):
            stack.extend(n for pair in reversed(node.pairs) for n in reversed(pair))
        elif isinstance(node, Sequence):
            stack.extend(reversed(node.items))
    return out


def _text(node: object) -> str:
    assert isinstance(node, Scalar)
    return node.value


def _value(text: str, key: str = "a") -> Scalar:
    doc = _yaml.documents(text)[0]
    assert isinstance(doc, Mapping)
    node = _yaml.fields(doc)[key]
    assert isinstance(node, Scalar)
    return node


@pytest.mark.parametrize(
    ("text", "value"),
    (
        pytest.param("a: nginx:1.27\n", "nginx:1.27", id="plain"),
        pytest.param("a: 'nginx:1.27'\n", "nginx:1.27", id="single-quoted"),
        pytest.param('a: "nginx:1.27"\n', "nginx:1.27", id="double-quoted"),
        pytest.param("a: nginx:1.27   # pinned\n", "nginx:1.27", id="comment-same-line"),
        pytest.param("a: &x nginx:1.27\n", "nginx:1.27", id="anchor"),
        pytest.param("a: !!str nginx:1.27\n", "nginx:1.27", id="tag"),
        pytest.param("a: &x !!str 'nginx:1.27'\n", "nginx:1.27", id="anchor-tag-quoted"),
        pytest.param('a: !<tag:yaml.org,2002:str> "n"\n', "n", id="verbatim-tag"),
        pytest.param("{a: nginx, b: c}\n", "nginx", id="flow-mapping"),
        pytest.param('{"a": "nginx",b: c}', "nginx", id="flow-quoted-no-final-newline"),
        pytest.param("a: nginx:1.27", "nginx:1.27", id="no-final-newline"),
        pytest.param("a: nginx:1.27\r\nb: x\r\n", "nginx:1.27", id="crlf"),
        pytest.param("# c\r\n\r\nb: x\r\na: 'nginx'\r\n", "nginx", id="crlf-offsets-count-cr"),
        pytest.param("a: nginx\t# tab before the comment\n", "nginx", id="tab-before-comment"),
        pytest.param("a:\tnginx\n", "nginx", id="tab-after-colon"),
        pytest.param("a: nginx\t\r\n", "nginx", id="trailing-tab-crlf"),
        pytest.param(
            "# a\tcomment\twith tabs\na: nginx # and\there\n", "nginx", id="tabs-in-comments"
        ),
        pytest.param("%YAML 1.2\n---\na: nginx\n...\n", "nginx", id="document-markers"),
        pytest.param("a: 'it'' s'\n", None, id="single-quote-escape"),
        pytest.param('a: "ngin\\x78"\n', None, id="double-quote-escape"),
        pytest.param('a: "nginx\\\n  :1"\n', None, id="escaped-line-break"),
        pytest.param("a: 'multi\n  line'\n", None, id="folded-quoted"),
        pytest.param("a: multi\n  line\n", None, id="folded-plain"),
        pytest.param("a: |\n  nginx\n", None, id="literal-block"),
        pytest.param("a: >-\n  nginx\n", None, id="folded-block"),
        pytest.param('a: "x\ty"\n', None, id="tab-inside-quotes-refused"),
        pytest.param("a: ngi\tnx\n", None, id="tab-inside-plain-refused"),
    ),
)
def test_span_is_the_value_alone(text: str, value: str | None) -> None:
    node = _value(text)
    if value is None:
        assert node.span is None and node.refused
    else:
        assert node.span is not None and node.refused is None
        assert node.value == value
        assert text[node.span[0] : node.span[1]] == value


def test_crlf_offsets_are_characters_of_the_decoded_text() -> None:
    # ruamel's Mark.index counts "\r\n" as two characters, as Python's str does.
    text = "x: 1\r\ny: 2\r\na: nginx\r\n"
    assert _value(text).span == (text.index("nginx"), text.index("nginx") + 5)


def test_bom_free_text_with_non_ascii_keeps_character_offsets() -> None:
    text = "é: ü\na: 'nginx'  # ☃\n"
    assert _value(text).span == (text.index("nginx"), text.index("nginx") + 5)


def test_an_alias_is_the_same_node() -> None:
    text = "x: &img nginx\na: *img\nb: [*img, *img]\n"
    doc = _yaml.documents(text)[0]
    assert isinstance(doc, Mapping)
    fields = _yaml.fields(doc)
    assert fields["a"] is fields["x"]
    assert [n.value for n in _scalars(text)].count("nginx") == 1


def test_merge_keys_own_keys_win_and_earlier_merges_win() -> None:
    text = (
        "one: &one {image: a, x: 1}\n"
        "two: &two {image: b, y: 2}\n"
        "m: {<<: [*one, *two], x: own}\n"
        "n: {<<: *two, image: own}\n"
        "c: &c {<<: *c, z: 3}\n"  # a merge cycle terminates
    )
    doc = _yaml.documents(text)[0]
    assert isinstance(doc, Mapping)
    top = _yaml.fields(doc)
    m, n, c = (_yaml.fields(top[k]) for k in "mnc")  # type: ignore[arg-type]
    assert {k: _text(v) for k, v in m.items()} == {"x": "own", "image": "a", "y": "2"}
    assert _text(n["image"]) == "own"
    assert set(c) == {"z"}


def test_repeated_merge_keys_each_merge() -> None:
    # Strictly a duplicate key, but CircleCI and PyYAML take each `<<:` as a merge
    # (ethereum/solidity's .circleci/config.yml); earlier ones win, as in `<<: [*b, *c]`.
    text = "b: &b {x: 1}\nc: &c {x: 2, y: 3}\na:\n  <<: *b\n  <<: *c\n"
    doc = _yaml.documents(text)[0]
    inner = _yaml.fields(doc)["a"]  # type: ignore[arg-type]
    assert isinstance(inner, Mapping)
    assert {k: _text(v) for k, v in _yaml.fields(inner).items()} == {"x": "1", "y": "3"}


def test_quoted_merge_key_is_an_ordinary_key() -> None:
    doc = _yaml.documents('b: &b {x: 1}\na: {"<<": *b}\n')[0]
    inner = _yaml.fields(doc)["a"]  # type: ignore[arg-type]
    assert isinstance(inner, Mapping) and set(_yaml.fields(inner)) == {"<<"}


def test_multiple_documents_each_converted_on_their_own() -> None:
    # Node ids of a finished document are reused by the next: a shared memo would alias them.
    text = "".join(f"---\nkind: Pod\nimage: img{i}\n" for i in range(50))
    docs = _yaml.documents(text)
    assert [_text(_yaml.fields(d)["image"]) for d in docs] == [  # type: ignore[arg-type]
        f"img{i}" for i in range(50)
    ]


def test_sequences_and_empty_collections() -> None:
    doc = _yaml.documents("a: []\nb: {}\nc: [x, {d: e}]\n")[0]
    fields = _yaml.fields(doc)  # type: ignore[arg-type]
    assert isinstance(fields["a"], Sequence) and isinstance(fields["b"], Mapping)
    assert isinstance(fields["c"], Sequence) and len(fields["c"].items) == 2


def test_plain_numbers_keep_their_text() -> None:
    node = _value("a: 1.30\n")
    assert node.tag.endswith(":float") and node.value == "1.30"
    assert _yaml.string(node) is None and _yaml.text_of(node) == "1.30"


@pytest.mark.parametrize(
    ("text", "offset", "reason"),
    (
        pytest.param("a: [1\n", 6, "expected ','", id="unclosed-flow"),
        pytest.param("a: *nope\n", 3, "undefined alias", id="undefined-alias"),
        pytest.param("a: b: c\n", 4, "mapping values are not allowed", id="nested-colon"),
        pytest.param("a: 1\r\na: 2\r\n", 6, "duplicate key 'a'", id="duplicate-key-crlf"),
        pytest.param(
            "x:\n  image: a\n  image: b\n", 16, "duplicate key 'image'", id="duplicate-nested"
        ),
        pytest.param("a: b\n\x07\n", 5, "unacceptable character", id="control-character"),
        pytest.param("\tkey: v\n", 0, "cannot start any token", id="tab-indentation"),
        pytest.param(
            "{{- if .Values.x }}\na: b\n", 2, "expected the node content", id="go-template"
        ),
        pytest.param("[" * 2000 + "]" * 2000, 0, "nesting too deep", id="nesting-bomb"),
    ),
)
def test_yaml_errors_are_scan_errors_at_the_problem_mark(
    text: str, offset: int, reason: str
) -> None:
    with pytest.raises(ScanError) as caught:
        _yaml.documents(text)
    assert caught.value.offset == offset
    assert reason in caught.value.reason


def test_duplicate_keys_differ_by_type() -> None:
    assert len(_yaml.documents('1: a\n"1": b\n')) == 1  # int 1 and string "1" are two keys


def _billion_laughs(top_key: str) -> str:
    lines = ['l0: &l0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for i in range(1, 10):
        refs = ", ".join([f"*l{i - 1}"] * 9)
        lines.append(f"l{i}: &l{i} [{refs}]")
    lines.append(f"{top_key}: *l9")
    return "\n".join(lines) + "\n"


def test_alias_bomb_walk_is_linear() -> None:
    # 9**10 leaves if aliases were expanded; each node is visited once instead.
    nodes = list(_yaml.mappings(_yaml.documents(_billion_laughs("x"))))
    assert len(nodes) < 200


def test_merge_bomb_is_bounded() -> None:
    lines = ["m0: &m0 {image: nginx}"]
    for i in range(1, 12):
        lines.append(f"m{i}: &m{i} {{<<: [{', '.join([f'*m{i - 1}'] * 9)}]}}")
    lines.append("services: {web: *m11}")
    text = "\n".join(lines) + "\n"
    found = list(compose.scan(text))
    assert [(o.written, text[o.at : o.end]) for o in found] == [("nginx", "nginx")]


@pytest.mark.parametrize("scanner", (compose, kubernetes, helm, kustomize), ids=lambda m: m.NAME)
def test_scanners_survive_alias_bombs(scanner: object) -> None:
    text = "apiVersion: v1\nkind: List\n" + _billion_laughs("images")
    assert list(scanner.scan(text)) == []  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    "text",
    (
        pytest.param("a: [1\n", id="invalid"),
        pytest.param("services:\n  web:\n    image: nginx\n", id="compose"),
        pytest.param("apiVersion: v1\nkind: Pod\nspec: {containers: [{image: x}]}\n", id="k8s"),
        pytest.param("repository: nginx\ntag: 1\n", id="helm"),
    ),
)
def test_prefilter_changes_no_occurrence(text: str, monkeypatch: pytest.MonkeyPatch) -> None:
    def run(enabled: bool) -> list[object]:
        context = FileContext(parsing=Parsing(prefilter="smart" if enabled else "off"))
        out: list[object] = []
        for scanner in (compose, kubernetes, helm, kustomize):
            try:
                out.append(list(scanner.scan(text, context)))
            except ScanError as exc:
                out.append(("error", exc.offset))
        return out

    with_filter, without = run(True), run(False)
    if "[1" in text:  # invalid YAML mentioning no key: not composed, so not reported
        assert with_filter == [[]] * 4 and without == [("error", 6)] * 4
    else:
        assert with_filter == without


@pytest.mark.parametrize(
    ("scanner", "key"),
    (
        (compose, "image"),
        (kubernetes, "image"),
        (helm, "repository"),
        (helm, "sidecarImage"),
        (helm, "init_image"),
        (kustomize, "images"),
    ),
)
def test_prefilter_pattern_covers_every_key_the_scanner_reads(scanner: object, key: str) -> None:
    pattern: re.Pattern[str] = scanner._WORDS  # type: ignore[attr-defined]
    assert _yaml.mentions(f"{key}: x", pattern)
    assert not _yaml.mentions("name: x\ntag: y", pattern)


@pytest.mark.parametrize(
    ("value", "reason"),
    (
        pytest.param("nginx:1.27", None, id="concrete"),
        pytest.param("node:${TAG}", None, id="variable-in-tag"),
        pytest.param("node:$TAG-alpine", None, id="bare-variable-in-tag"),
        pytest.param("localhost:5000/${APP}", "variable in image name", id="port-is-not-a-tag"),
        pytest.param("${REGISTRY}/nginx:1", "variable in image name", id="variable-in-registry"),
        pytest.param("{{ .Values.image }}", "templated value", id="go-template"),
        pytest.param("$(params.image)", "templated value", id="tekton"),
        pytest.param("nginx:$$1", "literal $$ in reference", id="escaped-dollar"),
    ),
)
def test_templated(value: str, reason: str | None) -> None:
    assert _yaml.templated(value) == reason
