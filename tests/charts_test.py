"""Helm charts proven by Helm's own renderer: every chart fixture and every corpus chart is
rendered before and after `fix`; no image may render as anything but its cache target (or
itself), and every image left alone is reported with its reason."""

from __future__ import annotations

import functools
import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path, PurePosixPath

import pytest

from migrate.config import Config
from migrate.findings import Finding, Status
from migrate.provers import helm_compare as compare
from migrate.provers import helm_render as render
from migrate.provers import rendered as images
from migrate.rewrite import engine
from tests.helpers import FIXTURES, REGISTRY, corpus

CONFIG = Config(registry=REGISTRY)
CASES = sorted(p.name for p in (FIXTURES / "helm").iterdir() if (p / "in" / "Chart.yaml").is_file())
needs_helm = pytest.mark.skipif(render.available() is not None, reason=str(render.available()))


def _fix(root: Path) -> list[Finding]:
    results = engine.run(["."], CONFIG, root, fix=True, write=True, jobs=1)
    return [f for r in results for f in r.findings]


def _rendered(chart: Path) -> list[images.Rendered]:
    out = render.render(chart, {})[""]
    assert not isinstance(out, str), out
    return images.images(out)


def _rendered_with_dependencies(chart: Path, root: Path, copy: Path) -> list[images.Rendered]:
    """Rendered as `helm dependency build` would have it: the repository's own charts it
    depends on copied into a copy's charts/."""
    from migrate.provers import helm_deps

    shutil.copytree(chart, copy)
    helm_deps.stage(copy, helm_deps.found(chart, render.missing, root), shutil.copytree)
    return _rendered(copy)


# Repository-shaped cases (charts under charts/, each depending on the others): every chart
# renders with its dependencies found in the repository.
REPOSITORIES = sorted(
    p.name
    for p in (FIXTURES / "helm").iterdir()
    if (p / "in").is_dir() and not (p / "in" / "Chart.yaml").is_file()
)


@needs_helm
@pytest.mark.parametrize("case", REPOSITORIES)
def test_fixture_chart_repositories_render_with_their_own_dependencies(
    case: str, tmp_path: Path
) -> None:
    original = FIXTURES / "helm" / case / "in"
    shutil.copytree(original, tmp_path / "repo")
    findings = _fix(tmp_path / "repo")
    codes = {f.code for f in findings}
    assert not codes & {"PTC010", "PTC011", "PTC900"}, [f.message for f in findings]
    for chart in sorted(p.parent for p in original.glob("charts/*/Chart.yaml")):
        relative = chart.relative_to(original)
        before = _rendered_with_dependencies(chart, original, tmp_path / "before" / relative)
        fixed = tmp_path / "repo" / relative
        after = _rendered_with_dependencies(fixed, tmp_path / "repo", tmp_path / "after" / relative)
        assert list(compare.wrong(before, after, CONFIG)) == [], relative
        assert compare.unmigrated(after) == {}, relative


@needs_helm
@pytest.mark.parametrize("case", CASES)
def test_fixture_charts_render_their_cache_targets(case: str, tmp_path: Path) -> None:
    shutil.copytree(FIXTURES / "helm" / case / "in", tmp_path, dirs_exist_ok=True)
    findings = _fix(tmp_path)
    codes = {f.code for f in findings}
    assert "PTC010" not in codes
    if case == "chart":  # its helpers are not in the fixture: static rules alone, and said so
        assert "PTC011" in codes
        return
    assert "PTC011" not in codes
    before, after = _rendered(FIXTURES / "helm" / case / "in"), _rendered(tmp_path)
    assert list(compare.wrong(before, after, Config(registry=REGISTRY))) == []
    left = compare.unmigrated(after)
    if case == "null_defaults":
        assert left == {"quay.io/acme/app:1.0": left["quay.io/acme/app:1.0"]}
        (left_alone,) = [f for f in findings if f.code == "PTC014"]
        # where the image is defined: the template line that gives it as a default
        assert (left_alone.path, left_alone.line) == ("templates/deployment.yaml", 10)
        assert "a default in the chart's templates" in left_alone.message
    elif case == "shared_anchor":
        assert list(left) == ["nginx:1.27"] and "PTC012" in codes
    elif case == "global_image_registry":
        assert left == {} and any(r.image.startswith(f"{REGISTRY}/kubernetes/") for r in after)
    else:
        assert left == {}


