from __future__ import annotations

import json
from pathlib import Path

import pytest

from migrate.cli import main
from migrate.kinds import kubernetes
from tests.helpers import REGISTRY

Found = tuple[str, str, list[tuple[str, str]], "str | None"]
POD = "apiVersion: v1\nkind: Pod\nspec:\n  containers:\n"


def _found(text: str) -> list[Found]:
    out = []
    for o in kubernetes.scan(text):
        assert o.parts or o.unresolved
        out.append(
            (o.kind, o.written, [(p.role, text[p.start : p.end]) for p in o.parts], o.unresolved)
        )
    return out


def _ref(value: str) -> Found:
    return ("image", value, [("ref", value)], None)


@pytest.mark.parametrize(
    ("text", "expected"),
    (
        pytest.param(POD + "  - name: a\n    image: nginx:1.27\n", [_ref("nginx:1.27")], id="pod"),
        pytest.param(
            POD + "  - {name: a, image: 'redis:7'}\n", [_ref("redis:7")], id="flow-single-quoted"
        ),
        pytest.param(
            POD + '  - image: "quay.io/a/b@sha256:' + "a" * 64 + '"  # digest\n',
            [_ref("quay.io/a/b@sha256:" + "a" * 64)],
            id="digest-comment",
        ),
        pytest.param(
            "apiVersion: v1\r\nkind: Pod\r\nspec:\r\n  initContainers:\r\n  - image: busybox\t# init\r\n"
            "  containers:\r\n  - image: nginx\r\n",
            [_ref("busybox"), _ref("nginx")],
            id="crlf-tabs-init-containers",
        ),
        pytest.param(
            "---\napiVersion: v1\nkind: Pod\nspec: {containers: [{image: a:1}]}\n...\n---\n"
            "apiVersion: apps/v1\nkind: Deployment\nspec:\n  template:\n    spec:\n      containers:\n"
            "      - image: b:2\n",
            [_ref("a:1"), _ref("b:2")],
            id="multi-document-markers",
        ),
        pytest.param(
            "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Pod\n  spec:\n    containers:\n"
            "    - image: ghcr.io/x/y:1\n",
            [_ref("ghcr.io/x/y:1")],
            id="list-items",
        ),
        pytest.param(
            POD
            + "  - image: &img nginx:1.27\n  - image: *img\n  - image: !!str registry.k8s.io/pause:3.10\n",
            [_ref("nginx:1.27"), _ref("registry.k8s.io/pause:3.10")],
            id="anchor-alias-tag",
        ),
        pytest.param(
            "apiVersion: v1\nkind: Pod\nspec:\n  volumes:\n  - name: v\n    image:\n      reference: quay.io/crio/artifact:v2\n"
            "      pullPolicy: IfNotPresent\n",
            [_ref("quay.io/crio/artifact:v2")],
            id="image-volume",
        ),
        pytest.param(
            "apiVersion: argoproj.io/v1alpha1\nkind: Workflow\nspec:\n  templates:\n  - name: a\n"
            "    container: {image: 'docker/whalesay:latest'}\n  - name: b\n    script:\n      image: python:3.12\n"
            "      source: |\n        image: not:this\n  - name: c\n    container:\n      image: '{{inputs.parameters.img}}'\n",
            [
                _ref("docker/whalesay:latest"),
                _ref("python:3.12"),
                ("image", "{{inputs.parameters.img}}", [], "templated value"),
            ],
            id="argo-workflow",
        ),
        pytest.param(
            "apiVersion: tekton.dev/v1\nkind: Task\nspec:\n  steps:\n  - image: alpine/git:2.45.2\n"
            "  - image: $(params.builder)\n  sidecars:\n  - image: registry:2\n",
            [
                _ref("alpine/git:2.45.2"),
                ("image", "$(params.builder)", [], "templated value"),
                _ref("registry:2"),
            ],
            id="tekton-task",
        ),
        pytest.param(
            "apiVersion: monitoring.coreos.com/v1\nkind: Prometheus\nspec:\n  image: quay.io/prometheus/prometheus:v2\n"
            "  containers:\n  - name: r\n    image: quay.io/prometheus-operator/reloader:v1\n",
            [
                _ref("quay.io/prometheus/prometheus:v2"),
                _ref("quay.io/prometheus-operator/reloader:v1"),
            ],
            id="prometheus-operator",
        ),
        pytest.param(POD + "  - image: node:${TAG}\n", [_ref("node:${TAG}")], id="variable-in-tag"),
        pytest.param(
            POD + "  - image: ${REGISTRY}/app:1\n",
            [("image", "${REGISTRY}/app:1", [], "variable in image name")],
            id="variable-in-name",
        ),
        pytest.param(
            POD + '  - image: "ngin\\x78"\n',
            [("image", "nginx", [], "quoted scalar with escapes")],
            id="escapes-refused",
        ),
        pytest.param(
            "spec:\n  containers: [{image: z:1}]\napiVersion: v1\nkind: X\nmeta:\n  initContainers:\n"
            "  - image: a:1\n",
            [_ref("z:1"), _ref("a:1")],
            id="text-order",
        ),
    ),
)
def test_scan(text: str, expected: list[Found]) -> None:
    assert _found(text) == expected


