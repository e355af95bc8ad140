"""The documented recipes, run or checked for real: the quick start, the shell step, the GitLab
job, the GitHub workflow and the composite action it uses, the pre-commit snippet, and
`lint --fail-on`. A recipe is found by name wherever it lives: README.md or a docs/ page."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from tests.helpers import REGISTRY, ROOT

BIN = str(Path(sys.executable).parent)  # where this environment's `ecr-ptc` script lives


DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def recipe(name: str) -> str:
    """The fenced block right after `<!-- recipe: NAME -->`, in README.md or a docs/ page: there
    must be exactly one, so a recipe moved between pages is still the one tested."""
    pattern = re.compile(rf"<!-- recipe: {re.escape(name)} -->\n```[a-z]*\n(.*?)\n```", re.DOTALL)
    found = [
        (path.relative_to(ROOT).as_posix(), match[1])
        for path in DOCUMENTS
        for match in pattern.finditer(path.read_text(encoding="utf-8"))
    ]
    assert found, f"no `{name}` recipe in README.md or docs/*.md"
    assert len(found) == 1, (
        f"the `{name}` recipe is in more than one place: {[p for p, _ in found]}"
    )
    return found[0][1] + "\n"


def _sh_blocks(section: str) -> list[str]:
    """The `sh` blocks of one `## ` section of the README, in order."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    found = re.search(
        rf"^## {re.escape(section)}\n(.*?)(?=^## |\Z)", readme, re.DOTALL | re.MULTILINE
    )
    assert found, f"README has no `{section}` section"
    return re.findall(r"^```sh\n(.*?)\n```", found[1], re.DOTALL | re.MULTILINE)


def test_quick_start_is_two_commands_the_tests_check() -> None:
    """A fresh machine needs two commands: the example with the runtime dependencies only (no
    Helm extra), then the test extras and the tests. tests/example_test.py checks the diff the
    first prints; .ci/run runs both in a clean clone (scripts/check_clean_clone.py), found by
    their markers."""
    first, second, *rest = _sh_blocks("Quick start")
    from scripts.check_clean_clone import readme_command

    assert (readme_command("try"), readme_command("test")) == (first, second)
    example = f".venv/bin/ecr-ptc fix --diff --registry {REGISTRY} fixtures/example"
    assert first == f"python3 -m venv .venv && .venv/bin/pip install -q -e . && {example}"
    install, test = second.split(" && ")
    assert install == ".venv/bin/pip install -q -e '.[test,dev]'"
    assert test == ".venv/bin/python -m pytest -q"
    assert rest == []


def _yaml(text: str) -> Any:
    return YAML(typ="safe", pure=True).load(text)


def _action() -> Any:
    return _yaml((ROOT / "action.yml").read_text())


def _repo(path: Path, files: dict[str, str]) -> Path:
    path.mkdir(exist_ok=True)
    subprocess.run(["git", "init", "-q"], cwd=path, check=True)
    for name, text in files.items():
        (path / name).write_text(text)
    return path


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ECR_PTC_")}
    return env | {"PATH": f"{BIN}{os.pathsep}{env.get('PATH', '')}"} | extra


def _shell(
    script: str, cwd: Path, env: dict[str, str], shell: tuple[str, ...] = ("sh",)
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*shell, "-c", script],
        cwd=cwd,
        env=_env(**env),
        capture_output=True,
        text=True,
        check=False,
    )


HUB = {"Dockerfile": "FROM alpine:3.20\n"}
QUAY = {"Dockerfile": "FROM quay.io/prometheus/node-exporter:v1.8.2\n"}
CLEAN = {"Dockerfile": f"FROM {REGISTRY}/docker-hub/library/alpine:3.20\n"}


