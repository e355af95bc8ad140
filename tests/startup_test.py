"""Hook start-up is part of the product: lint and fix on one file import neither boto3 (~140 ms)
nor GitPython (~66 ms), nor importlib.metadata (~40 ms)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from migrate.facts import builds
from migrate.kinds import declared
from tests.helpers import REGISTRY

FORBIDDEN = (
    "boto3",
    "botocore",
    "git",
    "gitdb",
    "importlib.metadata",
    "migrate.pr.git_branch",
    "migrate.pr.forge",
    "migrate.aws.client",
    # Helm's renderer (an 85 MB library): only when a chart's rewrite is proven
    "helm_python",
    "migrate.provers.helm_render",
    "migrate.aws.warm",  # the registry client: `warm` only
    "migrate.aws.plan",  # `rules plan` and `pr` only; --emit reads plan.EMITTERS when asked
    "migrate.aws.assess",
)
FILES = {
    "Dockerfile": "FROM alpine:3.20\n",
    "compose.yaml": "services:\n  web:\n    image: nginx:1.27\n",
    "deploy.yaml": "apiVersion: v1\nkind: Pod\nspec:\n  containers:\n    - image: redis:7\n",
    "values.yaml": "image:\n  repository: bitnami/redis\n  tag: 7.2\n",
    ".gitlab-ci.yml": "job:\n  image: node:20\n",
    ".devcontainer.json": '{"image": "python:3.12", // JSONC\n}\n',
}
# Run the command in-process, then list the modules it loaded: exactly what the hook pays for.
_WRAPPER = """
import json, sys
from migrate.cli import main
sys.argv = ["ecr-ptc", *json.loads(sys.argv[1])]
try:
    main()
finally:
    sys.stderr.write("\\nMODULES " + json.dumps(sorted(sys.modules)) + "\\n")
"""


def _loaded(loaded: list[str]) -> list[str]:
    return [m for m in loaded if any(m == f or m.startswith(f + ".") for f in FORBIDDEN)]


@pytest.fixture
def project(tmp_path: Path) -> Path:
    for name, text in FILES.items():
        (tmp_path / name).write_text(text)
    return tmp_path


@pytest.mark.parametrize(
    "args",
    [
        pytest.param(["lint", "Dockerfile"], id="lint-dockerfile"),
        pytest.param(["fix", "--registry", REGISTRY, "Dockerfile"], id="fix-dockerfile"),
        pytest.param(["lint", *FILES], id="lint-every-kind"),
        pytest.param(["fix", "--registry", REGISTRY, *FILES], id="fix-every-kind"),
        pytest.param(["fix", "--check", "--registry", REGISTRY, "compose.yaml"], id="fix-check"),
        pytest.param(["lint", "--format", "sarif", "."], id="lint-sarif-tree"),
        pytest.param(["scan", "--format", "json", "."], id="scan-json"),
    ],
)
def test_no_heavy_imports(project: Path, args: list[str]) -> None:
    done = subprocess.run(
        [sys.executable, "-c", _WRAPPER, json.dumps(args)],
        cwd=project,
        capture_output=True,
        text=True,
        check=False,
    )

    assert done.returncode == 0, done.stderr
    modules = json.loads(done.stderr.rsplit("MODULES ", 1)[1])
    assert "migrate.rewrite.engine" in modules  # the command really ran
    assert _loaded(modules) == []


def test_the_installed_console_script_under_importtime(project: Path) -> None:
    script = shutil.which("ecr-ptc", path=str(Path(sys.executable).parent))
    if script is None:
        pytest.skip("ecr-ptc is not installed in this environment")
    done = subprocess.run(
        [sys.executable, "-X", "importtime", script, "fix", "--registry", REGISTRY, "Dockerfile"],
        cwd=project,
        capture_output=True,
        text=True,
        check=False,
    )

    assert done.returncode == 1  # rewrote the file
    imported = re.findall(r"^import time:\s+\d+ \|\s+\d+ \|\s*(\S+)$", done.stderr, re.MULTILINE)
    assert "migrate.cli" in imported
    assert _loaded(imported) == []


# A hook on one Dockerfile uses the Dockerfile kind and the build index alone: no YAML library
# (ruamel.yaml, PyYAML), no other kind, no prover, no chart or kustomize facts.
_OTHER_KINDS = tuple(f"migrate.kinds.{name}" for name in declared.KINDS if name != "dockerfile")
NOT_FOR_A_DOCKERFILE = (
    "ruamel",
    "yaml",
    "_yaml",
    "migrate.syntax.yaml",
    "migrate.syntax.libyaml",
    "migrate.syntax.jsonc",
    "migrate.facts.charts",
    "migrate.facts.kustomize",
    "migrate.facts.gitlab",
    "migrate.provers.helm",
    "migrate.provers.kustomize",
    "migrate.provers.kustomize_build",
    "difflib",
    *_OTHER_KINDS,
)


@pytest.mark.parametrize(
    ("args", "writes"),
    [
        pytest.param(["lint", "Dockerfile"], False, id="lint"),
        pytest.param(["fix", "--registry", REGISTRY, "Dockerfile"], True, id="fix"),
    ],
)
def test_a_dockerfile_hook_imports_only_what_it_uses(
    project: Path, args: list[str], writes: bool
) -> None:
    """Measured with callgrind by bench/startup.py (no timing here)."""
    subprocess.run(["git", "init", "-q"], cwd=project, check=True)  # the build index is read
    done = subprocess.run(
        [sys.executable, "-c", _WRAPPER, json.dumps(args)],
        cwd=project,
        capture_output=True,
        text=True,
        check=False,
    )

    assert done.returncode == 0, done.stderr
    modules = json.loads(done.stderr.rsplit("MODULES ", 1)[1])
    assert "migrate.kinds.dockerfile" in modules and "migrate.facts.builds" in modules
    assert ("alpine" in (project / "Dockerfile").read_text()) and writes is (
        REGISTRY in (project / "Dockerfile").read_text()
    )
    unused = [
        m for m in modules if any(m == f or m.startswith(f + ".") for f in NOT_FOR_A_DOCKERFILE)
    ]
    assert unused == []


def test_a_dockerfile_hook_on_an_unchanged_tree_reads_the_build_index_and_no_build_file(
    project: Path,
) -> None:
    """Once the build index is kept (`.git/`), a hook run loads none of the build sources (the
    CI-script source brings the YAML layer's nodes) and, when it writes nothing, neither
    `tempfile` nor `shutil` (bz2, lzma, zlib)."""
    subprocess.run(["git", "init", "-q"], cwd=project, check=True)
    runs = []
    for _ in range(2):
        done = subprocess.run(
            [sys.executable, "-c", _WRAPPER, json.dumps(["lint", "Dockerfile"])],
            cwd=project,
            capture_output=True,
            text=True,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        runs.append(json.loads(done.stderr.rsplit("MODULES ", 1)[1]))
    sources = [f"migrate.facts.builds.{name}" for name, _ in builds.SOURCES]

    assert "migrate.facts.builds.compose" in runs[0]  # the first run read compose.yaml
    assert [m for m in runs[1] if m in (*sources, "tempfile", "shutil")] == []
