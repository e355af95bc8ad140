from __future__ import annotations

import os
from pathlib import Path

import pytest


@pytest.fixture
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Run in-process CLI calls from an empty temp dir with no ECR_PTC_* leaking in."""
    for key in list(os.environ):
        if key.startswith("ECR_PTC_"):
            monkeypatch.delenv(key)
    monkeypatch.chdir(tmp_path)
    return tmp_path
