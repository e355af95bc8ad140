from __future__ import annotations

from pathlib import Path

import pytest

from migrate.kinds import compose
from migrate.occurrence import ScanError

Found = tuple[str, str, list[tuple[str, str]], "str | None"]


def _found(text: str) -> list[Found]:
    out = []
    for o in compose.scan(text):
        assert o.parts or o.unresolved, "an occurrence with no parts must say why"
        out.append(
            (o.kind, o.written, [(p.role, text[p.start : p.end]) for p in o.parts], o.unresolved)
        )
    return out


def _svc(image: str) -> str:
    return f"services:\n  web:\n    image: {image}\n"


@pytest.mark.parametrize(
    ("text", "expected"),
    (
        pytest.param(
            _svc("nginx:1.27"), [("image", "nginx:1.27", [("ref", "nginx:1.27")], None)], id="plain"
        ),
        pytest.param(
            _svc("'redis:7'"),
            [("image", "redis:7", [("ref", "redis:7")], None)],
            id="single-quoted",
        ),
        pytest.param(
            _svc('"quay.io/a/b:v1"  # pinned'),
            [("image", "quay.io/a/b:v1", [("ref", "quay.io/a/b:v1")], None)],
            id="double-quoted-comment",
        ),
        pytest.param(
            "services: {web: {image: nginx}}",
            [("image", "nginx", [("ref", "nginx")], None)],
            id="flow-no-final-newline",
        ),
        pytest.param(
            "services:\r\n  web:\r\n    image: nginx\t# tab\r\n",
            [("image", "nginx", [("ref", "nginx")], None)],
            id="crlf-tab-comment",
        ),
        pytest.param(
            "---\nservices:\n  a: {image: x:1}\n...\n",
            [("image", "x:1", [("ref", "x:1")], None)],
            id="markers",
        ),
        pytest.param(
            "x-base: &base\n  image: &i python:3.12\nservices:\n  a: {<<: *base}\n  b:\n    <<: *base\n  c:\n    image: *i\n",
            [("image", "python:3.12", [("ref", "python:3.12")], None)],
            id="anchored-scalar-reported-once",
        ),
        pytest.param(
            "x-a: &a {image: a:1}\nx-b: &b {image: b:1}\nservices:\n  s: {<<: [*a, *b]}\n",
            [("image", "a:1", [("ref", "a:1")], None)],
            id="first-merge-wins",
        ),
        pytest.param(
            "x-a: &a {image: a:1}\nservices:\n  s:\n    <<: *a\n    image: own:2\n",
            [("image", "own:2", [("ref", "own:2")], None)],
            id="own-key-wins",
        ),
        pytest.param(
            _svc("${IMG:-redis:7}"),
            [("compose-default", "redis:7", [("ref", "redis:7")], None)],
            id="default-colon-dash",
        ),
        pytest.param(
            _svc('"${IMG-redis:7}"'),
            [("compose-default", "redis:7", [("ref", "redis:7")], None)],
            id="default-dash-quoted",
        ),
        pytest.param(
            _svc("${IMG:-ghcr.io/a/b}:${TAG}"),
            [("compose-default", "ghcr.io/a/b:${TAG}", [("name", "ghcr.io/a/b")], None)],
            id="default-name-then-tag",
        ),
        pytest.param(
            _svc("node:${NODE:-20}-alpine"),
            [("image", "node:${NODE:-20}-alpine", [("ref", "node:${NODE:-20}-alpine")], None)],
            id="variable-in-tag",
        ),
        pytest.param(
            _svc("${IMG}"), [("image", "${IMG}", [], "variable without default")], id="bare-braced"
        ),
        pytest.param(_svc("$IMG"), [("image", "$IMG", [], "variable without default")], id="bare"),
        pytest.param(
            _svc("${IMG:?required}"),
            [("image", "${IMG:?required}", [], "variable without default")],
            id="required",
        ),
        pytest.param(
            _svc("${IMG:-}"),
            [("compose-default", "${IMG:-}", [], "empty default")],
            id="empty-default",
        ),
        pytest.param(
            _svc("${REG:-docker.io}/nginx:1"),
            [("compose-default", "${REG:-docker.io}/nginx:1", [], "variable in image name")],
            id="variable-registry",
        ),
        pytest.param(
            _svc("${IMG:-nginx:1}:2"),
            [("compose-default", "${IMG:-nginx:1}:2", [], "variable in image name")],
            id="default-with-tag-then-tag",
        ),
        pytest.param(
            _svc("${A:-${B:-nginx}}"),
            [("image", "${A:-${B:-nginx}}", [], "variable in image name")],
            id="nested-default",
        ),
        pytest.param(
            _svc("'alpine:$${TAG}'"),
            [("image", "alpine:$${TAG}", [], "literal $$ in image")],
            id="dollar-dollar",
        ),
        pytest.param(
            _svc('"ngin\\x78"'),
            [("image", "nginx", [], "quoted scalar with escapes")],
            id="escapes",
        ),
        pytest.param(
            _svc("|\n      nginx"), [("image", "nginx\n", [], "block scalar")], id="block-scalar"
        ),
    ),
)
def test_scan(text: str, expected: list[Found]) -> None:
    assert _found(text) == expected


