"""The bad-input catalogue: each entry is one PTC900 (or a silent skip), the run goes on, and no
other byte on disk moves.

`fixtures/bad/<name>.expected` holds the lines `lint` prints for the entry (empty: a silent
skip). The input is `fixtures/bad/<name>` when it can be committed; otherwise the table below
builds it (unreadable files, symlinks, FIFOs, files over the size cap, chart templates).
An entry that is hostile but valid (alias bombs) is rewritten: `<name>.fixed` is the result.
"""

from __future__ import annotations

import contextlib
import ctypes
import io
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from migrate.cli import main
from migrate.config import MAX_FILE_SIZE
from migrate.kinds import dockerfile
from tests.helpers import FIXTURES, REGISTRY

CATALOGUE = FIXTURES / "bad"
GOOD = {
    "good/Dockerfile": (
        b"FROM nginx:1.27\n",
        f"FROM {REGISTRY}/docker-hub/library/nginx:1.27\n".encode(),
    ),
}
# Bounds for the entries that attack resources (checked for every entry).
MAX_RSS_KIB = 128 * 1024  # the bombs peak near 20 MiB; expanding one would not fit


Maker = Callable[[Path, Path], None]  # (tree, outside) -> creates the entry in tree


def _copy(name: str) -> Maker:
    def make(tree: Path, outside: Path) -> None:
        shutil.copyfile(CATALOGUE / name, tree / name)

    return make


def _unreadable(tree: Path, outside: Path) -> None:
    (tree / "unreadable.Dockerfile").write_bytes(b"FROM nginx:1.27\n")
    os.chmod(tree / "unreadable.Dockerfile", 0)


def _broken_symlink(tree: Path, outside: Path) -> None:
    os.symlink("missing.Dockerfile", tree / "broken_symlink.Dockerfile")


def _outside_symlink(tree: Path, outside: Path) -> None:
    (outside / "Dockerfile").write_bytes(b"FROM nginx:1.27\n")
    os.symlink(outside / "Dockerfile", tree / "outside_symlink.Dockerfile")


def _outside_directory(tree: Path, outside: Path) -> None:
    # Only an explicit path can name a file behind a symlinked directory; the walk never enters
    # one. The test passes `linked/Dockerfile` for this entry (see EXPLICIT).
    (outside / "Dockerfile").write_bytes(b"FROM nginx:1.27\n")
    os.symlink(outside, tree / "linked")


def _symlink_loop(tree: Path, outside: Path) -> None:
    os.symlink("symlink_loop.Dockerfile", tree / "symlink_loop.Dockerfile")


def _directory(tree: Path, outside: Path) -> None:
    (tree / "directory.Dockerfile").mkdir()
    (tree / "directory.Dockerfile" / "README.md").write_bytes(b"not a Dockerfile\n")


def _fifo(tree: Path, outside: Path) -> None:
    os.mkfifo(tree / "fifo.Dockerfile")


def _helm_template(tree: Path, outside: Path) -> None:
    chart = tree / "helm_template"
    (chart / "templates").mkdir(parents=True)
    (chart / "Chart.yaml").write_text("apiVersion: v2\nname: app\nversion: 1.0.0\n")
    (chart / "templates" / "deployment.yaml").write_text(
        "apiVersion: apps/v1\nkind: Deployment\nspec:\n  template:\n    spec:\n      containers:\n"
        "      - image: {{ .Values.image }}\n{{- if .Values.debug }}\n      - image: {{ .Values.debugImage | quote }}\n"
        "{{- end }}\n"
    )


def _oversize(tree: Path, outside: Path) -> None:
    with open(tree / "oversize.Dockerfile", "wb") as handle:
        handle.write(b"FROM nginx:1.27\n")
        handle.truncate(MAX_FILE_SIZE + 1)  # sparse: the size check must not need to read it


@dataclass(frozen=True)
class Entry:
    name: str  # the catalogue's name: fixtures/bad/<name>.expected
    make: Maker
    path: str | None = None  # where the entry sits in the tree, when not at `name`
    walked: bool = True  # False: only an explicit path reaches it (behind a symlinked directory)
    honour_modes: bool = False  # as root, run without the capabilities that bypass file modes
    isolated: bool = False  # its own process: peak memory measured and bounded

    @property
    def display(self) -> str:
        return self.path or self.name