@pytest.mark.parametrize(
    ("files", "env", "code", "diff"),
    [
        pytest.param(HUB, {}, 1, False, id="finding"),
        pytest.param(HUB, {"ECR_PTC_REGISTRY": REGISTRY}, 1, True, id="finding-shows-fix"),
        pytest.param(QUAY, {"ECR_PTC_FAIL_ON": "docker-hub"}, 0, False, id="fail-on-docker-hub"),
        pytest.param(CLEAN, {"ECR_PTC_REGISTRY": REGISTRY}, 0, False, id="clean"),
    ],
)
def test_shell_recipe(
    tmp_path: Path, files: dict[str, str], env: dict[str, str], code: int, diff: bool
) -> None:
    done = _shell(recipe("shell"), _repo(tmp_path / "repo", files), env)

    assert done.returncode == code, done.stdout + done.stderr
    assert ("+FROM " + REGISTRY in done.stderr) is diff
    assert ("Dockerfile:1:6: PTC00" in done.stdout) is (files is not CLEAN)


@pytest.mark.parametrize(("files", "code"), [(QUAY, 0), (HUB, 1)])
def test_gitlab_recipe(tmp_path: Path, files: dict[str, str], code: int) -> None:
    job = _yaml(recipe("gitlab-ci"))["ecr-ptc"]
    install, *script = job["script"]
    assert install.startswith("python -m pip install ")
    repo = _repo(tmp_path / "repo", files)

    # A GitLab job stops at the first script line that fails, as `sh -e` does.
    done = _shell("\n".join(script), repo, dict(job["variables"]), shell=("sh", "-e"))

    assert done.returncode == code, done.stdout + done.stderr
    assert json.loads((repo / "ecr-ptc.json").read_text())["findings"][0]["code"] in (
        "PTC001",
        "PTC002",
    )
    assert job["artifacts"]["paths"] == ["ecr-ptc.json"]


def test_github_workflow_uses_the_action_as_it_is_declared() -> None:
    workflow = _yaml(recipe("github-actions"))
    action = _action()
    steps = workflow["jobs"]["images"]["steps"]
    ours = next(s for s in steps if s.get("uses", "").startswith("ecr-ptc/ecr-ptc@"))
    upload = next(
        s for s in steps if s.get("uses", "").startswith("github/codeql-action/upload-sarif@")
    )

    assert steps.index(ours) < steps.index(upload)
    assert set(ours["with"]) <= set(action["inputs"])
    assert upload["with"]["sarif_file"] == ours["with"]["sarif-file"]
    assert "cancelled()" in upload["if"] or "always()" in upload["if"]
    assert workflow["permissions"]["security-events"] == "write"


def test_action_is_a_well_formed_composite_action() -> None:
    action = _action()
    steps = action["runs"]["steps"]
    assert action["runs"]["using"] == "composite"
    ids = {s.get("id") for s in steps}
    for step in steps:
        assert step["shell"] == "bash"  # composite run steps must name their shell
        assert "${{" not in step["run"]  # inputs come in through env: no script injection
        for used in re.findall(r"inputs\.([\w-]+)", json.dumps(step.get("env", {}))):
            assert used in action["inputs"]
        assert subprocess.run(["bash", "-n", "-c", step["run"]], check=False).returncode == 0
    for output in action["outputs"].values():
        step_id = re.fullmatch(r"\$\{\{ steps\.([\w-]+)\.outputs\.[\w-]+ \}\}", output["value"])
        assert step_id is not None and step_id[1] in ids


def _lint_step(
    tmp_path: Path, cwd: Path, inputs: dict[str, str]
) -> tuple[subprocess.CompletedProcess[str], str]:
    """The action's lint step under the shell GitHub gives it, inputs set as the runner sets
    them: every declared input present, the workflow's `with:` over the defaults."""
    action = _action()
    step = next(s for s in action["runs"]["steps"] if s.get("id") == "lint")
    values = {name: spec.get("default", "") for name, spec in action["inputs"].items()} | inputs
    env = {
        key: re.sub(r"\$\{\{ inputs\.([\w-]+) \}\}", lambda m: values[m[1]], str(template))
        for key, template in step["env"].items()
    }
    output = tmp_path / "github_output"
    output.write_text("")
    done = _shell(
        step["run"],
        cwd,
        env | {"GITHUB_OUTPUT": str(output)},
        shell=("bash", "--noprofile", "--norc", "-eo", "pipefail"),
    )
    return done, output.read_text()


