from __future__ import annotations

from pathlib import Path

import pytest

from migrate.facts.kustomize.patches import pointer
from migrate.kinds import containers as _containers
from migrate.kinds import json_patch
from migrate.kinds.registry import scanner_for


@pytest.mark.parametrize(
    ("text", "expected"),
    (
        pytest.param(
            "- op: test\n  path: /spec/containers/0/image\n  value: nginx:1.27\n"
            "- op: replace\n  path: /spec/containers/0/image\n  value: 'nginx:1.28'\n",
            ["nginx:1.27", "nginx:1.28"],
            id="test-and-replace",
        ),
        pytest.param(
            "- op: add\n  path: /spec/template/spec/containers/-\n  value: {name: a, image: redis:7}\n"
            "- op: add\n  path: /spec/template/spec\n  value:\n    initContainers: [{image: busybox}]\n",
            ["redis:7", "busybox"],
            id="container-shaped-values",
        ),
        pytest.param(
            '[{"op": "replace", "path": "/spec/volumes/0/image/reference", "value": "quay.io/a/b:1"}]\n',
            ["quay.io/a/b:1"],
            id="json-image-volume",
        ),
        pytest.param(
            "- op: replace\n  path: /spec/volumes/0/rbd/image\n  value: data\n"
            "- op: remove\n  path: /spec/containers/0/image\n"
            "- op: copy\n  from: /spec/containers/0/image\n  path: /spec/containers/1/image\n"
            "- op: replace\n  path: /metadata/annotations/image\n  value: nginx\n",
            [],
            id="not-images",
        ),
    ),
)
def test_scan(text: str, expected: list[str]) -> None:
    assert [occ.written for occ in json_patch.scan(text)] == expected


def test_pointer() -> None:
    item = _containers.ITEM
    assert pointer("/spec/containers/-/image") == ("spec", "containers", item, "image")
    assert pointer("/metadata/annotations/a~1b~0c") == ("metadata", "annotations", "a/b~c")


@pytest.mark.parametrize(
    ("text", "kind"),
    (
        ("- op: replace\n  path: /spec/containers/0/image\n  value: nginx\n", "json-patch"),
        ('- {"path": "/a", "op": "add", "value": 1}\n', "json-patch"),
        ("- name: a\n  value: b\n", None),
        ("apiVersion: v1\nkind: Pod\n", "kubernetes"),
    ),
)
def test_claimed_by_content(text: str, kind: str | None, tmp_path: Path) -> None:
    scanner = scanner_for(tmp_path / "patch.yaml", text)
    assert (scanner.NAME if scanner else None) == kind
