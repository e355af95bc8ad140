"""Rebuild migrate/data/docker-official-images.tsv from docker-library/official-images.

Every file directly under `library/` in that repository is one Docker Official Image; an image
removed from it is deprecated but stays pullable as `docker.io/library/<name>`, so the table
keeps every name ever added (`git log --diff-filter=AR`), each marked `current` (in `library/`
at the newest commit) or `deprecated`.

    python scripts/refresh_official_images.py                 # clones (network), then writes
    python scripts/refresh_official_images.py --repo ~/src/official-images --output -

Without `--repo` it makes a blobless clone (`git clone --filter=blob:none`, a few MB: the
history of file names is all it reads) in a temp directory. Review the diff, then commit it.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path

UPSTREAM = "https://github.com/docker-library/official-images"
DEFAULT_OUTPUT = (
    Path(__file__).resolve().parents[1] / "migrate" / "data" / "docker-official-images.tsv"
)


def ever_added(name_status: str) -> set[str]:
    """Names added under library/ in `git log --format= --name-status` output (A and R lines)."""
    names = set()
    for line in name_status.splitlines():
        fields = line.split("\t")
        if not fields[0] or fields[0][0] not in "AR":
            continue
        name = _library_name(fields[-1])  # a rename's new path is its last field
        if name:
            names.add(name)
    return names


def current(ls_tree: str) -> set[str]:
    """Names in `git ls-tree --name-only HEAD library/` output."""
    return {name for line in ls_tree.splitlines() if (name := _library_name(line.strip()))}


def _library_name(path: str) -> str | None:
    parts = path.split("/")
    return parts[1] if len(parts) == 2 and parts[0] == "library" and parts[1] else None


def render(now: Iterable[str], ever: Iterable[str], commit: str, date: str) -> str:
    present = set(now)
    header = (
        "# Docker Official Images: every name ever added to library/ in "
        "docker-library/official-images\n"
        f"# (main branch history up to commit {commit[:12]}, {date}). "
        "Tab-separated: name, status.\n"
        "# current: in library/ at that commit. deprecated: removed since; such images stay "
        "pullable from Docker Hub.\n"
    )
    rows = [
        f"{name}\t{'current' if name in present else 'deprecated'}\n"
        for name in sorted(present | set(ever))
    ]
    return header + "".join(rows)


def _git(repo: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-C", str(repo), *args], capture_output=True, text=True, check=True
    )
    return done.stdout


def table(repo: Path) -> str:
    log = _git(
        repo, "log", "--format=", "--name-status", "--diff-filter=AR", "HEAD", "--", "library/"
    )
    listing = _git(repo, "ls-tree", "--name-only", "HEAD", "library/")
    commit = _git(repo, "rev-parse", "HEAD").strip()
    date = _git(repo, "log", "-1", "--format=%cs", "HEAD").strip()
    return render(current(listing), ever_added(log), commit, date)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repo", type=Path, help="an existing clone (default: clone upstream)")
    parser.add_argument("--output", default=str(DEFAULT_OUTPUT), help="file to write, or -")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="official-images-") as scratch:
        repo = args.repo
        if repo is None:
            repo = Path(scratch, "official-images")
            subprocess.run(
                [
                    "git",
                    "clone",
                    "--quiet",
                    "--filter=blob:none",
                    "--no-checkout",
                    UPSTREAM,
                    str(repo),
                ],
                check=True,
            )
        text = table(repo)
    if args.output == "-":
        sys.stdout.write(text)
    else:
        Path(args.output).write_text(text, encoding="utf-8")
        print(f"wrote {args.output}: {text.count(chr(10)) - 3} names", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