@pytest.mark.parametrize(
    "text",
    (
        pytest.param(
            "apiVersion: v1\nkind: ConfigMap\ndata:\n  pod.yaml: |\n    image: nginx\n",
            id="configmap-block",
        ),
        pytest.param(
            "apiVersion: v1\nkind: ConfigMap\ndata:\n  x: >\n    image: nginx\n", id="folded-block"
        ),
        pytest.param(POD + "  - image:\n", id="null"),
        pytest.param(POD + "  - image: ''\n", id="empty"),
        pytest.param(POD + "  - image: 3\n", id="number"),
        pytest.param(POD + "  - image: {name: nginx}\n", id="mapping-without-reference"),
        pytest.param(POD + "  - imageName: nginx\n    images: [nginx]\n", id="other-keys"),
        pytest.param("apiVersion: v1\nkind: Service\nspec: {ports: [{port: 80}]}\n", id="no-image"),
        pytest.param(
            "apiVersion: v1\nkind: Pod\nspec:\n  volumes:\n  - name: d\n    rbd: {image: data}\n"
            "  - name: c\n    image: {reference: {nested: 1}}\n",
            id="volume-plugin-image",
        ),
        pytest.param(
            "apiVersion: example.com/v1\nkind: Job\nspec:\n  image: nginx\n  container: {image: a}\n"
            "  steps: [{image: b}]\n  package: c\n",
            id="crd-fields-of-other-groups",
        ),
        pytest.param(
            "apiVersion: monitoring.coreos.com/v1\nkind: ServiceMonitor\nspec:\n  image: nginx\n",
            id="prometheus-operator-kind-without-image",
        ),
        pytest.param(
            "apiVersion: skaffold/v4beta11\nkind: Config\nbuild:\n  artifacts:\n  - image: frontend\n"
            "    context: src/frontend\nprofiles:\n- name: dev\n  build:\n    artifacts:\n    - image: web\n",
            id="skaffold-artifacts-are-built",
        ),
    ),
)
def test_scan_noop(text: str) -> None:
    assert _found(text) == []


def test_block_scalar_text_is_never_a_part() -> None:
    text = (
        "apiVersion: v1\nkind: ConfigMap\ndata:\n  c: |\n    image: nginx:1\n---\n"
        "apiVersion: v1\nkind: Pod\nspec: {containers: [{image: nginx:1}]}\n"
    )
    (occ,) = kubernetes.scan(text)
    assert occ.at == text.rindex("nginx:1")


