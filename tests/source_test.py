"""A file as read: its bytes given back exactly, though only its text is kept."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from migrate.rewrite import source


@pytest.mark.parametrize(
    "raw",
    [
        b"FROM nginx:1.27\n",
        source.UTF8_BOM + b"image: caf\xc3\xa9/app:1\r\nnext: \xe2\x80\xa8\r\n",
        source.UTF8_BOM + source.UTF8_BOM + b"two BOMs: the second is text\n",
        b"",
    ],
    ids=["ascii", "bom-crlf-non-ascii", "bom-twice", "empty"],
)
def test_the_bytes_read_are_given_back_exactly(tmp_path: Path, raw: bytes) -> None:
    path = tmp_path / "file"
    path.write_bytes(raw)

    src = source.read(path, 1 << 20)

    assert src.raw == raw
    assert src.encode(src.text) == raw


def test_the_bytes_are_not_kept_beside_the_text(tmp_path: Path) -> None:
    """A dense values file peaks with its text, its rewritten text and their trees alive
    (bench/dense.py): its bytes would be a third copy."""
    path = tmp_path / "values.yaml"
    path.write_bytes(b"image: nginx:1.27\n" * 1000)

    src = source.read(path, 1 << 20)

    held = [getattr(src, f.name) for f in dataclasses.fields(src)]
    assert not any(isinstance(value, bytes) for value in held)
