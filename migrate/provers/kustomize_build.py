"""`kubectl kustomize` (or a standalone `kustomize build`): the images a kustomization builds.

Builds run on the repository as it is (before) and on a staged copy with the planned rewrites
(after); the staged copy (`staging`, mode 0700) holds only the files the builds read: the
kustomizations, their resources and patches, and the files their generators, replacements and
transformers name (an ignored `.env` a secretGenerator reads included, no other).
Nothing is fetched: a kustomization naming a URL in any field, remote resources or Helm charts
is never built here, and kubectl runs with its proxies pointed at a dead address, git allowed
no protocol, and none of this process's environment (a generator's `envs` file would read it).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import threading
from collections.abc import Iterable
from pathlib import Path

from migrate.kinds import kubernetes
from migrate.provers import staging
from migrate.provers.staging import offline_env

TIMEOUT = 120  # seconds per build; a large monorepo overlay builds in a few
# kubectl (Go) collects garbage from a 4 MB heap up, every time it doubles: a third of a small
# build's CPU (0.11 -> 0.07 s for a plain base, 0.35 -> 0.23 s with strategic merge patches,
# whose OpenAPI schema it loads). No collection until the heap reaches 256 MiB, then as much as
# it takes to stay there (a build holding more is slower, none fails): each build, short-lived,
# holds at most that much more than it would (microservices-demo's: 50-83 -> 60-122 MB).
GO_MEMORY = {"GOGC": "off", "GOMEMLIMIT": "256MiB"}
MAX_STAGED = 20_000  # files; a bigger tree is not copied, the build is not verified
# kubectl's one error line is klog's: `E1203 ... run.go:72] "command failed" err="<Go quoted>"`
_KLOG = re.compile(r'"command failed" err=("(?:[^"\\]|\\.)*")')


def command() -> list[str] | None:
    if shutil.which("kubectl"):
        return ["kubectl", "kustomize"]
    if shutil.which("kustomize"):
        return ["kustomize", "build"]
    return None


def images(cmd: list[str], directory: Path) -> list[str] | str:
    """The container images of the build, in output order, or why it failed (one line)."""
    with _lock:
        if _stopped:
            return "the run is stopping"
        try:
            process = subprocess.Popen(
                [*cmd, str(directory)],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                env={**offline_env(), **GO_MEMORY},
            )
        except OSError as exc:
            return str(exc).splitlines()[0]
        _running.add(process)
    try:
        stdout, stderr = process.communicate(timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        process.kill()
        process.communicate()
        return f"kubectl took over {TIMEOUT} s: stopped"
    finally:
        with _lock:
            _running.discard(process)
    if process.returncode != 0:
        return reason(stderr.decode("utf-8", "replace"), process.returncode)
    text = stdout.decode("utf-8", "replace")
    return [occ.written for occ in kubernetes.scan(text)]


# The builds under way: a signal ending the run kills them rather than waiting for them.
_lock = threading.Lock()
_running: set[subprocess.Popen[bytes]] = set()
_stopped = False


def stop() -> None:
    """Kill the builds under way; later ones are not started (the run is ending)."""
    global _stopped
    with _lock:
        _stopped = True
        for process in _running:
            process.kill()


def reset() -> None:
    """After `stop`: builds may run again (tests, an embedding program)."""
    global _stopped
    with _lock:
        _stopped = False


def reason(stderr: str, status: int) -> str:
    """Why a build failed, one line: kubectl's error (klog's `err="..."` unquoted) or the
    first line of what it said."""
    lines = [ln.strip() for ln in stderr.splitlines() if ln.strip()]
    for line in lines:
        match = _KLOG.search(line)
        if match:
            try:
                text = str(json.loads(match[1]))  # Go's %q is JSON's escapes for this text
            except ValueError:
                text = match[1][1:-1]
            return _bounded(" ".join(text.split()))
    return _bounded(lines[0]) if lines else f"exit status {status}"


def _bounded(line: str) -> str:
    return line if len(line) <= 300 else line[:297] + "..."


def stage(root: Path, into: Path, reads: Iterable[str]) -> bool:
    """Copy what the builds read (repository-relative files or directories) from `root` to
    `into`: regular files inside the repository only, mode 0600 in 0700 directories; False if
    that is more than MAX_STAGED files (or staging's byte bounds)."""
    real = root.resolve()
    budget = staging.Budget(files=MAX_STAGED)
    try:
        for rel in sorted(set(reads)):
            source = root / rel
            if source.is_dir():
                staging.copy_tree(real, source, into / rel, budget, False, frozenset({".git"}))
            else:
                staging.copy_file(real, source, into / rel, budget, link=False)
    except staging.TooLarge:
        return False
    return True
