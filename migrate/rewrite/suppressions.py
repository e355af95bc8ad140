"""`# ecr-ptc: ignore` and `# ecr-ptc: ignore[PTC001,...]`, on a reference's line or the line
above it."""

from __future__ import annotations

import re

_SUPPRESS = re.compile(r"#\s*ecr-ptc:\s*ignore(?:\[(?P<codes>[A-Za-z0-9,\s]*)\])?")


def of(text: str) -> dict[int, frozenset[str] | None]:
    """Line -> suppressed codes (None: all), for the comment's line and the line after it."""
    if "ecr-ptc" not in text:  # the common case: no per-line work at all
        return {}
    found: dict[int, frozenset[str] | None] = {}
    # split("\n"), not splitlines(): positions count "\n" only, and splitlines() also breaks
    # on \x0c, \x85, U+2028..., which would shift every later suppression off its line.
    for number, line in enumerate(text.split("\n"), start=1):
        match = _SUPPRESS.search(line)
        if match:
            codes = match["codes"]
            value = None if codes is None else frozenset(codes.replace(",", " ").split())
            found[number] = found[number + 1] = value
    return found


def suppressed(suppressions: dict[int, frozenset[str] | None], line: int, code: str | None) -> bool:
    if line not in suppressions or code is None:
        return False
    codes = suppressions[line]
    return codes is None or code in codes
