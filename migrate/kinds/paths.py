"""Path tests shared by several file kinds."""

from __future__ import annotations

import os
from pathlib import Path

from migrate.facts.directories import holds

YAML_SUFFIXES = (".yaml", ".yml")


def in_helm_templates(path: Path) -> bool:
    """Files under a chart's templates/ are Go templates, not YAML: never parsed, never an error."""
    parts = path.parts
    for i in range(len(parts) - 1, 0, -1):
        if parts[i] == "templates":
            return holds(os.path.join(*parts[:i]), "Chart.yaml")
    return False
