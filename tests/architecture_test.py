"""The layout keeps its promises: no import circles in `migrate/` (lazy imports and
TYPE_CHECKING imports included, and a module depends on every package above it, whose
`__init__` runs first), and a top level that holds only the door and the model."""

from __future__ import annotations

import ast
from pathlib import Path

from tests.helpers import ROOT

PACKAGE = ROOT / "migrate"
MAX_TOP_LEVEL_MODULES = 12


def _modules() -> dict[str, Path]:
    found = {}
    for path in PACKAGE.rglob("*.py"):
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def _imports(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            targets = [module, *(f"{module}.{alias.name}" for alias in node.names)]
        for target in targets:
            parts = target.split(".")
            # Importing a.b.c runs a/__init__ and a/b/__init__ first.
            for end in range(1, len(parts) + 1):
                candidate = ".".join(parts[:end])
                if (
                    candidate in modules
                    and candidate != name
                    and not name.startswith(candidate + ".")
                ):
                    out.add(candidate)
    return out


# The registries import their kinds and provers by name, on first need (importlib): each
# `Kind("x")` / `Lazy("x", ...)` is an import of that module all the same.
_BY_NAME = {"migrate.kinds.registry": "Kind", "migrate.provers.registry": "Lazy"}


def _by_name(name: str, path: Path) -> set[str]:
    call = _BY_NAME.get(name)
    if call is None:
        return set()
    package = name.rpartition(".")[0]
    return {
        f"{package}.{node.args[0].value}"
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id == call
        and node.args
        and isinstance(node.args[0], ast.Constant)
        and isinstance(node.args[0].value, str)
    }


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                return path[path.index(nxt) :] + [nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        path.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return None


def test_no_import_circles() -> None:
    modules = _modules()
    graph = {
        name: _imports(name, path, modules) | _by_name(name, path) for name, path in modules.items()
    }
    assert _by_name("migrate.kinds.registry", modules["migrate.kinds.registry"]) >= {
        "migrate.kinds.dockerfile",
        "migrate.kinds.terraform",
    }
    assert _cycle(graph) is None, " -> ".join(_cycle(graph) or [])


def test_the_checker_finds_a_circle() -> None:
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set()}) is None


def test_top_level_holds_the_door_and_the_model() -> None:
    top = sorted(p.name for p in PACKAGE.glob("*.py"))
    assert len(top) <= MAX_TOP_LEVEL_MODULES, top
