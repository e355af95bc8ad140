"""The registry imports a kind's module only when a file needs it, and decides exactly as asking
every module in order did: same kind for every file of the fixtures and the corpus."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

from migrate.kinds import declared
from migrate.kinds.registry import SCANNERS, is_candidate, scanner_for
from tests.helpers import CORPUS, FIXTURES


def _every_module_in_order(path: Path, text: str) -> str | None:
    """The registry as it was: every kind's module imported, each asked `claims` in order."""
    modules = {kind.module.rsplit(".", 1)[1]: kind.load() for kind in SCANNERS}

    def generic() -> bool:
        return bool(
            modules["compose"].by_name(path)
            or modules["kustomize"].by_name(path)
            or modules["helm"].is_values(path)
            or modules["kubernetes"].claims(path, text)
        )

    each: list[ModuleType] = list(modules.values())
    for module in each:
        if module.claims(path, text):
            if getattr(module, "DEFERS_TO_GENERIC", False) and generic():
                continue
            return str(module.NAME)
    return None


def _files() -> list[Path]:
    roots = [FIXTURES, *([CORPUS] if CORPUS else [])]
    return sorted(p for root in roots for p in root.rglob("*") if p.is_file() and is_candidate(p))


def test_every_candidate_gets_the_kind_it_always_got() -> None:
    files = _files()
    assert len(files) > (500 if CORPUS else 300)  # the fixtures alone, in a user's clone
    differ = []
    for path in files:
        text = path.read_bytes().decode("utf-8", "replace")
        kind = scanner_for(path, text)
        if (kind.NAME if kind else None) != _every_module_in_order(path, text):
            differ.append(path)
    assert differ == []


def test_declared_is_what_the_modules_say() -> None:
    for kind in SCANNERS:
        module = kind.load()
        name = kind.module.rsplit(".", 1)[1]
        assert declared.KINDS[name] == (module.NAME, module.FILES, hasattr(module, "included"))
        assert (kind.NAME, kind.FILES) == (module.NAME, module.FILES)


@pytest.mark.parametrize(
    ("name", "loaded"),
    [
        ("Dockerfile", {"migrate.kinds.dockerfile"}),
        (".gitlab-ci.yml", {"migrate.kinds.gitlab_ci"}),
    ],
)
def test_a_file_imports_only_the_kinds_its_name_can_be(name: str, loaded: set[str]) -> None:
    code = (
        "import sys; from pathlib import Path; from migrate.kinds import registry; "
        f"registry.scanner_for(Path({name!r}), 'x: 1'); "
        "print(' '.join(m for m in sys.modules if m.startswith('migrate.kinds.')))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    kinds = {m for m in done.stdout.split() if m.rsplit(".", 1)[1] in declared.KINDS}
    assert kinds == loaded


@pytest.mark.parametrize(
    ("path", "kind"),
    [
        (".circleci/docker-compose.yml", "compose"),
        (".buildkite/docker-compose.yml", "compose"),
        (".circleci/config.yml", "circleci"),
        ("azure-pipelines/kustomization.yaml", "kustomize"),
    ],
)
def test_a_directory_wide_kind_leaves_generic_files_to_their_kinds(path: str, kind: str) -> None:
    text = "services:\n  web:\n    image: nginx\n" if "compose" in path else "jobs: {}\n"
    if path.endswith("kustomization.yaml"):
        text = "resources: [a.yaml]\n"
    found = scanner_for(Path(path), text)
    assert found is not None and found.NAME == kind
