"""Path tests shared by several file kinds."""

from __future__ import annotations

from pathlib import Path

YAML_SUFFIXES = (".yaml", ".yml")


def in_helm_templates(path: Path) -> bool:
    """Files under a chart's templates/ are Go templates, not YAML: never parsed, never an error."""
    parts = path.parts
    for i in range(len(parts) - 1, 0, -1):
        if parts[i] == "templates":
            return (Path(*parts[:i]) / "Chart.yaml").is_file()
    return False
