"""Issue 11's goal on the real corpus ($ECR_PTC_CORPUS): over the four application repositories,
copied whole (Dockerfiles, `.env`, skaffold.yaml included), every rewrite points at an image a
pull-through cache can serve: no non-official `library/` image, nothing the repository builds.
microservices-demo's skaffold-built images are reported as built here; opentelemetry-demo's
`.env` images are rewritten in `.env`."""

from __future__ import annotations

import contextlib
import io
import json
import re
import shutil
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from migrate import official
from migrate.cli import main
from tests.helpers import REGISTRY, corpus

pytestmark = pytest.mark.corpus

APPS = ("awesome-compose", "kubernetes-examples", "microservices-demo", "opentelemetry-demo")
SKAFFOLD_BUILT = {
    "adservice",
    "cartservice",
    "checkoutservice",
    "currencyservice",
    "emailservice",
    "frontend",
    "loadgenerator",
    "paymentservice",
    "productcatalogservice",
    "recommendationservice",
    "shippingservice",
    "shoppingassistantservice",
}
_LIBRARY = re.compile(re.escape(REGISTRY) + r"/docker-hub/library/([a-z0-9._-]+)")


@pytest.fixture(scope="module")
def apps(tmp_path_factory: pytest.TempPathFactory) -> Path:
    source = corpus()
    root = tmp_path_factory.mktemp("apps")
    for app in APPS:
        shutil.copytree(source / app, root / app)
    for path in root.rglob("*"):  # the corpus is read-only; its copy is ours to fix
        path.chmod(path.stat().st_mode | 0o200)
    return root


def _scan(root: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.chdir(root)
    capsys.readouterr()
    main(["scan", "--format", "json", "--registry", REGISTRY, *APPS])
    return json.loads(capsys.readouterr().out)["findings"]


@pytest.fixture(scope="module")
def scanned(apps: Path) -> list[dict[str, Any]]:
    """One scan of the unchanged copy serves the tests that only read."""
    out = io.StringIO()
    with pytest.MonkeyPatch.context() as patch, contextlib.redirect_stdout(out):
        patch.chdir(apps)
        main(["scan", "--format", "json", "--registry", REGISTRY, *APPS])
    return json.loads(out.getvalue())["findings"]  # type: ignore[no-any-return]


def test_no_rewrite_names_an_image_no_registry_serves(
    apps: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    shutil.copytree(apps, tmp_path, dirs_exist_ok=True)
    findings = _scan(tmp_path, capsys, monkeypatch)
    targets = [f for f in findings if f["target"]]
    assert len(targets) > 300
    for f in targets:
        library = official.library_name(f["reference"].split("@")[0].rsplit(":", 1)[0])
        assert library is None or library in official.names(), f
    codes = Counter(f["code"] or f["status"] for f in findings if not f["target"])
    with capsys.disabled():
        print(f"\napps: {len(targets)} rewrites; not rewritten: {dict(sorted(codes.items()))}")

    main(["fix", "--registry", REGISTRY, *APPS])
    written = Counter(
        m[1]
        for p in tmp_path.rglob("*")
        if p.is_file()
        for m in _LIBRARY.finditer(p.read_text(errors="replace"))
    )
    assert written and set(written) <= official.names()


def test_skaffold_builds_are_reported_as_built_here(scanned: list[dict[str, Any]]) -> None:
    findings = scanned
    built = {
        f["original"]: f["message"]
        for f in findings
        if f["path"].startswith("microservices-demo/") and f["code"] == "PTC009"
    }
    assert set(built) == SKAFFOLD_BUILT
    assert all("is built by skaffold.yaml:" in m for m in built.values())


def test_env_images_are_rewritten_in_env(scanned: list[dict[str, Any]]) -> None:
    findings = scanned
    in_env = [f for f in findings if f["path"] == "opentelemetry-demo/.env"]
    assert len(in_env) == 9 and all(f["target"] and f["kind"] == "dotenv" for f in in_env)
