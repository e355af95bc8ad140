from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from migrate.cli import main
from migrate.context import FileContext, Repo
from migrate.kinds import kustomize
from tests.helpers import FIXTURES, REGISTRY

Found = tuple[str, str, list[tuple[str, str]], "str | None"]
REMOTE = "bases are remote: name must match them"


def _found(text: str) -> list[Found]:
    out = []
    for o in kustomize.scan(text):
        assert o.parts or o.unresolved
        out.append(
            (o.kind, o.written, [(p.role, text[p.start : p.end]) for p in o.parts], o.unresolved)
        )
    return out


def _name(value: str) -> Found:
    return ("kustomize-name", value, [("name", value)], None)


@pytest.mark.parametrize(
    ("text", "expected"),
    (
        pytest.param(
            "resources:\n- ../base\nimages:\n- name: nginx\n  newTag: '1.27'\n",
            [_name("nginx")],
            id="local-base-name-follows",
        ),
        pytest.param(
            "resources: [deployment.yaml]\nimages:\n- name: redis\n  newName: quay.io/opstree/redis\n  newTag: v7\n",
            [
                _name("redis"),
                (
                    "kustomize-newName",
                    "quay.io/opstree/redis:v7",
                    [("name", "quay.io/opstree/redis")],
                    None,
                ),
            ],
            id="new-name-with-tag",
        ),
        pytest.param(
            "images:\r\n- {name: 'nginx', newName: \"ghcr.io/a/nginx\", newTag: 1.30, digest: 'sha256:"
            + "c" * 64
            + "'}\r\n",
            [
                _name("nginx"),
                (
                    "kustomize-newName",
                    "ghcr.io/a/nginx:1.30@sha256:" + "c" * 64,
                    [("name", "ghcr.io/a/nginx")],
                    None,
                ),
            ],
            id="flow-crlf-float-tag-digest",
        ),
        pytest.param(
            "resources:\n- github.com/org/repo//deploy?ref=v1\nimages:\n- name: nginx\n  newName: nginx\n  newTag: '1'\n",
            [
                ("kustomize-name", "nginx", [], REMOTE),
                ("kustomize-newName", "nginx:1", [("name", "nginx")], None),
            ],
            id="remote-base",
        ),
        pytest.param(
            "bases:\n- https://example.com/base.tar.gz\nimages:\n- name: nginx\n",
            [("kustomize-name", "nginx", [], REMOTE)],
            id="remote-in-bases-key",
        ),
        pytest.param(
            "components:\n- git@github.com:org/repo.git//c\nimages:\n- name: nginx\n",
            [("kustomize-name", "nginx", [], REMOTE)],
            id="remote-component",
        ),
        pytest.param(
            "helmCharts:\n- name: redis\n  repo: https://charts.bitnami.com\nimages:\n- name: nginx\n",
            [("kustomize-name", "nginx", [], REMOTE)],
            id="helm-charts-are-remote",
        ),
        pytest.param(
            "kind: Component\nimages:\n- name: nginx\n",
            [_name("nginx")],
            id="component-without-bases",
        ),
        pytest.param(
            "images:\n- name: '{{ x }}'\n",
            [("kustomize-name", "{{ x }}", [], "templated value")],
            id="templated",
        ),
        pytest.param(
            "images:\n- name: nginx:${TAG}\n",
            [("kustomize-name", "nginx:${TAG}", [], "variable in image name")],
            id="variable-never-allowed-in-a-name",
        ),
    ),
)
def test_scan(text: str, expected: list[Found]) -> None:
    assert _found(text) == expected


@pytest.mark.parametrize(
    "text",
    (
        pytest.param("resources:\n- deployment.yaml\n", id="no-images"),
        pytest.param("images:\n- newTag: '1'\n", id="no-name"),
        pytest.param("images: {name: nginx}\n", id="images-not-a-list"),
        pytest.param("images:\n- nginx\n", id="entry-not-a-map"),
        pytest.param(
            "patches:\n- patch: |\n    - op: replace\n      value: {image: nginx}\n",
            id="patch-text",
        ),
    ),
)
def test_scan_noop(text: str) -> None:
    assert _found(text) == []


@pytest.mark.parametrize(
    ("base", "remote"),
    (
        ("../base", False),
        ("deployment.yaml", False),
        ("service.v1.yaml", False),
        ("overlays/prod", False),
        ("github.com/kubernetes-sigs/kustomize/examples/multibases?ref=v1.0.6", True),
        ("https://github.com/org/repo//base?ref=main", True),
        ("git@github.com:org/repo.git", True),
        ("git::https://example.com/repo", True),
        ("ssh://git@example.com/repo", True),
        ("gitlab.com/org/repo/base", True),
        ("example.com/some/base", True),
    ),
)
def test_is_remote(base: str, remote: bool) -> None:
    assert kustomize.is_remote(base) is remote


@pytest.mark.parametrize(
    ("name", "claimed"),
    (
        ("kustomization.yaml", True),
        ("kustomization.yml", True),
        ("Kustomization", True),
        ("Kustomization.yaml", False),
        ("kustomize.yaml", False),
        ("deploy.yaml", False),
    ),
)
def test_claims(name: str, claimed: bool) -> None:
    assert kustomize.claims(Path("k") / name, "") is claimed


INLINE_SM = (
    "patches:\n- patch: |-\n    apiVersion: apps/v1\n    kind: Deployment\n    metadata: {name: w}\n"
    "    spec:\n      template:\n        spec:\n          containers:\n          - name: a\n"
    "            image: redis:7.2   # pinned\n"
)


