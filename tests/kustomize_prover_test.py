"""`images[].name` follows only what the same run rewrites, file by file as pre-commit runs the
hook; `kubectl kustomize` builds the cache targets of what it built before (where kubectl is)."""

from __future__ import annotations

import http.server
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

import pytest

from migrate.cli import main
from migrate.config import Config
from migrate.findings import Status
from migrate.provers import kustomize
from migrate.provers import kustomize_build as build
from migrate.rewrite import engine
from tests.helpers import FIXTURES, REGISTRY

CASE = FIXTURES / "kustomize" / "overlay"
BASE, OVERLAY = "base/deployment.yaml", "overlay/kustomization.yaml"
needs_kubectl = pytest.mark.skipif(build.command() is None, reason="kubectl is not on PATH")


def _tree(root: Path, state: str = "in") -> dict[str, bytes]:
    shutil.copytree(CASE / state, root, dirs_exist_ok=True)
    return _files(root)


def _files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def _expected() -> dict[str, bytes]:
    return _files(CASE / "out")


def _fix(*paths: str) -> int:
    return main(["fix", "--registry", REGISTRY, *paths])


@pytest.mark.parametrize("alone", [BASE, OVERLAY])
def test_one_file_of_a_pair_alone_is_refused(
    alone: str, in_tmp: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = _tree(in_tmp)

    assert _fix(alone) == 0  # nothing written

    assert _files(in_tmp) == before
    err = capsys.readouterr().err
    assert f"{alone}:" in err and "PTC010" in err
    assert "fix both files in one run" in err or f"fix {OVERLAY} in the same run" in err


@pytest.mark.parametrize("first", [BASE, OVERLAY])
def test_each_order_then_both_migrates_the_pair(first: str, in_tmp: Path) -> None:
    _tree(in_tmp)
    second = OVERLAY if first == BASE else BASE

    assert _fix(first) == 0 and _fix(second) == 0  # each alone: refused, nothing changes
    assert _fix(first, second) == 1

    assert _files(in_tmp) == _expected()
    assert _fix(first, second) == 0


def test_a_name_left_by_an_earlier_migration_is_renamed_alone(in_tmp: Path) -> None:
    """The base is migrated already (by hand, or an older ecr-ptc) and the override matches
    nothing: renaming it alone makes it apply again, as it did before the base moved."""
    _tree(in_tmp)
    shutil.copyfile(CASE / "out" / BASE, in_tmp / BASE)

    assert _fix(OVERLAY) == 1

    assert _files(in_tmp) == _expected()


def test_refusal_is_reported_with_the_line_of_the_image(in_tmp: Path) -> None:
    _tree(in_tmp)
    results = list(engine.run([BASE], Config(registry=REGISTRY), in_tmp, fix=True, jobs=1))
    ((result),) = results
    refused = [f for f in result.findings if f.status is Status.REFUSED]
    assert [(f.code, f.line) for f in refused] == [("PTC010", 10)]
    assert "images[0].name 'nginx' in overlay/kustomization.yaml" in refused[0].message
    assert not any(f.target for f in result.findings)  # nothing claims a rewrite


def _builds(root: Path) -> list[str]:
    cmd = build.command()
    assert cmd is not None
    found = build.images(cmd, root / "overlay")
    assert isinstance(found, list), found
    return found


@needs_kubectl
@pytest.mark.parametrize("case", ["overlay", "patches", "components"])
def test_kubectl_builds_the_cache_targets(case: str, tmp_path: Path) -> None:
    before, after = (
        _builds(FIXTURES / "kustomize" / case / "in"),
        _builds(FIXTURES / "kustomize" / case / "out"),
    )
    assert len(before) == len(after) > 2
    for was, now in zip(before, after):
        assert now.startswith(REGISTRY + "/") and now.endswith(was.rpartition("/")[2]), (was, now)


def test_a_build_that_differs_refuses_every_rewritten_file(
    in_tmp: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = _tree(in_tmp)
    calls: list[Path] = []

    def fake(cmd: list[str], directory: Path) -> list[str] | str:
        calls.append(directory)
        return ["nginx:1.27.1"] if directory.is_relative_to(in_tmp) else ["busybox:1"]

    monkeypatch.setattr(build, "command", lambda: ["kubectl", "kustomize"])
    monkeypatch.setattr(build, "images", fake)
    results = list(
        engine.run(["."], Config(registry=REGISTRY), in_tmp, fix=True, write=True, jobs=1)
    )

    assert _files(in_tmp) == before
    refused = {r.path: f.message for r in results for f in r.findings if f.code == "PTC010"}
    assert set(refused) == {BASE, OVERLAY}
    assert "kubectl kustomize overlay: nginx:1.27.1 would build as busybox:1" in refused[OVERLAY]
    assert len(calls) >= 2


def test_without_kubectl_the_rewrite_is_written_with_a_note(
    in_tmp: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _tree(in_tmp)
    monkeypatch.setattr(build, "command", lambda: None)
    results = list(
        engine.run(["."], Config(registry=REGISTRY), in_tmp, fix=True, write=True, jobs=1)
    )

    assert _files(in_tmp) == _expected()
    notes = [(r.path, f.code, f.message) for r in results for f in r.findings if f.code == "PTC011"]
    message = "rewrite not verified by kustomize build: kubectl is not on PATH: static rules only"
    assert all(code == "PTC011" and text == message for _, code, text in notes)
    assert {path for path, _, _ in notes} == {OVERLAY, "base/kustomization.yaml"}


# --- hostile kustomizations (issue 21) --------------------------------------------------------

_DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  template:
    spec:
      containers:
        - name: web
          image: nginx:1.27
"""


class _Recorder(http.server.BaseHTTPRequestHandler):
    seen: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        type(self).seen.append(self.path)
        body = b"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: leak}\ndata: {a: b}\n"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def loopback() -> Iterator[str]:
    _Recorder.seen = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@needs_kubectl
@pytest.mark.parametrize(
    "field",
    (
        "configMapGenerator:\n  - name: c\n    files:\n      - {url}/files.txt\n",
        "configMapGenerator:\n  - name: c\n    files:\n      - key={url}/keyed.txt\n",
        "secretGenerator:\n  - name: s\n    envs:\n      - {url}/envs.env\n",
        "replacements:\n  - path: {url}/replacement.yaml\n",
        "openapi:\n  path: {url}/openapi.json\n",
        "crds:\n  - {url}/crd.yaml\n",
        "configurations:\n  - {url}/configuration.yaml\n",
        "generators:\n  - {url}/generator.yaml\n",
        "transformers:\n  - {url}/transformer.yaml\n",
        "patches:\n  - path: {url}/patch.yaml\n",
    ),
)
def test_a_url_in_any_field_is_never_fetched(field: str, in_tmp: Path, loopback: str) -> None:
    (in_tmp / "deployment.yaml").write_text(_DEPLOYMENT)
    text = "resources:\n  - deployment.yaml\n" + field.format(url=loopback)
    (in_tmp / "kustomization.yaml").write_text(text)

    results = list(engine.run(["."], Config(registry=REGISTRY), in_tmp, fix=True, jobs=1))

    assert _Recorder.seen == []
    notes = [f.message for r in results for f in r.findings if f.code == "PTC011"]
    assert notes and all(loopback in n and "would fetch" in n for n in notes), notes


def test_kubectl_runs_offline_and_without_this_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "hunter2")
    monkeypatch.setenv("NO_PROXY", "*")
    env = build.offline_env()

    assert "AWS_SECRET_ACCESS_KEY" not in env
    assert env["HTTPS_PROXY"] == env["http_proxy"] == "http://127.0.0.1:9"
    assert env["NO_PROXY"] == "" and env["GIT_ALLOW_PROTOCOL"] == "none"


def test_kubectl_collects_no_garbage_below_its_memory_limit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What kubectl runs with, seen by a stand-in on PATH: this environment's secrets never,
    Go's collector off below the limit (a third of a small build's CPU)."""
    seen = tmp_path / "env"
    fake = tmp_path / "bin" / "kubectl"
    fake.parent.mkdir()
    fake.write_text(f"#!/bin/sh\nenv > {seen}\necho 'kind: Pod'\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{fake.parent}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "hunter2")
    monkeypatch.setenv("GOGC", "50")

    assert build.images(["kubectl", "kustomize"], tmp_path) == []

    env = dict(line.split("=", 1) for line in seen.read_text().splitlines() if "=" in line)
    assert env["GOGC"] == "off" and env["GOMEMLIMIT"] == "256MiB"
    assert "AWS_SECRET_ACCESS_KEY" not in env and env["GIT_ALLOW_PROTOCOL"] == "none"


@needs_kubectl
def test_a_failed_build_says_why_not_exit_status(tmp_path: Path) -> None:
    (tmp_path / "kustomization.yaml").write_text("resources:\n  - missing.yaml\n")
    cmd = build.command()
    assert cmd is not None

    reason = build.images(cmd, tmp_path)

    assert isinstance(reason, str)
    assert "missing.yaml" in reason and "exit status" not in reason
    assert "\n" not in reason and len(reason) <= 300


def test_the_staging_copy_is_private_and_holds_only_what_the_build_reads(
    in_tmp: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    subprocess.run(["git", "init", "-q"], cwd=in_tmp, check=True)
    (in_tmp / ".gitignore").write_text(".env\nsecret.env\n")
    (in_tmp / ".env").write_text("AWS_SECRET_ACCESS_KEY=hunter2\n")
    (in_tmp / "secret.env").write_text("PASSWORD=read-by-the-build\n")
    (in_tmp / "notes.txt").write_text("not read\n")
    (in_tmp / "deployment.yaml").write_text(_DEPLOYMENT)
    (in_tmp / "kustomization.yaml").write_text(
        "resources:\n  - deployment.yaml\n"
        "secretGenerator:\n  - name: s\n    envs:\n      - secret.env\n"
    )
    in_tmp.chmod(0o755)
    staged: list[tuple[int, set[str]]] = []

    def fake(cmd: list[str], directory: Path) -> list[str] | str:
        if not directory.is_relative_to(in_tmp):
            modes = {p.stat().st_mode & 0o777 for p in directory.rglob("*")}
            files = {p.relative_to(directory).as_posix() for p in directory.rglob("*")}
            staged.append((directory.stat().st_mode & 0o777, files))
            assert modes <= {0o700, 0o600}, modes
            return [REGISTRY + "/docker-hub/library/nginx:1.27"]
        return ["nginx:1.27"]

    monkeypatch.setattr(build, "command", lambda: ["kubectl", "kustomize"])
    monkeypatch.setattr(build, "images", fake)
    list(engine.run(["."], Config(registry=REGISTRY), in_tmp, fix=True, jobs=1))

    assert staged == [(0o700, {"kustomization.yaml", "deployment.yaml", "secret.env"})]


def test_stale_staging_copies_are_swept(
    in_tmp: Path, tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    temp = tmp_path_factory.mktemp("temp")
    monkeypatch.setattr(tempfile, "tempdir", str(temp))
    stale, fresh, other = (
        temp / n for n in ("ecr-ptc-kustomize-old", "ecr-ptc-kustomize-new", "x")
    )
    for directory in (stale, fresh, other):
        (directory / "sub").mkdir(parents=True)
        (directory / "sub" / "f").write_text("")
    os.utime(stale, (time.time() - 3600, time.time() - 3600))
    os.utime(other, (time.time() - 3600, time.time() - 3600))
    kustomize._sweep.cache_clear()
    _tree(in_tmp)
    monkeypatch.setattr(build, "command", lambda: ["kubectl", "kustomize"])
    monkeypatch.setattr(build, "images", lambda cmd, d: ["nginx:1.27"])

    list(engine.run(["."], Config(registry=REGISTRY), in_tmp, fix=True, jobs=1))

    assert not stale.exists() and fresh.exists() and other.exists()


@pytest.mark.parametrize("signum", (signal.SIGTERM, signal.SIGINT))
def test_a_signal_ends_a_run_waiting_on_kubectl_at_once(signum: int, tmp_path: Path) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "kubectl").write_text("#!/bin/sh\nexec sleep 600\n")
    (bin_dir / "kubectl").chmod(0o755)
    repo = tmp_path / "repo"
    for name in ("a", "b"):  # two builds: side by side, in threads
        (repo / name).mkdir(parents=True)
        (repo / name / "deployment.yaml").write_text(_DEPLOYMENT)
        (repo / name / "kustomization.yaml").write_text("resources:\n  - deployment.yaml\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("ECR_PTC_")}
    env.update(PATH=f"{bin_dir}:{env['PATH']}", ECR_PTC_JOBS="2")
    env["PYTHONPATH"] = str(Path(__file__).resolve().parents[1])
    process = subprocess.Popen(
        [sys.executable, "-m", "migrate", "fix", "--registry", REGISTRY, "."],
        cwd=repo, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    time.sleep(3)
    started = time.monotonic()
    process.send_signal(signum)
    try:
        process.communicate(timeout=20)
    finally:
        process.kill()

    assert process.returncode not in (0, 1, None)
    assert time.monotonic() - started < 10
