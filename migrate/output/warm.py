"""`warm --format text|json`. The JSON shape is a contract (tests/warm.schema.json)."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Sequence

from migrate.aws.warm import Warmed
from migrate.aws.warm.pull import STATUSES
from migrate.findings import Finding
from migrate.output.printable import printable, printable_path
from migrate.output.report import Report, as_json


def _where(result_where: tuple[tuple[str, int, int], ...]) -> str:
    path, line, column = result_where[0]
    more = len(result_where) - 1
    return f"{printable_path(path)}:{line}:{column}" + (f" and {more} more" if more else "")


def text(warmed: Warmed, errors: Sequence[Finding]) -> str:
    lines = []
    for r in warmed.results:
        digest = f" {r.digest}" if r.digest else ""
        # A registry's answers (the message) and names from the files: escaped like every
        # value printed (migrate.output.printable), so no line can start a CI workflow command.
        reference = printable(r.target.reference + digest)
        lines.append(f"{r.status}: {reference} ({_where(r.target.where)}): {printable(r.message)}")
    lines += [f"note: {printable(note)}" for note in warmed.notes]
    lines += [
        f"{printable_path(e.path)}:{e.line}:{e.column}: PTC900 {printable(e.message)}"
        for e in errors
    ]
    counts = Counter(r.status for r in warmed.results)
    n = len(warmed.results)
    if n:
        detail = ", ".join(f"{counts[s]} {s}" for s in STATUSES if counts[s])
        lines.append(f"{n} reference{'s' if n != 1 else ''}: {detail}")
    else:
        lines.append("no references to warm")
    return "\n".join(lines) + "\n"


def as_dict(warmed: Warmed, errors: Sequence[Finding]) -> dict[str, object]:
    counts = Counter(r.status for r in warmed.results)
    return {
        "references": [
            {
                "reference": r.target.reference,
                "repository": r.target.repository,
                "prefix": r.target.prefix,
                "tag": r.target.tag,
                "digest": r.target.digest,
                "status": r.status,
                "served": r.digest,
                "message": r.message,
                "attempts": r.attempts,
                "locations": [
                    {"path": path, "line": line, "column": column}
                    for path, line, column in r.target.where
                ],
            }
            for r in warmed.results
        ],
        "summary": {status: counts[status] for status in STATUSES},
        "notes": list(warmed.notes),
        "errors": json.loads(as_json(Report(tuple(errors), 0)))["errors"],
    }


def as_text_json(warmed: Warmed, errors: Sequence[Finding]) -> str:
    return json.dumps(as_dict(warmed, errors), indent=2) + "\n"


FORMATTERS: dict[str, Callable[[Warmed, Sequence[Finding]], str]] = {
    "text": text,
    "json": as_text_json,
}
