from __future__ import annotations

import pytest

from migrate.rewrite.edits import Edit, EditConflict, apply


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
