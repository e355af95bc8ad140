from __future__ import annotations

from pathlib import Path
from tempfile import TemporaryDirectory

import pytest

from migrate.classify import classify
from migrate.config import Config
from migrate.context import FileContext, Repo
from migrate.kinds import helm
from migrate.rewrite.edits import Edit, EditConflict, apply, plan
from tests.helpers import REGISTRY


@pytest.mark.parametrize(
    ("text", "edits", "expected"),
    (
        pytest.param("ab cd ef", [Edit(3, 5, "cd", "XYZ")], "ab XYZ ef", id="one"),
        pytest.param(
            "ab cd ef",
            [Edit(0, 2, "ab", "1"), Edit(6, 8, "ef", "333")],
            "1 cd 333",
            id="two-any-order",
        ),
        pytest.param(
            "ab cd", [Edit(3, 5, "cd", "x"), Edit(3, 5, "cd", "x")], "ab x", id="duplicate-once"
        ),
        pytest.param("\r\nab\r\n", [Edit(2, 4, "ab", "cd")], "\r\ncd\r\n", id="crlf-kept"),
        pytest.param("abc", [], "abc", id="none"),
    ),
)
def test_apply(text: str, edits: list[Edit], expected: str) -> None:
    assert apply(text, edits) == expected


@pytest.mark.parametrize(
    "edits",
    (
        pytest.param([Edit(0, 2, "zz", "x")], id="old-text-differs"),
        pytest.param([Edit(0, 3, "abc", "x"), Edit(2, 4, "cd", "y")], id="overlap"),
    ),
)
def test_apply_refuses(edits: list[Edit]) -> None:
    with pytest.raises(EditConflict):
        apply("abcdef", edits)


_BITNAMI = "image:\n  registry: docker.io\n  repository: bitnami/redis\n  tag: 7.4.1\n"


@pytest.mark.parametrize(
    ("values", "expected"),
    (
        pytest.param(
            "global:\n  security:\n    # keep\n    other: 1\n" + _BITNAMI,
            "global:\n  security:\n    # keep\n    allowInsecureImages: true\n    other: 1\n",
            id="into-security",
        ),
        pytest.param(
            "global:\r\n   imageRegistry: ''\r\n" + _BITNAMI.replace("\n", "\r\n"),
            "global:\r\n   security:\r\n      allowInsecureImages: true\r\n   imageRegistry: ''\r\n",
            id="crlf-three-spaces",
        ),
        pytest.param(
            "global:\n  security:\n    allowInsecureImages: false  # the chart's default\n"
            + _BITNAMI,
            "global:\n  security:\n    allowInsecureImages: true  # the chart's default\n",
            id="false-to-true",
        ),
    ),
)
def test_a_guarded_chart_s_setting_is_a_minimal_edit(values: str, expected: str) -> None:
    """global.security.allowInsecureImages, planned with the image's rewrite (a Bitnami-style
    chart's values in view: `charts/app/`, whose NOTES.txt calls the guard)."""
    with TemporaryDirectory() as tmp:
        chart = Path(tmp)
        (chart / "templates").mkdir()
        (chart / "Chart.yaml").write_text("apiVersion: v2\nname: redis\nversion: 1.0.0\n")
        (chart / "templates" / "NOTES.txt").write_text(
            '{{ include "common.errors.insecureImages" (dict "images" (list .Values.image)) }}\n'
        )
        (chart / "values.yaml").write_text(values)
        context = FileContext(chart / "values.yaml", Repo(chart))
        (occ,) = helm.scan(values, context)
        verdict = classify(occ.written, Config(registry=REGISTRY))
        new = apply(values, plan(values, occ, verdict, REGISTRY))
    image = _BITNAMI.replace("docker.io", REGISTRY).replace(" bitnami/", " docker-hub/bitnami/")
    assert new == expected + (image.replace("\n", "\r\n") if "\r" in values else image)
