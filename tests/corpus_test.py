"""The real-world corpus ($ECR_PTC_CORPUS): every YAML file of the four application repositories
goes through `fix` in a temp copy;
rewritten files still parse to the same data except the rewritten values; a second fix changes
nothing. Run with `-s` to see the reference counts per repository and per kind."""

from __future__ import annotations

import json
import shutil
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from migrate.cli import main
from migrate.kinds.registry import is_candidate, scanner_for
from migrate.occurrence import ScanError
from migrate.registries import UPSTREAMS
from tests.helpers import CORPUS, REGISTRY

pytestmark = pytest.mark.corpus
# The charts and CI pipelines of the corpus have tests of their own.
APPS = ("awesome-compose", "kubernetes-examples", "microservices-demo", "opentelemetry-demo")

# Files the YAML scanners refuse, with the reason (PTC900); everything else must go through.
KNOWN_ERRORS = {
    # The same `selector:` twice in one Deployment: invalid YAML, rejected by kubectl's strict
    # field validation too.
    "kubernetes-examples/_archived/openshift-origin/etcd-controller.yaml": "duplicate key 'selector'",
    "kubernetes-examples/_archived/openshift-origin/etcd-discovery-controller.yaml": "duplicate key 'selector'",
    "kubernetes-examples/_archived/openshift-origin/openshift-controller.yaml": "duplicate key 'selector'",
}
# Occurrences the YAML scanners find, per repository and kind (a regression guard).
EXPECTED_COUNTS = {
    ("awesome-compose", "image"): 45,
    # 130 before container images only: the two `rbd.image` Ceph images of
    # _archived/volumes/rbd/ are volume plugin keys, not references.
    ("kubernetes-examples", "image"): 128,
    ("microservices-demo", "image"): 46,  # 4 literal images in the chart's templates
    ("microservices-demo", "image-map"): 1,
    ("microservices-demo", "kustomize-name"): 34,
    ("microservices-demo", "kustomize-newName"): 12,
    ("microservices-demo", "step"): 1,  # cloudbuild.yaml
    ("opentelemetry-demo", "image"): 9,
}
_PREFIXES = tuple(f"{u.default_prefix}/" for u in UPSTREAMS)


def _yaml_files(root: Path) -> list[str]:
    return sorted(
        p.relative_to(root).as_posix()
        for app in APPS
        for p in (root / app).rglob("*")
        if p.is_file() and (p.suffix in (".yaml", ".yml") or p.name == "Kustomization")
    )


FILES = _yaml_files(CORPUS) if CORPUS else []


