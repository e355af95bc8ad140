"""The CLI in this process, with a clean AWS/ECR_PTC environment: for end-to-end cases beyond
the one that runs the real entry point in a subprocess (boto3 is then imported once)."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from migrate.cli import main

Done = subprocess.CompletedProcess[str]  # returncode, stdout, stderr


def in_process(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Callable[..., Done]:
    def invoke(cwd: Path, env: dict[str, str], *args: str) -> Done:
        for key in list(os.environ):
            if key.startswith(("AWS_", "ECR_PTC_")):
                monkeypatch.delenv(key)
        for key, value in env.items():
            monkeypatch.setenv(key, value)
        monkeypatch.chdir(cwd)
        capsys.readouterr()
        code = main(list(args))
        out, err = capsys.readouterr()
        return Done(list(args), code, out, err)

    return invoke