@needs_helm
def test_a_rewrite_helm_renders_wrong_is_refused(tmp_path: Path) -> None:
    (tmp_path / "templates").mkdir()
    (tmp_path / "Chart.yaml").write_text("apiVersion: v2\nname: mirror\nversion: 0.1.0\n")
    values = "image:\n  repository: nginx\n  tag: '1.27'\n"
    (tmp_path / "values.yaml").write_text(values)
    (tmp_path / "templates" / "pod.yaml").write_text(
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: x\nspec:\n  containers:\n    - name: x\n"
        '      image: "mirror.example.com/{{ .Values.image.repository }}:{{ .Values.image.tag }}"\n'
    )
    findings = _fix(tmp_path)

    assert (tmp_path / "values.yaml").read_text() == values
    (refused,) = [f for f in findings if f.code == "PTC010"]
    assert refused.status is Status.REFUSED and refused.path == "values.yaml"
    assert "mirror.example.com/nginx:1.27 as mirror.example.com/" + REGISTRY in refused.message
    assert all(f.target is None for f in findings)


def _corpus_charts() -> list[Path]:
    root = corpus()
    return sorted(p.parent for p in root.glob("charts/*/*/Chart.yaml")) + [
        root / "microservices-demo" / "helm-chart"
    ]


@pytest.mark.corpus
@needs_helm
def test_every_corpus_chart_renders_right_after_fix(tmp_path: Path) -> None:
    for chart in _corpus_charts():
        copy = tmp_path / chart.name
        shutil.copytree(chart, copy)
        for path in copy.rglob("*"):
            path.chmod(0o755 if path.is_dir() else 0o644)
        findings = _fix(copy)
        reported = " ".join(f.message for f in findings)
        assert not [f for f in findings if f.code in ("PTC010", "PTC900")], chart.name
        before, after = _rendered(chart), _rendered(copy)
        assert list(compare.wrong(before, after, Config(registry=REGISTRY))) == [], chart.name
        for image in compare.unmigrated(after):  # left alone: each reported with its reason
            assert image in reported or image.split(":")[0] in reported, (chart.name, image)


def test_pr_body_lists_rewrites_not_render_verified(tmp_path: Path) -> None:
    from migrate.pr import body as pr_body

    shutil.copytree(FIXTURES / "helm" / "chart" / "in", tmp_path, dirs_exist_ok=True)
    results = list(engine.run(["."], CONFIG, tmp_path, fix=True, write=False, jobs=1))
    summary = pr_body.summarise(REGISTRY, results)
    text = pr_body.body(summary, (), plan="", renovate="{}")

    assert len(summary.unverified) == 4  # every rewrite of a chart that does not render alone
    section = text.split("### Review these: not render-verified", 1)[1].split("###", 1)[0]
    assert f"`templates/deployment.yaml:13`  busybox:1.36 → {REGISTRY}/docker-hub/" in section


@needs_helm
def test_an_image_left_alone_is_reported_at_its_values_key(tmp_path: Path) -> None:
    (tmp_path / "templates").mkdir()
    (tmp_path / "Chart.yaml").write_text("apiVersion: v2\nname: left\nversion: 0.1.0\n")
    (tmp_path / "values.yaml").write_text(
        "image:\n  repository: nginx  # ecr-ptc: ignore\n  tag: '1.27'\n"
        "sidecar:\n  image:\n    repository: redis\n    tag: '7.4'\n"
    )
    (tmp_path / "templates" / "pod.yaml").write_text(
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: x\nspec:\n  containers:\n"
        '    - name: x\n      image: "{{ .Values.image.repository }}:{{ .Values.image.tag }}"\n'
        '    - name: y\n      image: "{{ .Values.sidecar.image.repository }}:'
        '{{ .Values.sidecar.image.tag }}"\n'
    )
    (tmp_path / "prod-values.yaml").write_text("sidecar:\n  image:\n    repository: memcached\n")
    findings = _fix(tmp_path)
    left = {(f.path, f.line) for f in findings if f.code == "PTC014"}
    assert left == {("values.yaml", 2)}  # nginx, left alone: at its key, not at 1:1


