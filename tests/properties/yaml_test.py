"""Generated Compose files, Kubernetes manifests and Helm values: `fix` changes exactly the
reference spans, the file loads to the same data but for the rewritten values, and a second
`fix` is a no-op.

Formatting is drawn at random: quote styles, block and flow collections, comments, anchors,
aliases and merge keys, indentation, sequence indentation, document markers, CRLF, BOM, and a
missing final newline.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.properties._docs import (
    NAMES,
    REFERENCES,
    SPLIT,
    Doc,
    Piece,
    Slot,
    checked_out,
    fix,
    fix_and_check,
    rewrites,
    slots,
)

_COMMENT = st.sampled_from(["", "", "  # pinned", " # image: nginx:1.27", "\t# tab before"])
_WORDS = st.text(st.sampled_from("abc XYZ019_-./:é漢😀"), max_size=10).map(str.strip)
NewLine = Callable[[], str]


class _Y:
    """Drawing helpers for one document: newline style, indentation unit, scalar styles."""

    def __init__(self, draw: st.DrawFn, doc: Doc) -> None:
        self.draw, self.doc = draw, doc
        self.newline = draw(st.sampled_from(["\n", "\r\n", "mixed"]))
        self.unit = draw(st.sampled_from(["  ", "   ", "    "]))
        self.anchors = 0

    def nl(self) -> str:
        if self.newline == "mixed":
            return self.draw(st.sampled_from(["\n", "\r\n"]))
        return self.newline

    def end(self, flow: bool = False) -> str:
        """A line end, with a comment now and then (never inside a flow collection)."""
        return ("" if flow else self.draw(_COMMENT)) + self.nl()

    def quoted(self, *pieces: Piece, flow: bool = False) -> list[Piece]:
        """A scalar made of pieces, in a style that reads back as exactly those characters."""
        text = "".join(p if isinstance(p, str) else p.written for p in pieces)
        styles = ["'", '"']
        if not (flow and any(c in text for c in ",{}[]")) and "#" not in text:
            styles.append("")  # plain
        quote = self.draw(st.sampled_from(styles))
        return [quote, *pieces, quote]

    def anchor(self) -> str:
        self.anchors += 1
        return f"&a{self.anchors} "

    def comment_line(self, indent: str) -> None:
        if self.draw(st.integers(0, 3)) == 0:
            self.doc.add(f"{indent}# {self.draw(_WORDS)}", self.nl())
        if self.draw(st.integers(0, 5)) == 0:
            self.doc.add(self.nl())  # a blank line


def _header(y: _Y) -> None:
    if y.draw(st.booleans()):
        y.doc.add(f"# {y.draw(_WORDS)}", y.nl())
    if y.draw(st.booleans()):
        y.doc.add("---", y.end())


# --- Compose ---------------------------------------------------------------------------------


@st.composite
def compose_files(draw: st.DrawFn) -> Doc:
    doc = Doc(
        bom=draw(st.booleans()),
        name=draw(
            st.sampled_from(
                [
                    "compose.yaml",
                    "docker-compose.yml",
                    "compose.prod.yaml",
                    "deploy/docker-compose.ci.yml",
                ]
            )
        ),
    )
    y = _Y(draw, doc)
    u = y.unit
    _header(y)
    if draw(st.booleans()):
        doc.add('version: "3.8"', y.end())
    base = draw(st.booleans())
    if base:  # an extension field merged into services: its image counts only where merged
        doc.add(f"x-base: &base{y.end()}{u}image: ")
        doc.defer("base", draw(slots()))
        doc.add(y.end(), f"{u}restart: always", y.end())
    doc.add("services:", y.end())
    anchored: list[str] = []  # anchors on service images, for later aliases
    for index in range(draw(st.integers(1, 4))):
        y.comment_line(u)
        form = draw(
            st.sampled_from(
                [
                    "block",
                    "block",
                    "flow",
                    "merge",
                    "build",
                    "alias",
                    "default",
                    "name-default",
                    "no-default",
                    "literal-dollar",
                ]
            )
        )
        if form == "alias" and not anchored:
            form = "block"
        if form == "merge" and not base:
            form = "block"
        doc.add(f"{u}svc{index}:")
        if form == "flow":
            doc.add(" {image: ", *y.quoted(draw(slots()), flow=True), ", restart: always}", y.end())
            continue
        doc.add(y.end())
        inner = u * 2
        if form == "merge":
            doc.add(f"{inner}<<: *base", y.end())
            if draw(st.booleans()):
                doc.use("base")
            else:  # its own image wins over the merged one
                doc.add(f"{inner}image: ", *y.quoted(draw(slots())), y.end())
        elif form == "build":  # `image:` names the image being built: never rewritten
            doc.add(f"{inner}build: .", y.end())
            slot = draw(slots())
            doc.add(f"{inner}image: ", *y.quoted(Slot(slot.written, None)), y.end())
        elif form == "alias":
            doc.add(f"{inner}image: *{draw(st.sampled_from(anchored))}", y.end())
        elif form == "default":
            operator = draw(st.sampled_from([":-", "-"]))
            doc.add(f"{inner}image: ", *y.quoted("${IMAGE" + operator, draw(slots()), "}"), y.end())
        elif form == "name-default":
            doc.add(
                f"{inner}image: ",
                *y.quoted("${APP_IMAGE:-", draw(slots(NAMES)), "}:${TAG:-1.0}"),
                y.end(),
            )
        elif form == "no-default":
            doc.add(f"{inner}image: ", *y.quoted("${IMAGE}"), y.end())
        elif form == "literal-dollar":
            doc.add(f"{inner}image: ", *y.quoted("nginx:$$TAG"), y.end())
        else:
            anchor = y.anchor() if draw(st.booleans()) else ""
            doc.add(f"{inner}image: {anchor}", *y.quoted(draw(slots())), y.end())
            if anchor:
                anchored.append(anchor[1:-1])
        _service_extras(y, inner)
    return doc.finish(final_newline=draw(st.booleans()))


def _service_extras(y: _Y, inner: str) -> None:
    extra = y.draw(st.sampled_from(["", "ports", "ports-flow", "environment", "labels"]))
    doc, u = y.doc, y.unit
    if extra == "ports":
        doc.add(f"{inner}ports:", y.end(), f'{inner}{u}- "8080:80"', y.end())
    elif extra == "ports-flow":
        doc.add(f"{inner}ports: [\"8080:80\", '443:443']", y.end())
    elif extra == "environment":  # reference-looking values under other keys stay as they are
        doc.add(f"{inner}environment:", y.end(), f"{inner}{u}IMAGE: nginx:1.27", y.end())
    elif extra == "labels":
        doc.add(f"{inner}labels: {{image: quay.io/x/y}}", y.end())


# --- Kubernetes ------------------------------------------------------------------------------

_WORKLOADS = {  # kind -> (apiVersion, keys from the document down to the pod spec)
    "Pod": ("v1", ["spec"]),
    "Deployment": ("apps/v1", ["spec", "template", "spec"]),
    "CronJob": ("batch/v1", ["spec", "jobTemplate", "spec", "template", "spec"]),
}


@st.composite
def manifests(draw: st.DrawFn) -> Doc:
    doc = Doc(
        bom=draw(st.booleans()),
        name=draw(st.sampled_from(["deploy.yaml", "k8s/app.yml", "manifests/all.yaml"])),
    )
    y = _Y(draw, doc)
    compact = draw(st.booleans())  # `- name:` at the parent key's indentation
    for number in range(draw(st.integers(1, 3))):
        if number:
            doc.add("---", y.end())
        else:
            _header(y)
        kind = draw(st.sampled_from(["Pod", "Deployment", "CronJob", "List"]))
        if kind == "List":
            doc.add("apiVersion: v1", y.end(), "kind: List", y.end(), "items:", y.end())
            dash = "" if compact else y.unit
            inner = dash + "  "
            item = draw(st.sampled_from(["Pod", "Deployment"]))
            doc.add(
                f"{dash}- apiVersion: {_WORKLOADS[item][0]}",
                y.end(),
                f"{inner}kind: {item}",
                y.end(),
            )
            _workload(y, inner, _WORKLOADS[item][1], compact)
        else:
            doc.add(f"apiVersion: {_WORKLOADS[kind][0]}", y.end(), f"kind: {kind}", y.end())
            _workload(y, "", _WORKLOADS[kind][1], compact)
        if draw(st.integers(0, 3)) == 0:
            doc.add("...", y.nl())
    return doc.finish(final_newline=draw(st.booleans()))


def _workload(y: _Y, indent: str, path: list[str], compact: bool) -> None:
    doc, u, draw = y.doc, y.unit, y.draw
    doc.add(f"{indent}metadata:", y.end(), f"{indent}{u}name: app", y.end())
    if draw(st.booleans()):  # text that mentions images, under keys that are not `image`
        doc.add(f'{indent}{u}annotations: {{note: "image: nginx:1.27 is old"}}', y.end())
    for depth, key in enumerate(path):
        doc.add(f"{indent}{u * depth}{key}:", y.end())
        if key == "template":
            doc.add(f"{indent}{u * (depth + 1)}metadata: {{labels: {{app: x}}}}", y.end())
    spec = indent + u * len(path)
    anchors: list[str] = []
    for field_name in ("containers", "initContainers")[: draw(st.integers(1, 2))]:
        if draw(st.booleans()):  # flow sequence of flow mappings
            doc.add(f"{spec}{field_name}: [")
            for index in range(draw(st.integers(1, 2))):
                doc.add(
                    ", " if index else "",
                    f"{{name: c{index}, image: ",
                    *y.quoted(draw(slots()), flow=True),
                    "}",
                )
            doc.add("]", y.end())
            continue
        doc.add(f"{spec}{field_name}:", y.end())
        dash = spec if compact else spec + u
        for index in range(draw(st.integers(1, 3))):
            y.comment_line(dash)
            doc.add(f"{dash}- name: c{index}", y.end())
            body = dash + "  "
            if anchors and draw(st.integers(0, 3)) == 0:
                doc.add(f"{body}image: *{draw(st.sampled_from(anchors))}", y.end())
            else:
                anchor = y.anchor() if draw(st.booleans()) else ""
                doc.add(f"{body}image: {anchor}", *y.quoted(draw(slots())), y.end())
                if anchor:
                    anchors.append(anchor[1:-1])
            if draw(st.booleans()):
                doc.add(
                    f"{body}env:",
                    y.end(),
                    f"{body}- name: IMAGE",
                    y.end(),
                    f"{body}  value: nginx:1.27",
                    y.end(),
                )
            if draw(st.booleans()):
                doc.add(f"{body}imagePullPolicy: IfNotPresent", y.end())


# --- Helm values -----------------------------------------------------------------------------


@st.composite
def values_files(draw: st.DrawFn) -> Doc:
    doc = Doc(
        bom=draw(st.booleans()),
        name=draw(
            st.sampled_from(
                ["values.yaml", "values-prod.yaml", "chart/prod.values.yml", "values.yml"]
            )
        ),
    )
    y = _Y(draw, doc)
    u = y.unit
    _header(y)
    if draw(st.booleans()):
        doc.add("global:", y.end(), f'{u}imageRegistry: ""', y.end())
    for index in range(draw(st.integers(1, 5))):
        y.comment_line("")
        form = draw(
            st.sampled_from(
                ["string", "suffix", "map", "map-flow", "split", "nested", "git-repo", "other"]
            )
        )
        if form == "string":
            doc.add(f"component{index}:", y.end(), f"{u}image: ", *y.quoted(draw(slots())), y.end())
        elif form == "suffix":
            doc.add(f"sidecar{index}Image: ", *y.quoted(draw(slots())), y.end())
        elif form in ("map", "nested"):
            doc.add(f"app{index}:", y.end())
            indent = u
            if form == "nested":
                doc.add(f"{u}metrics:", y.end(), f"{u * 2}enabled: true", y.end())
                indent = u * 2
            doc.add(f"{indent}image:", y.end())
            _image_map(y, indent + u)
        elif form == "map-flow":
            doc.add(
                f"app{index}: {{image: {{repository: ",
                *y.quoted(draw(slots(NAMES)), flow=True),
                ", tag: '1.0'}}",
                y.end(),
            )
        elif form == "split":
            (registry, repository), after = draw(st.sampled_from(sorted(SPLIT.items())))
            doc.add(f"db{index}:", y.end(), f"{u}image:", y.end())
            doc.add(
                f"{u * 2}registry: ", *y.quoted(Slot(registry, after and after[0], False)), y.end()
            )
            doc.add(
                f"{u * 2}repository: ", *y.quoted(Slot(repository, after and after[1])), y.end()
            )
            doc.add(f"{u * 2}tag: 7.2", y.end())
        elif form == "git-repo":  # a repository + tag that is not an image
            doc.add(
                f"source{index}:",
                y.end(),
                f"{u}repository: https://github.com/x/y",
                y.end(),
                f"{u}tag: v1",
                y.end(),
            )
        else:
            doc.add(f"nameOverride{index}: nginx", y.end(), f"replicaCount{index}: 2", y.end())
    return doc.finish(final_newline=draw(st.booleans()))


def _image_map(y: _Y, indent: str) -> None:
    doc, draw = y.doc, y.draw
    doc.add(f"{indent}repository: ", *y.quoted(draw(slots(NAMES))), y.end())
    for key in draw(st.permutations(["tag", "pullPolicy", "digest"]))[: draw(st.integers(1, 3))]:
        value = {
            "tag": draw(st.sampled_from(['"1.27"', "1.27", "v2", "'3'"])),
            "pullPolicy": "IfNotPresent",
            "digest": '""',
        }[key]
        doc.add(f"{indent}{key}: {value}", y.end())


# --- the properties --------------------------------------------------------------------------


def _load(text: str) -> list[Any]:
    from ruamel.yaml import YAML

    # ruamel refuses a tab before a comment, which YAML 1.2 and go-yaml allow (the tool reads it);
    # the generator puts tabs nowhere else.
    return list(YAML(typ="safe", pure=True).load_all(text.replace("\t#", " #")))


def _same_but_rewritten(before: Any, after: Any, allowed: set[tuple[str, str]]) -> None:
    """Walk both trees in step: same shape, same values, but for allowed (old, new) strings."""
    assert type(before) is type(after)
    if isinstance(before, dict):
        assert list(before) == list(after)
        for key in before:
            _same_but_rewritten(before[key], after[key], allowed)
    elif isinstance(before, list):
        assert len(before) == len(after)
        for old, new in zip(before, after):
            _same_but_rewritten(old, new, allowed)
    elif before != after:
        assert any(old in before and before.replace(old, new) == after for old, new in allowed), (
            before,
            after,
        )


def _check(doc: Doc) -> None:
    fix_and_check(doc)
    _same_but_rewritten(_load(doc.text(fixed=False)), _load(doc.text(fixed=True)), rewrites(doc))


@given(compose_files())
def test_compose(doc: Doc) -> None:
    _check(doc)


@given(manifests())
def test_kubernetes(doc: Doc) -> None:
    _check(doc)


@given(values_files())
def test_helm_values(doc: Doc) -> None:
    _check(doc)


def test_tables_cover_both_outcomes() -> None:
    for table in (REFERENCES, NAMES, SPLIT):
        assert {t is None for t in table.values()} == {True, False}


@settings(max_examples=10)
@given(st.sampled_from(["compose", "kubernetes", "helm"]), st.data())
def test_generated_files_are_claimed_by_their_scanner(kind: str, data: st.DataObject) -> None:
    # Otherwise a property could pass by the file being skipped: each kind is scanned as itself.
    strategy = {"compose": compose_files(), "kubernetes": manifests(), "helm": values_files()}[kind]
    doc = data.draw(strategy)
    with checked_out(doc) as root:
        [result] = fix(root, doc.name)
    assert result.file_kind == kind