ENTRIES = [
    pytest.param(Entry("non_utf8.Dockerfile", _copy("non_utf8.Dockerfile")), id="non-utf8"),
    pytest.param(
        Entry("truncated_utf8.Dockerfile", _copy("truncated_utf8.Dockerfile")), id="truncated-utf8"
    ),
    pytest.param(Entry("compose.latin1.yaml", _copy("compose.latin1.yaml")), id="latin1-yaml"),
    pytest.param(Entry("utf16_bom.Dockerfile", _copy("utf16_bom.Dockerfile")), id="utf16-bom"),
    pytest.param(Entry("binary.Dockerfile", _copy("binary.Dockerfile")), id="binary"),
    pytest.param(Entry("empty.Dockerfile", _copy("empty.Dockerfile")), id="empty"),
    pytest.param(Entry("bom_only.Dockerfile", _copy("bom_only.Dockerfile")), id="bom-only"),
    pytest.param(Entry("malformed.Dockerfile", _copy("malformed.Dockerfile")), id="malformed"),
    pytest.param(
        Entry("dangling_continuation.Dockerfile", _copy("dangling_continuation.Dockerfile")),
        id="dangling-continuation",
    ),
    pytest.param(Entry("oversize.Dockerfile", _oversize), id="over-size-cap"),
    pytest.param(Entry("unreadable.Dockerfile", _unreadable, honour_modes=True), id="unreadable"),
    pytest.param(Entry("broken_symlink.Dockerfile", _broken_symlink), id="broken-symlink"),
    pytest.param(Entry("outside_symlink.Dockerfile", _outside_symlink), id="symlink-outside"),
    pytest.param(
        Entry("linked", _outside_directory, path="linked/Dockerfile", walked=False),
        id="symlinked-dir-outside",
    ),
    pytest.param(Entry("symlink_loop.Dockerfile", _symlink_loop), id="symlink-loop"),
    pytest.param(Entry("directory.Dockerfile", _directory), id="directory-named-dockerfile"),
    pytest.param(Entry("fifo.Dockerfile", _fifo), id="fifo"),
    # YAML
    pytest.param(Entry("compose.invalid.yaml", _copy("compose.invalid.yaml")), id="invalid-yaml"),
    pytest.param(
        Entry("multidoc_invalid.yaml", _copy("multidoc_invalid.yaml")), id="invalid-second-document"
    ),
    pytest.param(
        Entry("compose.control.yaml", _copy("compose.control.yaml")), id="control-character"
    ),
    pytest.param(Entry("gotemplate.yaml", _copy("gotemplate.yaml")), id="go-template"),
    pytest.param(
        Entry("values-gotemplate.yaml", _copy("values-gotemplate.yaml")), id="go-template-in-values"
    ),
    pytest.param(
        Entry("helm_template", _helm_template, path="helm_template/templates/deployment.yaml"),
        id="go-template-in-chart-templates",
    ),
    pytest.param(
        Entry("alias_bomb.yaml", _copy("alias_bomb.yaml"), isolated=True), id="alias-bomb"
    ),
    pytest.param(
        Entry("compose.merge_bomb.yaml", _copy("compose.merge_bomb.yaml"), isolated=True),
        id="merge-key-bomb",
    ),
    pytest.param(
        Entry("deep_flow.yaml", _copy("deep_flow.yaml"), isolated=True), id="deep-flow-nesting"
    ),
    pytest.param(
        Entry("deep_block.yaml", _copy("deep_block.yaml"), isolated=True), id="deep-block-nesting"
    ),
    pytest.param(Entry("duplicate_keys.yaml", _copy("duplicate_keys.yaml")), id="duplicate-keys"),
    pytest.param(Entry("compose.tabs.yaml", _copy("compose.tabs.yaml")), id="tab-indentation"),
    pytest.param(Entry("compose.empty.yaml", _copy("compose.empty.yaml")), id="comments-only"),
]