def test_action_lint_step_annotates_writes_sarif_and_fails(tmp_path: Path) -> None:
    workflow = _yaml(recipe("github-actions"))
    inputs = next(
        s for s in workflow["jobs"]["images"]["steps"] if s.get("uses", "").startswith("ecr-ptc/")
    )["with"]
    repo = _repo(tmp_path / "repo", HUB)

    done, outputs = _lint_step(tmp_path, repo, inputs)

    assert done.returncode == 1, done.stderr
    assert done.stdout.startswith("::error file=Dockerfile,line=1,col=6,")
    sarif = json.loads((repo / inputs["sarif-file"]).read_text())
    assert [r["ruleId"] for r in sarif["runs"][0]["results"]] == ["PTC001"]
    assert "exit-code=1" in outputs.splitlines()


def test_action_lint_step_with_defaults_and_docker_hub_only(tmp_path: Path) -> None:
    repo = _repo(tmp_path / "repo", QUAY)
    done, outputs = _lint_step(tmp_path, repo, {})
    assert done.returncode == 1 and "exit-code=1" in outputs.splitlines()
    done, outputs = _lint_step(tmp_path, repo, {"fail-on": "docker-hub", "format": "text"})
    assert done.returncode == 0, done.stderr
    assert "Dockerfile:1:6: PTC002" in done.stdout and "exit-code=0" in outputs.splitlines()
    assert not (repo / "ecr-ptc.sarif").exists()


# --- lint --fail-on / lint.fail-on: block Docker Hub first ----------------------------------------
FAIL_ON = [
    pytest.param(QUAY, ["--fail-on", "docker-hub"], {}, None, 0, id="flag-quay-passes"),
    pytest.param(HUB, ["--fail-on", "docker-hub"], {}, None, 1, id="flag-hub-fails"),
    pytest.param(QUAY, [], {"ECR_PTC_FAIL_ON": "docker-hub quay"}, None, 1, id="env-list"),
    pytest.param(QUAY, [], {}, "lint:\n  fail-on: [docker-hub]\n", 0, id="config-quay-passes"),
    pytest.param(HUB, [], {}, "lint:\n  fail-on: [docker-hub]\n", 1, id="config-hub-fails"),
    pytest.param(
        QUAY,
        ["--fail-on", "supported"],
        {},
        "lint:\n  fail-on: [docker-hub]\n",
        1,
        id="flag-overrides-config",
    ),
    pytest.param(QUAY, ["--fail-on", "PTC001"], {}, None, 0, id="by-code"),
    pytest.param(
        QUAY, ["--fail-on", "docker-hub", "--format", "github"], {}, None, 0, id="github-format"
    ),
]


@pytest.mark.parametrize(("files", "args", "env", "config", "code"), FAIL_ON)
def test_lint_fail_on(
    tmp_path: Path,
    files: dict[str, str],
    args: list[str],
    env: dict[str, str],
    config: str | None,
    code: int,
) -> None:
    repo = _repo(tmp_path / "repo", files)
    if config:
        (repo / ".ecr-ptc.yaml").write_text(config)

    done = subprocess.run(
        [sys.executable, "-m", "migrate", "lint", *args],
        cwd=repo,
        env=_env(**env),
        capture_output=True,
        text=True,
        check=False,
    )

    assert done.returncode == code, done.stdout + done.stderr
    assert "PTC00" in done.stdout  # what does not fail the build is still reported


def test_lint_fail_on_unknown_is_exit_2(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "migrate", "lint", "--fail-on", "dockerhub"],
        cwd=_repo(tmp_path / "repo", HUB),
        env=_env(),
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 2 and "--fail-on: lint.fail-on: unknown 'dockerhub'" in done.stderr