@pytest.mark.parametrize(
    "text",
    (
        pytest.param("version: '3'\n", id="no-services"),
        pytest.param("services:\n  - image: nginx\n", id="services-list"),
        pytest.param("services:\n  web:\n    build: .\n    image: me/web:dev\n", id="build"),
        pytest.param(
            "x-b: &b {build: .}\nservices:\n  web: {<<: *b, image: me/web}\n",
            id="build-through-merge",
        ),
        pytest.param(
            "x-unused:\n  image: nginx\nservices:\n  web: {command: x}\n", id="x-block-not-merged"
        ),
        pytest.param("services:\n  web:\n", id="null-service"),
        pytest.param("services:\n  web: {image: }\n", id="null-image"),
        pytest.param("services:\n  web: {image: ''}\n", id="empty-image"),
        pytest.param("services:\n  web: {image: 1.5}\n", id="number-image"),
        pytest.param("services:\n  web: {environment: {image: nginx}}\n", id="nested-image-key"),
        pytest.param("", id="empty-file"),
    ),
)
def test_scan_noop(text: str) -> None:
    assert _found(text) == []


def test_at_and_end_are_the_reported_span() -> None:
    text = _svc("${IMG:-redis:7}")
    (occ,) = compose.scan(text)
    assert text[occ.at : occ.end] == "redis:7"


def test_duplicate_service_key_is_an_error() -> None:
    with pytest.raises(ScanError, match="duplicate key 'image'"):
        list(compose.scan("services:\n  web:\n    image: a\n    image: b\n"))


@pytest.mark.parametrize(
    ("name", "text", "claimed"),
    (
        ("compose.yaml", "", True),
        ("compose.yml", "", True),
        ("docker-compose.yml", "", True),
        ("docker-compose.override.yaml", "", True),
        ("compose.prod.yml", "", True),
        ("Docker-Compose.YML", "", True),
        ("stack.yml", "services:\n  web:\n    image: nginx\n", True),
        ("stack.yaml", "# x\nservices:   # all of them\r\n\r\n  web:\r\n    build: .\r\n", True),
        (".gitlab-ci.yml", "image: ruby:3\nservices:\n  - postgres:16\n", False),
        ("pod.yaml", "apiVersion: v1\nkind: Pod\nservices:\n  web:\n    image: nginx\n", False),
        ("values.yaml", "services:\n  web:\n    image: nginx\n", False),
        ("kustomization.yaml", "services:\n  web:\n    image: nginx\n", False),
        ("other.yaml", "config:\n  services:\n    web:\n      image: nginx\n", False),
        ("compose.json", "", False),
        ("Dockerfile", "", False),
    ),
)
def test_claims(name: str, text: str, claimed: bool, tmp_path: Path) -> None:
    assert compose.claims(tmp_path / name, text) is claimed


def test_claims_leaves_files_beside_a_chart_to_helm(tmp_path: Path) -> None:
    (tmp_path / "Chart.yaml").write_text("apiVersion: v2\nname: x\n")
    assert not compose.claims(tmp_path / "stack.yaml", "services:\n  web:\n    image: nginx\n")
