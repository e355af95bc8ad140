from __future__ import annotations

from pathlib import Path

import pytest

from migrate.context import FileContext, Repo
from migrate.kinds import helm

Found = tuple[str, str, list[tuple[str, str]], "str | None"]
GLOBAL = "global.imageRegistry overrides the registry in templates"


def _found(text: str) -> list[Found]:
    out = []
    for o in helm.scan(text):
        assert o.parts or o.unresolved
        if o.parts and o.parts[-1].role != "head":  # reported where the name is
            assert (o.at, o.end) == o.parts[-1][1:], o
        out.append(
            (o.kind, o.written, [(p.role, text[p.start : p.end]) for p in o.parts], o.unresolved)
        )
    return out


@pytest.mark.parametrize(
    ("text", "expected"),
    (
        pytest.param(
            "image: nginx:1.27\n",
            [("image", "nginx:1.27", [("ref", "nginx:1.27")], None)],
            id="image-string",
        ),
        pytest.param(
            "a:\n  sidecarImage: 'busybox:1'\n  init_image: \"alpine:3\"\n",
            [
                ("image", "busybox:1", [("ref", "busybox:1")], None),
                ("image", "alpine:3", [("ref", "alpine:3")], None),
            ],
            id="keys-ending-in-image",
        ),
        pytest.param(
            'image:\n  registry: docker.io\n  repository: bitnami/redis\n  tag: 7.2.5\n  digest: ""\n',
            [
                (
                    "image-map",
                    "docker.io/bitnami/redis:7.2.5",
                    [("registry", "docker.io"), ("path", "bitnami/redis")],
                    None,
                )
            ],
            id="bitnami",
        ),
        pytest.param(
            "image:\r\n  repository: 'redis'\t# official\r\n  registry: \"docker.io\"\r\n  tag: '7'\r\n",
            [
                (
                    "image-map",
                    "docker.io/redis:7",
                    [("registry", "docker.io"), ("path", "redis")],
                    None,
                )
            ],
            id="bitnami-crlf-quoted-registry-after",
        ),
        pytest.param(
            "image: {registry: quay.io, repository: prometheus/prometheus, digest: 'sha256:"
            + "b" * 64
            + "'}\n",
            [
                (
                    "image-map",
                    "quay.io/prometheus/prometheus@sha256:" + "b" * 64,
                    [("registry", "quay.io"), ("path", "prometheus/prometheus")],
                    None,
                )
            ],
            id="flow-digest",
        ),
        pytest.param(
            "image:\n  repository: quay.io/prometheus/prometheus\n  tag: v2.53.0\n",
            [
                (
                    "image-map",
                    "quay.io/prometheus/prometheus:v2.53.0",
                    [("name", "quay.io/prometheus/prometheus")],
                    None,
                )
            ],
            id="repository-full-reference",
        ),
        pytest.param(
            'image:\n  repository: nginx\n  pullPolicy: IfNotPresent\n  tag: ""\n',
            [("image-map", "nginx", [("name", "nginx")], None)],
            id="docker-hub-empty-tag",
        ),
        pytest.param(
            "image:\n  repository: registry.k8s.io/kubectl\n  tag: 1.30\n",
            [
                (
                    "image-map",
                    "registry.k8s.io/kubectl:1.30",
                    [("name", "registry.k8s.io/kubectl")],
                    None,
                )
            ],
            id="float-tag-raw-text",
        ),
        pytest.param(
            "image:\n  repository: nginx\n  tag: 1.10\n  digest: ~\n",
            [("image-map", "nginx:1.10", [("name", "nginx")], None)],
            id="float-tag-trailing-zero",
        ),
        pytest.param(
            "image:\n  repository: nginx\n  tag: '{{ .Chart.AppVersion }}'\n",
            [("image-map", "nginx", [("name", "nginx")], None)],
            id="templated-tag-left-out",
        ),
        pytest.param(
            "image:\n  repository: nginx:1.27\n  pullPolicy: Always\n",
            [("image-map", "nginx:1.27", [("ref", "nginx:1.27")], None)],
            id="tag-inside-repository",
        ),
        pytest.param(
            "image:\n  registry: ''\n  repository: bitnami/redis\n  tag: '7'\n",
            [("image-map", "bitnami/redis:7", [], "empty registry: templates decide")],
            id="empty-registry",
        ),
        pytest.param(
            "image:\n  registry: '{{ .Values.reg }}'\n  repository: bitnami/redis\n",
            [("image-map", "{{ .Values.reg }}/bitnami/redis", [], "templated value")],
            id="templated-registry",
        ),
        pytest.param(
            'image:\n  registry: docker.io\n  repository: "bitnami/re\\x64is"\n',
            [("image-map", "docker.io/bitnami/redis", [], "quoted scalar with escapes")],
            id="escaped-repository",
        ),
        pytest.param(
            "global:\n  imageRegistry: my.registry.io\nimage:\n  registry: docker.io\n  repository: bitnami/redis\n"
            "otherImage:\n  repository: nginx\n  tag: '1'\nhelperImage: busybox\n",
            [
                ("image-map", "my.registry.io/bitnami/redis", [("head", "my.registry.io")], None),
                ("image-map", "nginx:1", [], GLOBAL),
                ("image", "busybox", [("ref", "busybox")], None),
            ],
            id="global-image-registry",
        ),
        pytest.param(
            "global:\n  imageRegistry: ''\nimage: {registry: docker.io, repository: bitnami/redis}\n",
            [
                (
                    "image-map",
                    "docker.io/bitnami/redis",
                    [("registry", "docker.io"), ("path", "bitnami/redis")],
                    None,
                )
            ],
            id="empty-global-registry-changes-nothing",
        ),
        pytest.param(
            "base: &img\n  repository: nginx\n  tag: '1'\nimage:\n  <<: *img\n  tag: '2'\n",
            [("image-map", "nginx:2", [("name", "nginx")], None)],
            id="merged-map-is-the-image",
        ),
        pytest.param(
            "image: '{{ .Values.global.registry }}/app:1'\n",
            [("image", "{{ .Values.global.registry }}/app:1", [], "templated value")],
            id="templated-image",
        ),
        pytest.param(
            "image:\n  repository: nginx\n  tag: '1'\n---\nimage: redis:7\n",
            [
                ("image-map", "nginx:1", [("name", "nginx")], None),
                ("image", "redis:7", [("ref", "redis:7")], None),
            ],
            id="two-documents",
        ),
    ),
)
def test_scan(text: str, expected: list[Found]) -> None:
    assert _found(text) == expected