@dataclass(frozen=True)
class Ran:
    code: int
    out: str
    err: str
    rss_kib: int | None  # peak resident memory of the run, when it ran in its own process


_MEASURED = """
import resource, sys
from migrate.cli import main
code = main(sys.argv[1:])
sys.stdout.flush()
# VmHWM: this program's own peak. ru_maxrss would also count the parent's pages the fork copied.
try:
    status = open("/proc/self/status").read()
    peak = int(status.split("VmHWM:")[1].split()[0])
except (OSError, IndexError):
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
sys.stderr.write(f"\\n@@maxrss={peak}\\n")
raise SystemExit(code)
"""


def _drop_file_mode_override() -> None:
    """In the child, before exec: remove CAP_DAC_OVERRIDE (1) and CAP_DAC_READ_SEARCH (2) from
    the bounding set, so a root process obeys file modes as any user would. The program stays
    uid 0, so the interpreter under /root remains reachable (a setuid to nobody would not)."""
    libc = ctypes.CDLL(None, use_errno=True)
    for capability in (1, 2):
        if libc.prctl(24, capability, 0, 0, 0) != 0:  # PR_CAPBSET_DROP
            raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP)")


def honouring_modes() -> Callable[[], None] | None:
    return _drop_file_mode_override if os.geteuid() == 0 else None