@pytest.mark.corpus
@needs_helm
def test_a_template_default_is_reported_at_its_template_line(tmp_path: Path) -> None:
    copy = tmp_path / "traefik"
    shutil.copytree(corpus() / "charts" / "traefik" / "traefik", copy)
    (left,) = [f for f in _fix(copy) if f.code == "PTC014"]
    assert left.path == "templates/_helpers.tpl"
    assert '"traefik"' in (copy / left.path).read_text().split("\n")[left.line - 1]


@needs_helm
def test_a_guarded_chart_renders_after_fix_because_the_setting_is_inserted(
    tmp_path: Path,
) -> None:
    """Bitnami-style charts fail the render on a relocated image unless
    global.security.allowInsecureImages is true: fix sets it, said once per file (PTC016),
    and reports a values file whose chart it cannot know (PTC017)."""
    original = FIXTURES / "helm" / "bitnami_guard" / "in"
    repo = tmp_path / "repo"
    shutil.copytree(original, repo)
    findings = _fix(repo)

    said = sorted((f.path, f.code) for f in findings if f.code in ("PTC016", "PTC017"))
    assert said == [
        ("charts/app/values.yaml", "PTC016"),
        ("charts/web/values.yaml", "PTC016"),
        ("charts/worker/values.yaml", "PTC016"),
        ("flux/mongodb/mongodb.yaml", "PTC016"),  # a Flux HelmRelease's values, generated
        ("kubectl-values.yaml", "PTC017"),  # no chart names it
        ("values/postgresql.yaml", "PTC016"),  # an Argo CD Application's Bitnami chart
        ("values/redis.yaml", "PTC016"),  # a helmfile release's Bitnami chart
    ]
    for name in ("app", "web", "worker"):
        fixed = repo / "charts" / name
        staged = tmp_path / name
        _rendered_with_dependencies(fixed, repo, staged)  # renders: the setting is in
        values = (staged / "values.yaml").read_text()
        (staged / "values.yaml").write_text(values.replace("allowInsecureImages: true", "x: 1"))
        refused = render.render(staged, {})[""]
        assert isinstance(refused, str) and "substituted" in refused, name  # the guard is real


def test_pr_body_says_what_is_set_beside_the_rewrites(tmp_path: Path) -> None:
    from migrate.pr import body as pr_body

    shutil.copytree(FIXTURES / "helm" / "bitnami_guard" / "in", tmp_path, dirs_exist_ok=True)
    results = list(engine.run(["."], CONFIG, tmp_path, fix=True, write=False, jobs=1))
    text = pr_body.body(pr_body.summarise(REGISTRY, results), (), plan="", renovate="{}")

    section = text.split("### Also changed", 1)[1].split("###", 1)[0]
    assert "`values/redis.yaml:4`" in section and "allowInsecureImages: true" in section
    assert "`kubectl-values.yaml:4`" in section and "not known" in section
    assert "No other byte of any file changes" not in text


def test_a_rewrite_that_would_change_another_reference_is_left_with_a_reason(
    tmp_path: Path,
) -> None:
    """One registry for two images, one of them suppressed: rewriting the other would move
    both. The rewrite is left out and says why; the re-scan check is never the message."""
    values = (
        "global:\n  image:\n    registry: docker.io\n"
        "tempo:\n  image:\n    repository: grafana/tempo\n    tag: 2.6.0\n"
        "agent:\n  image:\n    repository: grafana/agent  # ecr-ptc: ignore\n    tag: v0.43.3\n"
    )
    (tmp_path / "values.yaml").write_text(values)
    findings = _fix(tmp_path)

    assert (tmp_path / "values.yaml").read_text() == values
    assert not [f for f in findings if f.code == "PTC900"]
    (left,) = [f for f in findings if f.status is Status.REFUSED]
    assert left.code == "PTC004" and left.line == 6 and "a value they share" in left.message


# --- hostile charts (issue 21) ----------------------------------------------------------------

_POD = (
    "apiVersion: v1\nkind: Pod\nmetadata:\n  name: x\nspec:\n  containers:\n    - name: x\n"
    "      image: {{ .Values.image }}\n"
)


