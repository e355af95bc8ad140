"""What the AWS-native kinds' corpus tests share: a writable copy of one format's folder of
`$ECR_PTC_CORPUS/aws/`, `fix` run on it twice, and the values that changed between two trees."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

from migrate.cli import main
from tests.helpers import REGISTRY, corpus

__all__ = ["corpus", "differences", "files", "fix_twice", "is_rewrite"]

_SKIPPED = ("LICENSE", "NOTICE")


def files(folder: str) -> list[str]:
    root = corpus() / "aws" / folder
    return sorted(
        p.relative_to(root).as_posix()
        for p in root.rglob("*")
        if p.is_file() and not p.name.startswith(_SKIPPED)
    )


def fix_twice(folder: str, dest: Path) -> tuple[dict[str, bytes], dict[str, bytes]]:
    """Copy the folder (the corpus is read-only, its copies must not be), `fix` it, and check
    that a second `fix` changes nothing; the files before and after."""
    root = corpus() / "aws" / folder
    names = files(folder)
    for rel in names:
        (dest / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(root / rel, dest / rel)
    before = {rel: (dest / rel).read_bytes() for rel in names}
    # --include-tests: the corpus keeps some real templates under test/ (CDK snapshots).
    main(["fix", "--include-tests", "--registry", REGISTRY, "."])
    after = {rel: (dest / rel).read_bytes() for rel in names}
    main(["fix", "--include-tests", "--registry", REGISTRY, "."])
    assert {rel: (dest / rel).read_bytes() for rel in names} == after, "a second fix changed"
    return before, after


def differences(old: object, new: object, where: str = "") -> Iterator[tuple[str, object, object]]:
    """Each leaf that differs; keys and lengths must not."""
    if isinstance(old, dict) and isinstance(new, dict):
        assert list(old) == list(new), f"keys changed at {where}"
        for key in old:
            yield from differences(old[key], new[key], f"{where}.{key}")
    elif isinstance(old, list) and isinstance(new, list):
        assert len(old) == len(new), f"length changed at {where}"
        for i, (a, b) in enumerate(zip(old, new)):
            yield from differences(a, b, f"{where}[{i}]")
    elif old != new:
        yield where, old, new


def is_rewrite(old: object, new: object) -> bool:
    """An image string given the cache's registry, its own text kept after it."""
    if not (isinstance(old, str) and isinstance(new, str) and new.startswith(REGISTRY + "/")):
        return False
    rest = new[len(REGISTRY) + 1 :]
    return old.rsplit("/", 1)[-1].split("@")[0].split(":")[0] in rest