@pytest.mark.parametrize(
    "text",
    (
        pytest.param("replicaCount: 1\n", id="nothing"),
        pytest.param("image: ''\nbaseImage: ~\nuseImage: true\n", id="empty-null-bool"),
        pytest.param(
            "chart:\n  repository: https://charts.example.com\n  tag: v1\n",
            id="chart-repository-url",
        ),
        pytest.param("git:\n  repository: my repo\n  tag: v1\n", id="repository-with-spaces"),
        pytest.param("image:\n  repository: nginx\n", id="repository-alone-is-not-a-map"),
        pytest.param("image:\n  name: nginx\n  tag: '1'\n", id="map-without-repository"),
        pytest.param("imagePullPolicy: Always\nimages: [nginx]\n", id="keys-not-ending-in-image"),
        pytest.param("notes: |\n  image: nginx\n", id="block-scalar-text"),
    ),
)
def test_scan_noop(text: str) -> None:
    assert _found(text) == []


@pytest.mark.parametrize(
    ("name", "claimed"),
    (
        ("values.yaml", True),
        ("values.yml", True),
        ("values-prod.yaml", True),
        ("prod.values.yaml", True),
        ("values.prod.yaml", True),
        ("ci-values.yaml", True),
        ("Values.YAML", True),
        ("deployment.yaml", False),
        ("values.json", False),
        ("myvalues.yaml", False),
        ("Chart.yaml", False),
    ),
)
def test_claims(name: str, claimed: bool, tmp_path: Path) -> None:
    assert helm.claims(tmp_path / name, "") is claimed