def _chart(root: Path, *templates: str) -> None:
    (root / "templates").mkdir(parents=True)
    (root / "Chart.yaml").write_text("apiVersion: v2\nname: hostile\nversion: 0.1.0\n")
    (root / "values.yaml").write_text("image: nginx:1.27\n")
    (root / "templates" / "pod.yaml").write_text(_POD)
    for index, text in enumerate(templates):
        (root / "templates" / f"t{index}.yaml").write_text(text)


@needs_helm
def test_files_get_reads_no_symlink_out_of_the_repository(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CI_SECRET_TOKEN", "hunter2-from-the-environment")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("hunter2-from-outside")
    repo = tmp_path / "repo"
    _chart(
        repo,
        '{{ fail (printf "[%s]" (.Files.Get "environ")) }}\n',
        '{{ fail (printf "[%s]" (.Files.Get "ext/secret.txt")) }}\n',
    )
    (repo / "environ").symlink_to("/proc/self/environ")
    (repo / "ext").symlink_to(outside)

    findings = _fix(repo)

    said = " ".join(f.message for f in findings)
    assert "PTC011" in {f.code for f in findings}
    assert "hunter2" not in said


def test_the_staging_copy_holds_only_the_chart_s_regular_files_inside(tmp_path: Path) -> None:
    from migrate.provers import staging

    outside = tmp_path / "outside"
    (outside / "big").mkdir(parents=True)
    (outside / "big" / "blob").write_bytes(b"x" * 1000)
    repo = tmp_path / "repo"
    _chart(repo)
    (repo / "files").mkdir()
    (repo / "files" / "in.txt").write_text("kept")
    (repo / "inside-link.txt").symlink_to(repo / "files" / "in.txt")
    (repo / "loop").symlink_to(repo)
    (repo / "big").symlink_to(outside / "big")
    (repo / "environ").symlink_to("/proc/self/environ")
    os.mkfifo(repo / "fifo")
    copy = tmp_path / "copy"

    staging.copy_tree(repo.resolve(), repo, copy, staging.Budget(), True, frozenset({".git"}))

    files = sorted(p.relative_to(copy).as_posix() for p in copy.rglob("*") if p.is_file())
    assert files == [
        "Chart.yaml", "files/in.txt", "inside-link.txt", "templates/pod.yaml", "values.yaml",
    ]  # fmt: skip
    assert not any(p.is_symlink() for p in copy.rglob("*"))
    with pytest.raises(staging.TooLarge):
        staging.copy_tree(
            repo, repo, tmp_path / "small", staging.Budget(bytes=10), True, frozenset()
        )


def test_a_planned_copy_is_made_of_exactly_the_files_its_render_key_reads(
    tmp_path: Path,
) -> None:
    """A render's key is computed from the plan, before any copy exists (a kept render is
    never copied): the copy made from it holds those files and bytes, the replaced ones new
    files, never written through a hard link to the repository's. A file of a dependency
    staged from the repository is in the key; a file the copy does not hold is not."""
    from migrate.provers import helm_cache, helm_deps, staging
    from migrate.provers.helm import _SKIP, _plan_dependency

    repo = tmp_path / "repo"
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    _chart(repo / "app")
    (repo / "app" / "Chart.yaml").write_text(
        "apiVersion: v2\nname: app\nversion: 0.1.0\n"
        "dependencies:\n  - {name: lib, version: 0.1.0, repository: file://../lib}\n"
    )
    _chart(repo / "lib")
    (repo / "lib" / "Chart.yaml").write_text("apiVersion: v2\nname: lib\nversion: 0.1.0\n")
    (repo / "README.md").write_text("not read by a render\n")
    root, unit = repo.resolve(), repo.resolve() / "app"

    def planned() -> staging.Plan:
        plan, budget = staging.Plan(), staging.Budget()
        plan.add_tree(root, unit, PurePosixPath(), budget, _SKIP)
        found = helm_deps.found(unit, helm_deps.missing, root)
        copier = functools.partial(_plan_dependency, plan, root, budget)
        helm_deps.stage(PurePosixPath(), found, copier, plan.has)
        return plan

    plan = planned()
    replaced = {"values.yaml": b"image: 123456789012.dkr.ecr.us-east-1.amazonaws.com/x:1\n"}
    copy = tmp_path / "copy"
    plan.materialize(copy, True, replaced)
    made = {p.relative_to(copy).as_posix(): p.read_bytes() for p in copy.rglob("*") if p.is_file()}
    assert made == {rel: plan.read(rel) for rel in plan.files} | replaced
    assert "charts/lib/templates/pod.yaml" in made  # the dependency, staged
    assert (repo / "app" / "values.yaml").read_text() == "image: nginx:1.27\n"
    assert not (copy / "values.yaml").samefile(repo / "app" / "values.yaml")
    assert (copy / "Chart.yaml").samefile(repo / "app" / "Chart.yaml")  # the rest: linked

    def keys() -> list[str | None]:
        return helm_cache.keys(repo, planned(), [({}, {}), ({}, replaced)])

    first = keys()
    assert None not in first and first[0] != first[1]
    (repo / "README.md").write_text("changed, and still not read\n")
    assert keys() == first
    (repo / "lib" / "templates" / "pod.yaml").write_text(_POD + "# changed\n")
    assert keys()[0] != first[0]


_CPU_BOMB = "{{ range until 100000 }}{{ range until 100000 }}{{ end }}{{ end }}\n"
_MEMORY_BOMB = (
    '{{ $s := "xxxxxxxxxxxxxxxx" }}{{ range until 40 }}{{ $s = printf "%s%s" $s $s }}{{ end }}'
    "{{ $s | len }}\n"
)


def _fix_in_a_child(root: Path, timeout: float) -> subprocess.Popen[str]:
    code = (
        "import sys\n"
        "try:\n"
        "    from migrate.provers import helm_child\n"
        f"    helm_child.TIMEOUT = {timeout}\n"
        "except ImportError:\n"  # before the renders had a child of their own
        "    pass\n"
        "from migrate.cli import main\n"
        f"sys.exit(main(['fix', '--registry', {REGISTRY!r}, '.']))\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("ECR_PTC_")}
    env.update(PYTHONPATH=str(Path(__file__).resolve().parents[1]), ECR_PTC_JOBS="2")
    return subprocess.Popen(
        [sys.executable, "-c", code], cwd=root, env=env, text=True,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip


@needs_helm
@pytest.mark.parametrize(
    ("bomb", "reason"),
    (
        pytest.param(_CPU_BOMB, "took over 3 s", id="cpu"),
        pytest.param(_MEMORY_BOMB, "memory limit", id="memory"),
    ),
)
def test_a_template_bomb_is_a_ptc011_note(bomb: str, reason: str, tmp_path: Path) -> None:
    _chart(tmp_path, bomb)
    started = time.monotonic()
    process = _fix_in_a_child(tmp_path, 3)
    try:
        out, err = process.communicate(timeout=120)
    finally:
        process.kill()

    assert process.returncode in (0, 1), err[-3000:]
    assert "goroutine" not in err and "internal error" not in err
    said = out + err
    assert "PTC011" in said and reason in said, said
    assert time.monotonic() - started < 60


@needs_helm
@pytest.mark.parametrize("signum", (signal.SIGTERM, signal.SIGINT))
def test_a_signal_ends_a_run_stuck_in_renders_at_once(signum: int, tmp_path: Path) -> None:
    for name in ("a", "b"):  # two charts: proven side by side, in threads
        _chart(tmp_path / name, _CPU_BOMB)
    process = _fix_in_a_child(tmp_path, 600)
    time.sleep(4)  # the renders have started
    process.send_signal(signum)
    try:
        process.communicate(timeout=15)
    finally:
        process.kill()

    assert process.returncode not in (0, 1, None)


def test_a_signal_kills_a_busy_renderer_but_leaves_its_pipes_to_the_thread_reading_them() -> None:
    """`stop` runs in the main thread while prover threads wait on their children's answers.
    It used to close a busy child's pipes too: a thread between registering the descriptor and
    waiting on it then waited on a number the OS had handed to another file, for the whole
    time limit (the run hung after Ctrl-C, 1 in 9 runs on a loaded machine)."""
    from migrate.provers import helm_child

    helm_child.reset()
    child = helm_child._take()
    assert child is not None
    try:
        helm_child.stop()
        assert child.process.wait(timeout=10) is not None  # killed at once
        assert child.process.stdout is not None and not child.process.stdout.closed
        assert "stopped" in str(child.ask([], timeout=10))  # the reader sees the end itself
        assert child.process.stdout.closed
        assert helm_child._take() is None  # and no child starts while the run is stopping
    finally:
        helm_child._drop(child)
        helm_child.reset()


@needs_helm
def test_stale_helm_staging_copies_are_swept(tmp_path: Path) -> None:
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    _chart(tmp_path)
    git = tmp_path / ".git"
    stale, fresh = git / "ecr-ptc-helm-stale", git / "ecr-ptc-helm-fresh"
    for directory in (stale, fresh):
        (directory / "chart").mkdir(parents=True)
        (directory / "chart" / "values.yaml").write_text("image: nginx:1.27\n")
    an_hour_ago = time.time() - 3600
    os.utime(stale, (an_hour_ago, an_hour_ago))

    _fix(tmp_path)

    assert not stale.exists() and fresh.exists()
    assert [p.name for p in git.glob("ecr-ptc-helm-*")] == [fresh.name]


@needs_helm
def test_a_chart_rendered_before_is_not_rendered_again_before_its_rewrite(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`fix --diff` then `fix` (or a hook run again): the second run renders nothing, the chart
    as it is and its rewrite both kept; a change to any file the chart reads renders both again
    (the chart's other values files are in the key too); another registry, the rewrite only."""
    from migrate.provers import helm_child

    shutil.copytree(FIXTURES / "helm" / "global_official" / "in", tmp_path, dirs_exist_ok=True)
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    asked: list[int] = []
    known: list[object] = []  # the documents memo each request was given
    real = helm_child.render

    def counted(jobs: list[helm_child.Job], **options: object) -> list[object]:
        asked.append(len(jobs))
        known.append(options.get("known"))
        return real(jobs, **options)  # type: ignore[arg-type,return-value]

    monkeypatch.setattr(helm_child, "render", counted)

    def diff() -> list[tuple[str, str | None]]:
        results = engine.run(["."], CONFIG, tmp_path, fix=True, write=False, jobs=1)
        return sorted((f.code or "", f.target) for r in results for f in r.findings)

    first = diff()
    assert asked == [2]  # before and after
    assert "PTC011" not in {code for code, _ in first}  # rendered: something to keep
    assert diff() == first and asked == [2]  # no render at all: the same findings

    (tmp_path / "templates" / "NOTES.txt").write_text("installed\n")
    assert diff() == first and asked == [2, 2]

    elsewhere = CONFIG.registry.replace("123456789012", "210987654321")
    results = engine.run(["."], replace(CONFIG, registry=elsewhere), tmp_path, fix=True, jobs=1)
    assert elsewhere in str([f.target for r in results for f in r.findings])
    assert asked == [2, 2, 1]  # the chart as it is was kept, with its documents' images
    assert known[-1] and set(known[-1]) <= set(known_by_then := _kept_documents(tmp_path))
    assert known_by_then


def _kept_documents(root: Path) -> set[str]:
    """The digests of the documents memos kept beside renders in `root`'s git directory."""
    import json

    from migrate.provers import helm_cache

    out: set[str] = set()
    for entry in (root / ".git" / helm_cache.DIRECTORY).iterdir():
        out |= set(json.loads(entry.read_text())["value"]["documents"])
    return out


def test_a_chart_yaml_is_loaded_safely_by_libyaml(tmp_path: Path) -> None:
    """Chart.yaml is read with libyaml's parser and the safe constructor: the same data as
    `yaml.safe_load`, and a Python tag is no object but an unreadable file."""
    import yaml

    from migrate.facts.charts import dependencies

    chart = tmp_path / "Chart.yaml"
    chart.write_text("apiVersion: v2\nname: web\ndependencies:\n  - {name: redis, version: 1.x}\n")
    assert dependencies.load(chart) == yaml.safe_load(chart.read_text())
    libyaml = yaml.__with_libyaml__  # PyYAML's wheels have it; a source build may not
    assert dependencies._safe_loader() is (yaml.CSafeLoader if libyaml else yaml.SafeLoader)
    chart.write_text("name: !!python/object/apply:os.getcwd []\n")
    assert dependencies.load(chart) is None


def _two_pods(chart: Path, a: str, b: str) -> Path:
    (chart / "templates").mkdir(parents=True)
    (chart / "Chart.yaml").write_text("apiVersion: v2\nname: two\nversion: 0.1.0\n")
    (chart / "values.yaml").write_text(f"a:\n  image: {a}\nb:\n  image: {b}\n")
    for name in ("a", "b"):
        (chart / "templates" / f"{name}.yaml").write_text(
            f"apiVersion: v1\nkind: Pod\nmetadata:\n  name: {name}\nspec:\n  containers:\n"
            f"    - name: {name}\n      image: {{{{ .Values.{name}.image }}}}\n"
        )
    return chart


@needs_helm
def test_a_rewrite_s_render_parses_only_the_documents_it_changed(tmp_path: Path) -> None:
    """Given the documents memo of the chart as it is, a render takes the images of a document
    whose text the memo holds from it, unparsed: here the memo is poisoned, and only the pod
    whose image the rewrite changed is parsed (and comes out right)."""
    from migrate.provers import helm_child

    chart = _two_pods(tmp_path / "before", "nginx:1.27", "redis:7")
    (first,) = helm_child.render([(chart, {})])
    assert sorted(i for _, i in first.result[""]) == ["nginx:1.27", "redis:7"]
    assert len(first.documents) == 2  # each document's images, by its text's digest
    poisoned = {key: (("field", "poisoned"),) for key in first.documents}

    rewrite = _two_pods(tmp_path / "after", "nginx:1.27", f"{REGISTRY}/docker-hub/library/redis:7")
    (second,) = helm_child.render([(rewrite, {})], known=poisoned)
    assert sorted(second.result[""]) == [
        ("two/templates/a.yaml#0field", "poisoned"),  # the same text: not parsed again
        (
            "two/templates/b.yaml#0.spec.containers[0].image",
            f"{REGISTRY}/docker-hub/library/redis:7",
        ),
    ]
    assert len(second.documents) == 2 and set(first.documents) & set(second.documents)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "---",
        "a: 1\n---\nb: 2\n",
        "---\na\n--- # x\r\nb\n----\nc\n ---\nd\n---\te\n---\t\nf\nx---\n---",
        "a: |\n  ---\n---\r\n\n---\n",
    ],
)
def test_helm_s_output_is_split_at_its_own_separator_lines(text: str) -> None:
    """As the line-anchored pattern splits it, which took ~40 ms on argo-cd's CRDs."""
    import re

    assert images._documents(text) == re.split(r"(?m)^---[ \t]*(?:#[^\n]*)?\r?$", text)


@needs_helm
def test_prover_threads_beyond_the_children_wait_for_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On two CPUs one child renders: a second costs as much to start as a chart's render."""
    from concurrent.futures import ThreadPoolExecutor

    from migrate.provers import helm_child

    started: list[object] = []
    real = helm_child._Child

    def counted() -> object:
        started.append(real())
        return started[-1]

    helm_child.stop()  # none left idle by other tests
    helm_child.reset()
    monkeypatch.setattr(helm_child, "_CHILDREN", 1)
    monkeypatch.setattr(helm_child, "_Child", counted)
    charts = [_two_pods(tmp_path / str(i), "nginx:1.27", f"redis:{i}") for i in range(4)]
    with ThreadPoolExecutor(4) as threads:
        found = list(threads.map(lambda chart: helm_child.render([(chart, {})])[0], charts))
    assert [sorted(i for _, i in f.result[""])[1] for f in found] == [
        f"redis:{i}" for i in range(4)
    ]
    assert len(started) == 1


@needs_helm
@pytest.mark.parametrize("enabled", [True, False])
def test_a_dependency_neither_vendored_nor_in_the_repository_is_a_ptc011_note_when_enabled(
    enabled: bool, tmp_path: Path
) -> None:
    """As `helm template` refuses the chart; the engine alone would render it without."""
    chart = _two_pods(tmp_path, "nginx:1.27", "redis:7")
    with (chart / "Chart.yaml").open("a") as out:
        out.write("dependencies:\n  - name: db\n    version: 1.0.0\n    condition: db.enabled\n")
    with (chart / "values.yaml").open("a") as out:
        out.write(f"db:\n  enabled: {str(enabled).lower()}\n")
    findings = _fix(chart)

    notes = [f.message for f in findings if f.code == "PTC011"]
    if enabled:
        assert (
            notes
            and "dependencies neither vendored in charts/ nor in this repository: db" in notes[0]
        )
    else:
        assert notes == [] and REGISTRY in (chart / "values.yaml").read_text()
