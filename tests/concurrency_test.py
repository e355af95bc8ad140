"""pre-commit runs several hook processes at once: runs that overlap must not corrupt anything."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from migrate.rewrite import source
from tests.helpers import REGISTRY

FILES = 60  # enough that one run is still writing while the others start (fsync: ~2 ms a file)
ROUNDS = 2
_IMAGES = ("nginx:1.27", "quay.io/prometheus/node-exporter:v1.8.2", "gcr.io/distroless/static")
_TARGETS = (
    f"{REGISTRY}/docker-hub/library/nginx:1.27",
    f"{REGISTRY}/quay/prometheus/node-exporter:v1.8.2",
    "gcr.io/distroless/static",
)


def _content(index: int, images: tuple[str, ...]) -> bytes:
    newline = "\r\n" if index % 3 == 0 else "\n"
    lines = [
        f"# service {index}",
        f"FROM {images[index % 3]} AS base",
        f"COPY --from={images[(index + 1) % 3]} /a /b",
        "RUN echo done",
    ]
    return newline.join(lines).encode() + (newline.encode() if index % 2 else b"")


def _tree(root: Path) -> dict[Path, bytes]:
    expected = {}
    for index in range(FILES):
        path = root / f"svc{index:03}" / "Dockerfile"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(_content(index, _IMAGES))
        expected[path] = _content(index, _TARGETS)
    return expected


def _start(root: Path, *paths: str) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ECR_PTC_")}
    return subprocess.Popen(
        [sys.executable, "-m", "migrate", "fix", "--registry", REGISTRY, *paths],
        cwd=root,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


SPLITS = [  # which files each of the simultaneous processes is given
    pytest.param(("whole-tree", "whole-tree"), id="two-runs-over-the-whole-tree"),
    pytest.param(("all-files", "all-files", "all-files"), id="three-hooks-same-files"),
    pytest.param(("evens", "odds", "all-files"), id="overlapping-hook-batches"),
]


@pytest.mark.parametrize("split", SPLITS)
def test_simultaneous_fix_runs_agree(split: tuple[str, ...], tmp_path: Path) -> None:
    for round_ in range(ROUNDS):
        root = tmp_path / f"round{round_}"
        expected = _tree(root)
        names = sorted(str(p.relative_to(root)) for p in expected)
        given = {"whole-tree": ["."], "all-files": names, "evens": names[::2], "odds": names[1::2]}

        runs = [_start(root, *given[which]) for which in split]
        done = [(run.wait(timeout=120), *run.communicate()) for run in runs]

        for code, out, err in done:
            assert code in (0, 1), err
            assert err == ""
        assert {p: p.read_bytes() for p in expected} == expected
        assert list(root.rglob(f"*{source.TEMP_SUFFIX}")) == []
        # Every file was rewritten by exactly one of them, or by several with the same result.
        rewritten = {line.split()[1] for _, out, _ in done for line in out.splitlines()}
        assert rewritten == set(names)


def test_threads_racing_on_one_file_leave_one_whole_result(tmp_path: Path) -> None:
    path = tmp_path / "Dockerfile"
    before = _content(0, _IMAGES)
    after = _content(0, _TARGETS)
    path.write_bytes(before)
    failures: list[BaseException] = []
    gate = threading.Barrier(8)

    def writer() -> None:
        gate.wait()
        for _ in range(50):
            try:
                source.write_atomic(path, after, before)
            except BaseException as exc:  # noqa: BLE001 - collected, asserted below
                failures.append(exc)

    threads = [threading.Thread(target=writer) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert failures == []
    assert path.read_bytes() == after
    assert sorted(p.name for p in tmp_path.iterdir()) == ["Dockerfile"]
