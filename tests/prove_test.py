"""`--prove auto|off|require` (config `prove:`, ECR_PTC_PROVE): auto proves where the renderer is
installed, off writes on the static rules and says once how many rewrites went unproven, require
writes nothing it cannot prove and exits 2."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from migrate.cli import main
from migrate.config import Config, ConfigError, load
from migrate.provers import helm, helm_child
from migrate.provers import kustomize_build as build
from tests.helpers import FIXTURES, REGISTRY

KUSTOMIZE = FIXTURES / "kustomize" / "overlay"
CHART = FIXTURES / "helm" / "namespace_name"
BASE, OVERLAY = "base/deployment.yaml", "overlay/kustomization.yaml"


def _files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def _fix(*args: str) -> int:
    return main(["fix", "--registry", REGISTRY, *args])


@pytest.fixture
def builds(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """kubectl as if installed, building what the tree on disk names; the directories built."""
    calls: list[Path] = []
    real = build.images

    def images(cmd: list[str], directory: Path) -> list[str] | str:
        calls.append(directory)
        return real(["kubectl", "kustomize"], directory) if shutil.which("kubectl") else []

    monkeypatch.setattr(build, "command", lambda: ["kubectl", "kustomize"])
    monkeypatch.setattr(build, "images", images)
    return calls


@pytest.mark.parametrize("mode", ["auto", "off", "require"])
def test_config_prove(mode: str, tmp_path: Path) -> None:
    (tmp_path / ".ecr-ptc.yaml").write_text(f"registry: {REGISTRY}\nprove: {mode}\n")
    assert load(tmp_path / ".ecr-ptc.yaml").prove == mode
    assert Config().prove == "auto"


@pytest.mark.parametrize("value", ["maybe", "false", "[off]", "1"])
def test_config_prove_error_names_the_line(value: str, tmp_path: Path) -> None:
    (tmp_path / ".ecr-ptc.yaml").write_text(f"registry: {REGISTRY}\n\nprove: {value}\n")
    with pytest.raises(ConfigError) as raised:
        load(tmp_path / ".ecr-ptc.yaml")
    assert (raised.value.line, raised.value.reason) == (3, "prove: one of auto, off, require")


def test_auto_builds_and_writes(
    in_tmp: Path, builds: list[Path], capsys: pytest.CaptureFixture[str]
) -> None:
    shutil.copytree(KUSTOMIZE / "in", in_tmp, dirs_exist_ok=True)

    assert _fix(".") == 1
    assert _files(in_tmp) == _files(KUSTOMIZE / "out")
    assert builds  # before and after
    assert "not proven" not in capsys.readouterr().err


@pytest.mark.parametrize("how", ["option", "environment", "config"])
def test_off_builds_nothing_and_says_so_once(
    how: str,
    in_tmp: Path,
    builds: list[Path],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    shutil.copytree(KUSTOMIZE / "in", in_tmp, dirs_exist_ok=True)
    args = ["--prove", "off"] if how == "option" else []
    if how == "environment":
        monkeypatch.setenv("ECR_PTC_PROVE", "off")
    if how == "config":
        (in_tmp / ".ecr-ptc.yaml").write_text("prove: off\n")
    old, new = _files(KUSTOMIZE / "in"), _files(KUSTOMIZE / "out")
    rewritten = sum(old[name] != new[name] for name in old)

    assert _fix(*args, ".") == 1
    assert builds == []
    files = _files(in_tmp)
    files.pop(".ecr-ptc.yaml", None)
    assert files == new
    err = capsys.readouterr().err
    said = [line for line in err.splitlines() if "not proven" in line]
    assert len(said) == 1 and f"in {rewritten} files not proven (--prove off)" in said[0], err
    assert "PTC011" not in err


def test_off_keeps_the_static_rule(in_tmp: Path, builds: list[Path]) -> None:
    """A base rewritten without the overlay whose `images:` names it: refused, proving or not."""
    shutil.copytree(KUSTOMIZE / "in", in_tmp, dirs_exist_ok=True)
    before = _files(in_tmp)

    assert _fix("--prove", "off", BASE) == 0
    assert _files(in_tmp) == before
    assert builds == []


def test_require_without_kubectl_writes_nothing_and_exits_2(
    in_tmp: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    shutil.copytree(KUSTOMIZE / "in", in_tmp, dirs_exist_ok=True)
    before = _files(in_tmp)
    monkeypatch.setattr(build, "command", lambda: None)

    assert _fix("--prove", "require", ".") == 2
    assert _files(in_tmp) == before
    err = capsys.readouterr().err
    assert "PTC011" in err and "kubectl is not on PATH" in err
    assert f"{BASE}:1:1: PTC011 not proven, not written (--prove require)" in err


def test_require_with_kubectl_writes_what_it_proved(in_tmp: Path, builds: list[Path]) -> None:
    if not shutil.which("kubectl"):
        pytest.skip("kubectl is not on PATH")
    shutil.copytree(KUSTOMIZE / "in", in_tmp, dirs_exist_ok=True)

    assert _fix("--prove", "require", ".") == 1
    assert _files(in_tmp) == _files(KUSTOMIZE / "out")


@pytest.mark.parametrize("mode", ["auto", "off", "require"])
def test_a_chart_without_the_renderer(
    mode: str, in_tmp: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    shutil.copytree(CHART / "in", in_tmp, dirs_exist_ok=True)
    before = _files(in_tmp)
    monkeypatch.setattr(helm, "_installed", lambda: "Helm's renderer is not installed")

    def never(*_: object) -> None:
        raise AssertionError("rendered")

    monkeypatch.setattr(helm_child, "render", never)

    code = _fix("--prove", mode, ".")

    err = capsys.readouterr().err
    if mode == "require":
        assert code == 2 and _files(in_tmp) == before
        assert "PTC011 not render-verified: Helm's renderer is not installed" in err
    else:
        assert code == 1 and _files(in_tmp) == _files(CHART / "out")
        assert ("PTC011" in err) is (mode == "auto")
        assert ("not proven (--prove off)" in err) is (mode == "off")


@pytest.mark.parametrize("mode", ["off", "require"])
def test_pr(
    mode: str, in_tmp: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`pr --prove require` commits nothing it cannot prove; `--prove off` commits, saying once
    how many rewrites went unproven."""
    import subprocess

    env = {
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.invalid",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.invalid",
        "GIT_CONFIG_GLOBAL": str(in_tmp.parent / "gitconfig"),
        "GIT_CONFIG_NOSYSTEM": "1",
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    shutil.copytree(KUSTOMIZE / "in", in_tmp, dirs_exist_ok=True)
    for args in (["init", "-q", "-b", "main"], ["add", "-A"], ["commit", "-qm", "init"]):
        subprocess.run(["git", *args], cwd=in_tmp, check=True)
    monkeypatch.setattr(build, "command", lambda: None)

    code = main(["pr", "--registry", REGISTRY, "--prove", mode, "."])

    branches = subprocess.run(
        ["git", "branch", "--format=%(refname:short)"],
        cwd=in_tmp,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    err = capsys.readouterr().err
    if mode == "require":
        assert code == 2 and branches == ["main"]
        assert "--prove require: a rewrite could not be proven; nothing was committed" in err
    else:
        assert code == 0 and "ecr-ptc/migrate" in branches
        assert err.count("not proven (--prove off)") == 1