def ecr_ptc(*args: str, cwd: Path, honour_modes: bool = False, isolated: bool = False) -> Ran:
    """The entry point, in this process (fast), or in its own process (`isolated`, and always
    with `honour_modes`), where peak memory is this run's alone. (Timings are bench/'s.)"""
    if not (isolated or honour_modes):
        return _in_process(args, cwd)
    env = {k: v for k, v in os.environ.items() if not k.startswith("ECR_PTC_")}
    env["ECR_PTC_JOBS"] = "1"
    done = subprocess.run(
        [sys.executable, "-c", _MEASURED, *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
        preexec_fn=honouring_modes() if honour_modes else None,
    )
    err, _, rss = done.stderr.rpartition("\n@@maxrss=")
    return Ran(done.returncode, done.stdout, err, int(rss) if rss.strip() else None)


def _in_process(args: tuple[str, ...], cwd: Path) -> Ran:
    out, err, here = io.StringIO(), io.StringIO(), os.getcwd()
    saved = {k: os.environ.pop(k) for k in list(os.environ) if k.startswith("ECR_PTC_")}
    os.environ["ECR_PTC_JOBS"] = "1"
    try:
        os.chdir(cwd)
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main(list(args))
    finally:
        os.chdir(here)
        del os.environ["ECR_PTC_JOBS"]
        os.environ.update(saved)
    return Ran(code, out.getvalue(), err.getvalue(), None)


def snapshot(*tops: Path) -> dict[str, tuple[str, object]]:
    """Every entry under `tops` (symlinks not followed): its type and content, target or mode."""
    seen: dict[str, tuple[str, object]] = {}
    for top in tops:
        for directory, dirnames, files in os.walk(top):
            for name in (*dirnames, *files):
                path = Path(directory, name)
                info = os.lstat(path)
                if path.is_symlink():
                    seen[str(path)] = ("link", os.readlink(path))
                elif path.is_file():
                    try:
                        seen[str(path)] = ("file", (path.read_bytes(), info.st_mode))
                    except PermissionError:  # unreadable, and we are not root
                        seen[str(path)] = ("file", (None, info.st_mode))
                else:
                    seen[str(path)] = ("other", info.st_mode)
    return seen


def expected_lines(name: str) -> list[str]:
    return (CATALOGUE / f"{name}.expected").read_text(encoding="utf-8").splitlines()


def _lines_for(output: str, name: str) -> list[str]:
    return [line for line in output.splitlines() if line.startswith(f"{name}:")]


@pytest.mark.parametrize("entry", ENTRIES)
def test_catalogue_entry(entry: Entry, tmp_path: Path) -> None:
    expected = expected_lines(entry.name)
    errors = [line for line in expected if ": PTC900 " in line]
    failing = 2 if errors else 1  # the good file always has a PTC001 and always changes
    fixed_file = CATALOGUE / f"{entry.name}.fixed"
    tree, outside = tmp_path / "repo", tmp_path / "outside"
    outside.mkdir()
    for rel, (before, _) in GOOD.items():
        (tree / rel).parent.mkdir(parents=True, exist_ok=True)
        (tree / rel).write_bytes(before)
    entry.make(tree, outside)
    rewritten = {str(tree / rel) for rel in GOOD} | (
        {str(tree / entry.display)} if fixed_file.exists() else set()
    )
    run = {"cwd": tree, "honour_modes": entry.honour_modes, "isolated": entry.isolated}
    try:
        untouched = {k: v for k, v in snapshot(tree, outside).items() if k not in rewritten}

        walked = ecr_ptc("lint", ".", **run)  # type: ignore[arg-type]
        named = ecr_ptc("lint", entry.display, *GOOD, **run)  # type: ignore[arg-type]
        fixed = ecr_ptc(
            "fix",
            "--registry",
            REGISTRY,
            *(["."] if entry.walked else [entry.display, *GOOD]),
            **run,
        )  # type: ignore[arg-type]

        assert _lines_for(named.out, entry.display) == expected, named.err
        assert named.code == failing
        if entry.walked:
            assert _lines_for(walked.out, entry.display) == expected, walked.err
            assert walked.code == failing
        assert "good/Dockerfile:1:6: PTC001 " in walked.out  # the run went on
        assert fixed.code == failing, fixed.err
        assert _lines_for(fixed.err, entry.display) == errors
        assert "Traceback" not in walked.err + named.err + fixed.err
        for rel, (_, good_after) in GOOD.items():
            assert (tree / rel).read_bytes() == good_after
        if fixed_file.exists():
            assert (tree / entry.display).read_bytes() == fixed_file.read_bytes()
        now = {k: v for k, v in snapshot(tree, outside).items() if k not in rewritten}
        assert now == untouched  # nothing else written, no temp file left behind
        for ran in (walked, named, fixed):
            assert ran.rss_kib is None or ran.rss_kib < MAX_RSS_KIB
    finally:
        os.chmod(tree, 0o755)  # let pytest clean up an unreadable entry
        for path in tree.iterdir():
            if path.is_file() and not path.is_symlink():
                os.chmod(path, 0o644)


def test_every_catalogue_file_has_an_entry() -> None:
    names = {p.name[: -len(".expected")] for p in CATALOGUE.glob("*.expected")}
    inputs = {p.name for p in CATALOGUE.iterdir() if not p.name.endswith((".expected", ".fixed"))}
    assert {p.name[: -len(".fixed")] for p in CATALOGUE.glob("*.fixed")} <= inputs
    in_table = {param.values[0].name for param in ENTRIES}  # type: ignore[union-attr]
    assert inputs <= names
    assert names == in_table


# --- bugs this catalogue found (both fixed) ---


def test_unreadable_file_named_explicitly_is_one_finding(tmp_path: Path) -> None:
    _unreadable(tmp_path, tmp_path)
    (tmp_path / "Dockerfile").write_bytes(b"FROM nginx:1.27\n")

    ran = ecr_ptc("lint", "unreadable.Dockerfile", "Dockerfile", cwd=tmp_path, honour_modes=True)
    os.chmod(tmp_path / "unreadable.Dockerfile", 0o644)

    assert ran.code == 2
    assert _lines_for(ran.out, "unreadable.Dockerfile") == expected_lines("unreadable.Dockerfile")
    assert "Dockerfile:1:6: PTC001 " in ran.out


@pytest.mark.parametrize("separator", ["\x0c", "\x0b", "\x85", "\u2028", "\u2029", "\x1c", "\r"])
def test_dockerfile_line_separators_are_not_line_breaks(separator: str) -> None:
    text = f"FROM alpine:3.20\n# notes{separator}FROM nginx:1.27\nRUN echo a{separator}FROM x\n"
    assert [o.written for o in dockerfile.scan(text)] == ["alpine:3.20"]