def _copy(dest: Path) -> dict[str, bytes]:
    for rel in FILES:
        (dest / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(CORPUS / rel, dest / rel)
    return {rel: (dest / rel).read_bytes() for rel in FILES}


def _data(raw: bytes) -> list[object]:
    """Documents as plain trees of composed nodes: nothing constructed, so `{{x}}` (a flow map
    used as a key, harmless in a manifest a template tool fills in) does not stop the check."""
    return [
        _tree(node) for node in YAML(typ="safe", pure=True).compose_all(raw.decode("utf-8-sig"))
    ]


def _tree(node: Any) -> object:
    if node.id == "scalar":
        return node.value
    if node.id == "sequence":
        return [_tree(item) for item in node.value]
    return {repr(_tree(key)): _tree(value) for key, value in node.value}


def _differences(old: object, new: object, where: str = "") -> Iterator[tuple[str, object, object]]:
    if isinstance(old, dict) and isinstance(new, dict):
        assert list(old) == list(new), f"keys changed at {where}"
        for key in old:
            yield from _differences(old[key], new[key], f"{where}.{key}")
    elif isinstance(old, list) and isinstance(new, list):
        assert len(old) == len(new), f"length changed at {where}"
        for i, (a, b) in enumerate(zip(old, new)):
            yield from _differences(a, b, f"{where}[{i}]")
    elif old != new:
        yield where, old, new


def _is_rewrite(new: object) -> bool:
    # A 'ref'/'name'/'registry' part carries the registry; a Helm 'path' part starts with a prefix.
    return isinstance(new, str) and (REGISTRY in new or new.startswith(_PREFIXES))


def test_corpus_has_yaml() -> None:
    assert len(FILES) > 400


def test_fix_whole_corpus(in_tmp: Path, capsys: pytest.CaptureFixture[str]) -> None:
    before = _copy(in_tmp)

    first = main(["fix", "--registry", REGISTRY, "."])
    out, err = capsys.readouterr()

    errors = {
        line.split(":", 1)[0]: line.split("PTC900 ", 1)[1]
        for line in err.splitlines()
        if "PTC900" in line
    }
    assert errors == KNOWN_ERRORS
    assert first == 2  # files changed, and the known errors
    after = {rel: (in_tmp / rel).read_bytes() for rel in FILES}
    changed = [rel for rel in FILES if after[rel] != before[rel]]
    assert changed and len(changed) == out.count("rewrote ")
    rewritten = 0
    for rel in changed:
        if "/templates/" in f"/{rel}" and b"{{" in before[rel]:  # a chart's Go templates
            lines = zip(before[rel].split(b"\n"), after[rel].split(b"\n"))
            edited = [new for old, new in lines if old != new]
            assert edited and all(REGISTRY.encode() in line for line in edited), rel
            rewritten += len(edited)
            continue
        old, new = _data(before[rel]), _data(after[rel])
        assert len(old) == len(new), rel
        diffs = list(_differences(old, new))
        assert diffs, f"{rel}: bytes changed but the data did not"
        for where, was, now in diffs:
            assert _is_rewrite(now), f"{rel}{where}: {was!r} -> {now!r}"
        rewritten += len(diffs)
    with capsys.disabled():
        print(
            f"\ncorpus: {len(FILES)} YAML files, {len(changed)} rewritten, {rewritten} values changed"
        )

    second = main(["fix", "--registry", REGISTRY, "."])
    out, _ = capsys.readouterr()
    assert second == 2 and "rewrote" not in out
    assert {rel: (in_tmp / rel).read_bytes() for rel in FILES} == after


def _scanner_counts() -> Counter[tuple[str, str]]:
    counts: Counter[tuple[str, str]] = Counter()
    for rel in FILES:
        path = CORPUS / rel
        if not is_candidate(path):
            continue
        text = path.read_bytes().decode("utf-8-sig")
        scanner = scanner_for(path, text)
        if scanner is None or scanner.NAME == "dockerfile":
            continue
        try:
            for occ in scanner.scan(text):
                counts[(rel.split("/", 1)[0], occ.kind)] += 1
        except ScanError:
            assert rel in KNOWN_ERRORS
    return counts


def test_reference_counts(in_tmp: Path, capsys: pytest.CaptureFixture[str]) -> None:
    counts = _scanner_counts()
    _copy(in_tmp)
    main(["scan", "--format", "json", "--registry", REGISTRY, "."])
    report = json.loads(capsys.readouterr().out)
    verdicts: Counter[tuple[str, str, str]] = Counter(
        (f["path"].split("/", 1)[0], f["file_kind"], f["code"] or f["status"])
        for f in report["findings"]
        if f["code"] != "PTC006" and f["file_kind"] != "dockerfile"
    )
    with capsys.disabled():
        print("\nreferences found by the YAML scanners (repository, kind): count")
        for key in sorted(counts):
            print(f"  {key[0]:<22} {key[1]:<20} {counts[key]}")
        print("verdicts (repository, file kind, code or status): count")
        for repo, file_kind, code in sorted(verdicts):
            print(f"  {repo:<22} {file_kind:<12} {code:<12} {verdicts[repo, file_kind, code]}")
    assert dict(counts) == EXPECTED_COUNTS
    assert sum(counts.values()) == sum(verdicts.values())
