"""The README's quick start: `fix --diff` on the bundled example prints exactly this diff."""

from __future__ import annotations

from tests.helpers import FIXTURES, REGISTRY, ROOT, run_cli


def test_quick_start_diff_is_the_expected_one_and_writes_nothing() -> None:
    before = {p: p.read_bytes() for p in (FIXTURES / "example").rglob("*") if p.is_file()}

    done = run_cli("fix", "--diff", "--registry", REGISTRY, "fixtures/example", cwd=ROOT)

    assert done.returncode == 1, done.stderr
    assert done.stdout == (FIXTURES / "example.diff").read_text()
    assert {p: p.read_bytes() for p in before} == before


def test_example_covers_every_file_kind() -> None:
    done = run_cli("scan", "--format", "json", "fixtures/example", cwd=ROOT)
    import json

    kinds = {f["file_kind"] for f in json.loads(done.stdout)["findings"]}
    assert kinds == {"dockerfile", "compose", "kubernetes", "helm", "kustomize"}
