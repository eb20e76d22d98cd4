"""The layers import downward only: no two udc modules import each other, directly or round a circle, at import
time (imports inside functions are deferred on purpose and not counted)."""

from __future__ import annotations

import ast
from pathlib import Path

import udc

ROOT = Path(udc.__file__).parent


def _module(path: Path) -> str:
    parts = ["udc", *path.relative_to(ROOT).with_suffix("").parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _graph() -> dict[str, set[str]]:
    modules = {_module(path): path for path in ROOT.rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        targets: set[str] = set()
        for node in ast.parse(path.read_text()).body:  # module level only
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("udc"):
                for alias in node.names:  # `from udc.sources import jira` imports the module udc.sources.jira
                    sub = f"{node.module}.{alias.name}"
                    targets.add(sub if sub in modules else node.module)
            elif isinstance(node, ast.Import):
                targets.update(a.name for a in node.names if a.name.startswith("udc."))
        graph[name] = targets - {name}
    return graph


def _circle(graph: dict[str, set[str]]) -> list[str]:
    state: dict[str, int] = {}  # 1: on the current path, 2: done

    def visit(node: str, path: list[str]) -> list[str]:
        state[node] = 1
        for target in sorted(graph.get(node, ())):
            if state.get(target) == 1:
                return [*path[path.index(target):], target]
            if target not in state and (found := visit(target, [*path, target])):
                return found
        state[node] = 2
        return []

    for start in sorted(graph):
        if start not in state and (found := visit(start, [start])):
            return found
    return []


def test_no_import_circles() -> None:
    assert _circle(_graph()) == []


def test_config_and_the_diagnostics_helpers_stay_below_the_sources() -> None:
    graph = _graph()
    assert not any(t.startswith(("udc.redact", "udc.sources", "udc.http")) for m in graph if m.startswith("udc.config")
                   for t in graph[m])
    assert not any(t.startswith("udc.sources.") for t in graph["udc.sources.diagnostics"])
    assert "udc.check" not in {t for m in graph if m.startswith("udc.sources") for t in graph[m]}
