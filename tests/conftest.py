from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.helpers import CORPUS, NO_CORPUS


def pytest_runtest_setup(item: pytest.Item) -> None:
    # Raised here rather than by a `skipif` mark, so that the summary says it once for all.
    if CORPUS is None and item.get_closest_marker("corpus"):
        pytest.skip(NO_CORPUS)


@pytest.fixture
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Run in-process CLI calls from an empty temp dir with no ECR_PTC_* leaking in."""
    for key in list(os.environ):
        if key.startswith("ECR_PTC_"):
            monkeypatch.delenv(key)
    monkeypatch.chdir(tmp_path)
    return tmp_path


# Hypothesis: a fixed example budget and no example database in the repository. `ci` (the
# default) keeps the property tests near 60 s on 2 cores; `thorough` is for a long local run
# (HYPOTHESIS_PROFILE=thorough); `dev` keeps failing examples between runs, under .pytest_cache.
def _hypothesis_profiles() -> None:
    from hypothesis import HealthCheck, settings
    from hypothesis.database import DirectoryBasedExampleDatabase

    common = {
        "deadline": None,  # file I/O and subprocesses make per-example timing noise, not signal
        "suppress_health_check": [HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    }
    settings.register_profile("ci", max_examples=500, database=None, **common)
    settings.register_profile("thorough", max_examples=5000, database=None, **common)
    cache = Path(__file__).resolve().parents[1] / ".pytest_cache" / "hypothesis"
    settings.register_profile(
        "dev", max_examples=200, database=DirectoryBasedExampleDatabase(str(cache)), **common
    )
    settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


_hypothesis_profiles()
