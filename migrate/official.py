"""Docker Official Images: the names that exist as `docker.io/library/<name>`.

`data/docker-official-images.tsv` lists every name ever added to `library/` in
docker-library/official-images, current and deprecated (deprecated images stay pullable).
`scripts/refresh_official_images.py` rebuilds it. Read on first use only: a hook whose file
holds no `library/` reference never opens it.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Iterator
from pathlib import Path

DATA = Path(__file__).parent / "data" / "docker-official-images.tsv"
LIBRARY = "docker.io/library/"


def parse(lines: Iterable[str]) -> Iterator[tuple[str, str]]:
    """(name, status) rows of the table; `#` lines are its header."""
    for line in lines:
        line = line.strip()
        if line and not line.startswith("#"):
            name, _, status = line.partition("\t")
            yield name.strip(), status.strip()


@functools.cache
def names() -> frozenset[str]:
    with DATA.open(encoding="utf-8") as table:
        return frozenset(name for name, _ in parse(table))


def library_name(normalised: str) -> str | None:
    """`docker.io/library/nginx` -> 'nginx'; None for any other repository."""
    if normalised.startswith(LIBRARY):
        return normalised[len(LIBRARY) :]
    return None


def is_official(name: str, extra: Iterable[str] = ()) -> bool:
    return name in extra or name in names()
