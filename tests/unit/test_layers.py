"""The import graph of `reconciler/`: no cycle between files or between folders, and the data
flows one way (DESIGN.md "Data flow"): the pure layers (model, diff, plan, render) import no
backend, CLI or local Notion; backends import no CLI; the local Notion imports nothing else."""

from __future__ import annotations

import ast
import functools
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "reconciler"
PURE = ("model", "diff", "plan", "render")
FORBIDDEN = {layer: ("backends", "cli", "local") for layer in PURE} | {"backends": ("cli",)}


def _module(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


@functools.cache  # both tests walk the same graph: parse every module once per run
def _graph() -> dict[str, set[str]]:
    files = {_module(p): p for p in PACKAGE.rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in files.items():
        package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
        targets: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    up = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join(up + ([node.module] if node.module else []))
                targets |= {base} | {f"{base}.{a.name}" for a in node.names}
            elif isinstance(node, ast.Import):
                targets |= {a.name for a in node.names}
        graph[name] = {t for t in targets if t in files and t != name
                       and not name.startswith(t + ".")}
    return graph


def _layer(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 2 or (len(parts) == 2 and
                                          (PACKAGE / parts[1]).is_dir()) else ""


def test_no_import_cycle_between_files():
    graph = _graph()
    cycles, done, stack = [], set(), []

    def visit(node: str) -> None:
        stack.append(node)
        for dep in sorted(graph[node]):
            if dep in stack:
                cycles.append(" -> ".join(stack[stack.index(dep):] + [dep]))
            elif dep not in done:
                visit(dep)
        stack.pop()
        done.add(node)

    for node in sorted(graph):
        if node not in done:
            visit(node)
    assert cycles == []


def test_no_cycle_between_folders_and_no_import_against_the_flow():
    graph = _graph()
    edges = {(_layer(a), _layer(b)) for a, deps in graph.items() for b in deps}
    edges = {(a, b) for a, b in edges if a and b and a != b}
    assert sorted((a, b) for a, b in edges if (b, a) in edges) == []
    crossing = sorted((a, b) for a, b in edges if b in FORBIDDEN.get(a, ()))
    assert crossing == []
    assert sorted(b for a, b in edges if a == "local") == []


def test_no_pure_layer_reaches_a_backend_through_another_module():
    """Transitively too: a pure module importing a top-level one (`reconciler.session`,
    `reconciler.errors`, …) that imports a backend would cross the flow as surely."""
    graph = _graph()

    @functools.cache
    def reach(module: str) -> frozenset[str]:
        out: set[str] = set()
        for dep in graph[module]:
            out |= {dep} | reach(dep)
        return frozenset(out)

    crossing = sorted(
        (a, b) for a in graph if _layer(a) in FORBIDDEN for b in reach(a)
        if _layer(b) in FORBIDDEN[_layer(a)])
    assert crossing == []


def test_loggers_come_from_reconciler_logs():
    """A module that logs takes its logger from `reconciler.logs`, which silences the
    `reconciler` namespace (a `NullHandler`) before anything can be emitted; the local Notion
    silences its own. The CLI's `--debug` and progress only configure and listen."""
    allowed = {"reconciler.logs", "reconciler.cli.debug", "reconciler.cli.progress"}
    found = sorted(_module(path) for path in PACKAGE.rglob("*.py")
                   if "getLogger(" in path.read_text(encoding="utf-8")
                   and _module(path) not in allowed and _layer(_module(path)) != "local")
    assert found == []
