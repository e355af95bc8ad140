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


# Hypothesis runs the same way every time unless asked to explore. `ci` (the default, and what
# .ci/run uses) is derandomized: the same examples on every run and every machine, so a red
# run is a regression, never a new draw. `explore` draws new examples and keeps failing ones
# between runs under .pytest_cache; `thorough` explores ten times longer
# (HYPOTHESIS_PROFILE=explore or thorough).
def _hypothesis_profiles() -> None:
    from hypothesis import HealthCheck, settings
    from hypothesis.database import DirectoryBasedExampleDatabase

    common = {
        "deadline": None,  # file I/O and subprocesses make per-example timing noise, not signal
        "suppress_health_check": [HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    }
    cache = Path(__file__).resolve().parents[1] / ".pytest_cache" / "hypothesis"
    kept = DirectoryBasedExampleDatabase(str(cache))
    settings.register_profile(
        "ci", max_examples=100, derandomize=True, database=None, print_blob=True, **common
    )
    settings.register_profile("explore", max_examples=500, database=kept, **common)
    settings.register_profile("thorough", max_examples=5000, database=kept, **common)
    settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


_hypothesis_profiles()