# --- the pre-commit snippet and the hooks' file selection ----------------------------------------
def _hooks() -> dict[str, Any]:
    return {hook["id"]: hook for hook in _yaml((ROOT / ".pre-commit-hooks.yaml").read_text())}


def test_pre_commit_recipe_names_the_hooks_this_repository_offers() -> None:
    [repo] = _yaml(recipe("pre-commit"))["repos"]
    hooks = _hooks()
    assert {h["id"] for h in repo["hooks"]} == set(hooks) == {"ecr-ptc-fix", "ecr-ptc-lint"}
    for hook in hooks.values():
        assert hook["language"] == "python"
        assert hook["entry"] in ("ecr-ptc fix", "ecr-ptc lint")
        # fix: one run sees a kustomize base and its overlay together (docs/helm-and-kustomize.md)
        assert hook.get("require_serial", False) is (hook["id"] == "ecr-ptc-fix")


SELECTED = [
    "Dockerfile",
    "Dockerfile.dev",
    "svc/Dockerfile",
    "app.Dockerfile",
    "x.dockerfile",
    "Containerfile",
    "Containerfile.ci",
    "x.containerfile",
    "compose.yaml",
    "docker-compose.override.yml",
    "k8s/deploy.yaml",
    "values.yaml",
    "chart/values-prod.yaml",
    "kustomization.yaml",
    "Kustomization",
    "a/kustomization.yml",
    "chart/templates/deployment.yaml",
    "templates/pod.yml",
    "chart/templates/sub/cm.yaml",
    "infra/main.tf",
    # sources that may call the CDK's `fromRegistry`: the hook reads them, a substring test
    # drops the rest at once
    "setup.py",
    "lib/stack.ts",
]
NOT_SELECTED = [
    "README.md",
    ".dockerignore",
    "chart/templates/_helpers.tpl",
    "lib/index.d.ts",
    "infra/prod.tfvars",
    "Makefile",
]


@pytest.mark.parametrize("path", [*SELECTED, *NOT_SELECTED])
def test_hook_file_selection(path: str) -> None:
    """pre-commit's own rule: `files` searched, `exclude` searched, both Python regexes."""
    for hook in _hooks().values():
        chosen = bool(re.search(hook["files"], path)) and not re.search(
            hook.get("exclude", "^$"), path
        )
        assert chosen is (path in SELECTED)


def test_pre_commit_recipe_hook_does_not_prove_and_ci_requires_it(
    in_tmp: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The fix hook runs as the recipe says (`--prove=off`): it builds nothing and says once what
    went unproven; the CI command beside the recipe (`--prove=require`) exits 2 where it cannot
    prove (here: no kubectl)."""
    from migrate.cli import main
    from migrate.provers import kustomize_build as build
    from tests.helpers import FIXTURES

    [repo] = _yaml(recipe("pre-commit"))["repos"]
    [args] = [h["args"] for h in repo["hooks"] if h["id"] == "ecr-ptc-fix"]
    assert "--prove=off" in args
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "`ecr-ptc fix --check\n--prove=require`" in readme
    tree = FIXTURES / "kustomize" / "overlay"
    shutil.copytree(tree / "in", in_tmp, dirs_exist_ok=True)
    built: list[Path] = []
    monkeypatch.setattr(build, "command", lambda: ["kubectl", "kustomize"])
    monkeypatch.setattr(build, "images", lambda cmd, d: built.append(d) or [])

    assert main([*_hook_entry("ecr-ptc-fix")[1:], *args, "."]) == 1
    assert built == []
    assert capsys.readouterr().err.count("not proven (--prove off)") == 1

    shutil.copytree(tree / "in", in_tmp, dirs_exist_ok=True)
    monkeypatch.setattr(build, "command", lambda: None)
    assert main(["fix", "--check", "--prove=require", "--registry", REGISTRY, "."]) == 2


def _hook_entry(hook: str) -> list[str]:
    return str(_hooks()[hook]["entry"]).split()