def test_claims_any_yaml_beside_a_chart_but_not_its_templates(tmp_path: Path) -> None:
    (tmp_path / "Chart.yaml").write_text("apiVersion: v2\nname: x\n")
    assert helm.claims(tmp_path / "production.yaml", "")
    assert not helm.claims(tmp_path / "Chart.yaml", "")
    assert not helm.claims(tmp_path / "requirements.yaml", "")
    assert not helm.claims(tmp_path / "templates" / "values.yaml", "")


def test_a_value_the_templates_print_before_a_slash_is_never_a_whole_image(
    tmp_path: Path,
) -> None:
    """Any key the templates print as an image counts (`druid.exporter`), but not one they
    print before a '/' and another value: a registry or a namespace."""
    (tmp_path / "templates").mkdir()
    (tmp_path / "Chart.yaml").write_text("apiVersion: v2\nname: h\nversion: 0.1.0\n")
    (tmp_path / "templates" / "pod.yaml").write_text(
        "spec:\n  containers:\n    - name: a\n"
        '      image: "{{ .Values.proxy }}/{{ .Values.image.repository }}"\n'
        "    - name: b\n"
        '      image: {{ printf "%s/%s" .Values.printed .Values.image.repository }}\n'
        "    - name: c\n"
        "      image: {{ .Values.exporter }}\n"
    )
    values = (
        "proxy: docker.io/library\nprinted: docker.io/library\n"
        "exporter: quay.io/org/exporter:1.0\nimage:\n  repository: nginx\n  tag: '1.27'\n"
    )
    (tmp_path / "values.yaml").write_text(values)
    context = FileContext(tmp_path / "values.yaml", Repo(tmp_path))
    found = [(o.written, o.unresolved) for o in helm.scan(values, context)]
    assert found == [
        ("quay.io/org/exporter:1.0", None),
        ("nginx:1.27", "the chart's templates put another value before it"),
    ]


def test_a_guarded_reference_keeps_every_field_of_its_occurrence() -> None:
    """`_beside` sets two fields of an occurrence in place (a copy of each was a tenth of `fix`
    on a dense values file): it is `dataclasses.replace`, whatever fields Occurrence has."""
    from dataclasses import fields, replace

    from migrate.kinds import helm
    from migrate.occurrence import Occurrence, Part

    values: dict[str, object] = {}
    for number, field in enumerate(fields(Occurrence)):
        kind = str(field.type)
        if "tuple[Part" in kind:
            values[field.name] = (Part("ref", number, number + 1),)
        elif "bool" in kind:
            values[field.name] = True
        elif "int" in kind:
            values[field.name] = number
        elif "tuple[str, str]" in kind:
            values[field.name] = ("PTC000", f"field {number}")
        else:
            values[field.name] = f"field {number}"
    parts, beside = (Part("allow", 90, 95),), ("PTC016", "sets it")
    expected = replace(Occurrence(**values), parts=parts, beside=beside)  # type: ignore[arg-type]

    assert helm._beside(Occurrence(**values), parts, beside) == expected  # type: ignore[arg-type]


def test_a_text_without_aliases_is_walked_without_remembering_nodes() -> None:
    """Without a `*` in the text no node is met twice, so the walk keeps no set of node ids
    and no alias map (a dense values file's peak memory): the same sites either way."""
    from migrate.syntax import yaml as _yaml

    fixtures = Path(__file__).resolve().parents[2] / "fixtures" / "helm"
    values = [
        p
        for p in sorted(fixtures.rglob("*.yaml"))
        if (p.name.startswith("values") and p.parent.name == "in") or ".in." in p.name
    ]
    texts = [p.read_text() for p in values]
    texts = [t for t in texts if "*" not in t and "image" in t]
    assert len(texts) > 10
    for text in texts:
        for doc in _yaml.documents(text):
            assert helm._document(doc, None, None, aliases=False) == helm._document(
                doc, None, None, aliases=True
            ), text