@pytest.mark.parametrize(
    ("text", "expected"),
    (
        pytest.param(
            INLINE_SM, [("image", "redis:7.2", [("ref", "redis:7.2")], None)], id="literal-sm"
        ),
        pytest.param(
            INLINE_SM.replace("\n", "\r\n"),
            [("image", "redis:7.2", [("ref", "redis:7.2")], None)],
            id="literal-sm-crlf",
        ),
        pytest.param(
            "patchesJson6902:\n- target: {kind: Deployment, name: w}\n  patch: |\n"
            "    - op: replace\n      path: /spec/template/spec/containers/0/image\n      value: nginx:1.28\n"
            "    - op: replace\n      path: /spec/template/spec/volumes/0/rbd/image\n      value: data\n",
            [("json-patch", "nginx:1.28", [("ref", "nginx:1.28")], None)],
            id="literal-json6902",
        ),
        pytest.param(
            'patches:\n- patch: \'[{"op": "add", "path": "/spec/initContainers/-", '
            '"value": {"image": "busybox:1.36"}}]\'\n',
            [("json-patch", "busybox:1.36", [("ref", "busybox:1.36")], None)],
            id="one-line-json",
        ),
        pytest.param(
            "patchesStrategicMerge:\n- >\n  apiVersion: v1\n\n  kind: Pod\n\n  spec: {containers: [{image: nginx}]}\n",
            [
                (
                    "image",
                    "nginx",
                    [],
                    "inline patch cannot be rewritten in place (folded or escaped string)",
                )
            ],
            id="folded-reported",
        ),
    ),
)
def test_inline_patches(text: str, expected: list[Found]) -> None:
    assert _found(text) == expected


def _scope_tree(root: Path, overlay: str) -> Path:
    (root / "base").mkdir()
    (root / "base" / "kustomization.yaml").write_text("resources: [pod.yaml]\n")
    (root / "base" / "pod.yaml").write_text(
        "apiVersion: v1\nkind: Pod\nspec:\n  containers:\n  - image: nginx:1.27\n"
    )
    (root / "overlay").mkdir()
    (root / "overlay" / "kustomization.yaml").write_text(overlay)
    return root / "overlay" / "kustomization.yaml"


@pytest.mark.parametrize(
    ("overlay", "reason"),
    (
        ("resources: [../base]\nimages:\n- name: nginx\n", None),
        ("resources: [../base]\nimages:\n- name: redis\n", kustomize.UNMATCHED),
        ("resources: [../base, ../missing]\nimages:\n- name: nginx\n", kustomize.UNREADABLE),
        ("kind: Component\nimages:\n- name: nginx\n", kustomize.UNMATCHED),
    ),
)
def test_names_follow_the_images_of_their_resources(
    overlay: str, reason: str | None, tmp_path: Path
) -> None:
    path = _scope_tree(tmp_path, overlay)
    context = FileContext(path, Repo(tmp_path))
    (occ,) = kustomize.scan(path.read_text(), context)
    assert occ.unresolved == reason


def test_a_name_whose_image_is_already_migrated_follows(tmp_path: Path) -> None:
    path = _scope_tree(tmp_path, "resources: [../base]\nimages:\n- name: nginx\n")
    (tmp_path / "base" / "pod.yaml").write_text(
        "apiVersion: v1\nkind: Pod\nspec:\n  containers:\n"
        "  - image: 123456789012.dkr.ecr.us-east-1.amazonaws.com/docker-hub/library/nginx:1.27\n"
    )
    (occ,) = kustomize.scan(path.read_text(), FileContext(path, Repo(tmp_path)))
    assert occ.unresolved is None and occ.parts


def _load_yaml(path: Path) -> Any:
    return YAML(typ="safe", pure=True).load(path.read_text(encoding="utf-8-sig"))


def _names(root: Path) -> tuple[set[str], set[str]]:
    """(base image names without tag, overlay `images[].name` values)."""
    manifest = _load_yaml(root / "base" / "deployment.yaml")
    containers = manifest["spec"]["template"]["spec"]["containers"]
    overrides = _load_yaml(root / "overlay" / "kustomization.yaml")["images"]
    return {c["image"].rsplit(":", 1)[0] for c in containers}, {i["name"] for i in overrides}


def test_override_still_matches_the_migrated_base(in_tmp: Path) -> None:
    """kustomize matches `images[].name` against the base's image names: after migration each
    rewritten name must be exactly the rewritten base image without its tag."""
    shutil.copytree(FIXTURES / "kustomize" / "overlay" / "in", in_tmp, dirs_exist_ok=True)
    base, overrides = _names(in_tmp)
    assert overrides <= base

    assert main(["fix", "--registry", REGISTRY, "."]) == 1

    base, overrides = _names(in_tmp)
    assert overrides <= base
    assert all(name.startswith(REGISTRY + "/") for name in base | overrides)


def test_a_crossplane_package_in_a_patch_is_read_as_crossplane_reads_it() -> None:
    from migrate.facts.kustomize import patches

    text = "apiVersion: pkg.crossplane.io/v1\nkind: Provider\nmetadata: {name: p}\nspec:\n  package: a/b:v1\n"
    [occ] = patches.scan(text)
    assert (occ.kind, occ.written, occ.package) == (
        "package",
        "xpkg.crossplane.io/a/b:v1",
        "a/b:v1",
    )
