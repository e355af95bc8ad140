"""One run's settings, and what it remembers across files: the repositories it has met (their
facts computed once), the verdict of each distinct reference, the directories it has tidied."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from migrate.classify import Verdict
from migrate.config import Config
from migrate.context import Parsing, Repo
from migrate.provers.protocol import Prover
from migrate.provers.registry import PROVERS


@dataclass
class Settings:
    """One run's settings, and the repositories it has met (their facts computed once)."""

    config: Config
    fix: bool = False
    write: bool = False
    parsing: Parsing = field(default_factory=Parsing)
    provers: tuple[Prover, ...] = PROVERS
    repos: dict[Path, Repo] = field(default_factory=dict)
    # classify() is a pure function of the reference, the config and the repository, and a
    # repository names the same few hundred images over and over (bench/dense.py: a handful of
    # distinct references among a hundred thousand): one Verdict each, shared by every finding,
    # saves both the time and the memory of classifying each again.
    verdicts: dict[tuple[str, Path | None], Verdict] = field(default_factory=dict)
    # Directories a write went to: their stale temp files (an interrupted run's, beside the
    # file it did not get to rename) are removed once, git-ignored `*.tmp` or not.
    tidied: set[Path] = field(default_factory=set)

    def repo(self, root: Path | None) -> Repo | None:
        if root is None:
            return None
        if root not in self.repos:
            self.repos[root] = Repo(root)
        return self.repos[root]