@pytest.mark.parametrize(
    ("rel", "text", "claimed"),
    (
        ("deploy.yaml", "apiVersion: apps/v1\nkind: Deployment\n", True),
        ("deploy.yml", "---\n# c\napiVersion: v1\nkind: List\nitems: []\n", True),
        ("quoted.yaml", '"apiVersion": v1\n"kind": Pod\n', True),
        ("crlf.yaml", "apiVersion: v1\r\nkind: Pod\r\n", True),
        ("no-kind.yaml", "apiVersion: v2\nname: chart\n", False),
        ("embedded.yaml", "data: |\n  apiVersion: v1\n  kind: Pod\n", False),
        ("deploy.json", "apiVersion: v1\nkind: Pod\n", False),
        (
            "chart/templates/deploy.yaml",
            "apiVersion: v1\nkind: Pod\nimage: {{ .Values.image }}\n",
            False,
        ),
    ),
)
def test_claims(rel: str, text: str, claimed: bool, tmp_path: Path) -> None:
    assert kubernetes.claims(tmp_path / rel, text) is claimed


def test_claims_nothing_under_a_chart_templates_dir(tmp_path: Path) -> None:
    (tmp_path / "Chart.yaml").write_text("apiVersion: v2\nname: x\n")
    assert not kubernetes.claims(tmp_path / "templates" / "pod.yaml", "apiVersion: v1\nkind: Pod\n")
    assert kubernetes.claims(tmp_path / "templates-old" / "pod.yaml", "apiVersion: v1\nkind: Pod\n")


_PACKAGE = "apiVersion: pkg.crossplane.io/v1\nkind: Provider\nspec:\n  package: {}\n"


@pytest.mark.parametrize(
    ("written", "read_as", "package"),
    (
        pytest.param(
            "crossplane-contrib/provider-helm:v0.19.0",
            "xpkg.crossplane.io/crossplane-contrib/provider-helm:v0.19.0",
            "crossplane-contrib/provider-helm:v0.19.0",
            id="no-registry-is-crossplanes-not-docker-hub",
        ),
        pytest.param("provider-aws", "xpkg.crossplane.io/provider-aws", "provider-aws", id="one-word"),
        pytest.param(
            "xpkg.upbound.io/upbound/provider-aws:v1", "xpkg.upbound.io/upbound/provider-aws:v1",
            None, id="upbound",
        ),
        pytest.param("ghcr.io/a/provider:v1", "ghcr.io/a/provider:v1", None, id="ghcr"),
        pytest.param("localhost:5000/p:v1", "localhost:5000/p:v1", None, id="local"),
    ),
)  # fmt: skip
def test_crossplane_package_is_read_as_crossplane_reads_it(
    written: str, read_as: str, package: str | None
) -> None:
    text = _PACKAGE.format(written)
    [occ] = kubernetes.scan(text)
    assert (occ.kind, occ.written, occ.package) == ("package", read_as, package)
    assert [(p.role, text[p.start : p.end]) for p in occ.parts] == [("ref", written)]


def test_crossplane_default_registry_is_ptc003_never_docker_hub(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = _PACKAGE.format("crossplane-contrib/provider-helm:v1")
    (tmp_path / "provider.yaml").write_text(text)
    assert main(["fix", "--registry", REGISTRY, str(tmp_path)]) == 0
    assert (tmp_path / "provider.yaml").read_text() == text
    capsys.readouterr()
    main(["scan", "--format", "json", str(tmp_path)])
    [finding] = json.loads(capsys.readouterr().out)["findings"]
    assert (finding["code"], finding["target"]) == ("PTC003", None)


def test_crossplane_registry_from_the_config(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Crossplane run with `--registry=index.docker.io`: its packages are Docker Hub's."""
    (tmp_path / ".ecr-ptc.yaml").write_text("crossplane-registry: index.docker.io\n")
    (tmp_path / "provider.yaml").write_text(_PACKAGE.format("crossplane-contrib/provider-helm:v1"))
    assert main(["fix", "--registry", REGISTRY, "--config", str(tmp_path / ".ecr-ptc.yaml"),
                 str(tmp_path)]) == 1  # fmt: skip
    assert (tmp_path / "provider.yaml").read_text() == _PACKAGE.format(
        f"{REGISTRY}/docker-hub/crossplane-contrib/provider-helm:v1"
    )
