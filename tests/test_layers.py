"""The module graph of `src/udc`: no import circle, no import from a lower layer to a higher one, and no import of
udc inside a function (where circles hide), except for the optional NER extra. See docs/ARCHITECTURE.md, "Layers".
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"

# Top to bottom; a module may import its own group and any group of a lower rank. Groups of one rank are
# siblings that never import each other.
LAYERS: list[list[tuple[str, ...]]] = [
    [("udc.cli", "udc.__main__", "udc")],  # the package exports udc.open
    [("udc.serve",)],
    [("udc.check", "udc.console", "udc.demo", "udc.answers", "udc.api"), ("udc.scale",)],
    [("udc.query",)],
    [("udc.sync",)],
    [("udc.sources",), ("udc.store",), ("udc.redact",)],
    [("udc.http",)],
    [("udc.config",)],
    [("udc.records", "udc.errors", "udc.timeutil", "udc.secrets", "udc.procs", "udc.version")],
]
SIMULATORS = "udc.simulators"  # black boxes to the connectors: they import only themselves; the demo starts them
LAZY_ALLOWED = {("udc.redact.redactor", "udc.redact.ner"),  # the [ner] extra loads spaCy only when asked for
                ("udc.cli.serve", "udc.serve.server"),  # the web stack (a second of imports) only for the dashboard
                ("udc.store.url", "udc.store.postgres"),  # psycopg (0.2 s to load) only for a PostgreSQL store
                ("udc.store.url", "udc.store.postgres_reader"),
                ("udc", "udc.api")}  # udc.open loads config, store and query code only when asked for


def module_name(path: Path) -> str:
    parts = path.relative_to(SRC).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in SRC.joinpath("udc").rglob("*.py")}


def target(node: ast.ImportFrom | ast.Import, alias: ast.alias, here: str) -> str | None:
    if isinstance(node, ast.Import):
        name = alias.name
    else:
        base = node.module or ""
        if node.level:  # relative: resolve against this module's package
            package = here if MODULES[here].name == "__init__.py" else here.rpartition(".")[0]
            for _ in range(node.level - 1):
                package = package.rpartition(".")[0]
            base = f"{package}.{base}" if base else package
        name = f"{base}.{alias.name}" if f"{base}.{alias.name}" in MODULES else base
    while name and name not in MODULES:  # `import udc.x.y` where y is not a module
        name = name.rpartition(".")[0]
    return name if name.startswith("udc") else None


def imports() -> tuple[dict[str, set[str]], list[tuple[str, str, int]]]:
    """Every module's imports of udc modules, and the imports made inside functions (module, target, line)."""
    graph: dict[str, set[str]] = {name: set() for name in MODULES}
    lazy: list[tuple[str, str, int]] = []
    for name, path in MODULES.items():
        tree = ast.parse(path.read_text(), str(path))
        in_functions = {id(n) for f in ast.walk(tree) if isinstance(f, ast.FunctionDef | ast.AsyncFunctionDef)
                        for n in ast.walk(f)}
        for node in ast.walk(tree):
            if not isinstance(node, ast.Import | ast.ImportFrom):
                continue
            for alias in node.names:
                dst = target(node, alias, name)
                if dst is None or dst == name:
                    continue
                graph[name].add(dst)
                if id(node) in in_functions:
                    lazy.append((name, dst, node.lineno))
    return graph, lazy


def rank_of(module: str) -> tuple[int, int]:
    best: tuple[int, int, int] | None = None
    for rank, groups in enumerate(LAYERS):
        for group, prefixes in enumerate(groups):
            for prefix in prefixes:
                inside = module == prefix or module.startswith(prefix + ".")
                if inside and (best is None or len(prefix) > best[2]):
                    best = (rank, group, len(prefix))
    assert best is not None, f"{module} is in no layer: add it to LAYERS"
    return best[0], best[1]


GRAPH, LAZY = imports()


def test_no_import_circle() -> None:
    seen: dict[str, int] = {}  # 1: on the current path, 2: done
    circles: list[list[str]] = []

    def visit(node: str, path: list[str]) -> None:
        seen[node] = 1
        for nxt in sorted(GRAPH[node]):
            if seen.get(nxt) == 1:
                circles.append([*path[path.index(nxt):], nxt])
            elif nxt not in seen:
                visit(nxt, [*path, nxt])
        seen[node] = 2

    for module in sorted(GRAPH):
        if module not in seen:
            visit(module, [module])
    assert circles == []


def test_imports_run_downward_only() -> None:
    wrong = []
    for src, targets in GRAPH.items():
        for dst in targets:
            if src.startswith(SIMULATORS) or dst.startswith(SIMULATORS):
                # simulators import only themselves; the demo's rank and those above it may start them
                if not dst.startswith(SIMULATORS) or (not src.startswith(SIMULATORS)
                                                      and rank_of(src)[0] > rank_of("udc.demo")[0]):
                    wrong.append(f"{src} -> {dst}")
                continue
            (src_rank, src_group), (dst_rank, dst_group) = rank_of(src), rank_of(dst)
            if dst_rank < src_rank or (dst_rank == src_rank and dst_group != src_group):
                wrong.append(f"{src} -> {dst}")
    assert sorted(wrong) == []


def test_no_udc_import_inside_a_function() -> None:
    assert [(src, dst, line) for src, dst, line in LAZY if (src, dst) not in LAZY_ALLOWED] == []


@pytest.mark.parametrize(("src", "dst"), [("udc.store.sqlite", "udc.sync.engine"), ("udc.config", "udc.http.client")])
def test_the_check_itself_sees_a_wrong_direction(src: str, dst: str) -> None:
    (src_rank, _), (dst_rank, _) = rank_of(src), rank_of(dst)
    assert dst_rank < src_rank  # an import from src to dst would be refused
