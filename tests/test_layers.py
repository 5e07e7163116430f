"""The layers of the engine, read from the source: imports only run downward, no two
modules import each other (however far round), no module grows past a size a reader can
hold, and no page of the app imports another page (what two pages share lives in ``app/``).

Layers, lowest first (docs/architecture.md): the vocabulary, the catalogue, access and the
store, ingest, governance, report, publish, and the command line with the sample data.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
KPIS = ROOT / "kpis"
PAGES = ROOT / "app" / "pages"
MAX_LINES = 600

LAYERS: list[set[str]] = [
    {"kpis.periods", "kpis.errors", "kpis.yamlfile", "kpis.spreadsheet"},
    {"kpis.catalogue", "kpis.access", "kpis.store"},
    {"kpis.ingest"},
    {"kpis.governance"},
    {"kpis.report"},
    {"kpis.publish"},
    {"kpis.sample", "kpis.cli", "kpis.__main__", "kpis"},
]


def _module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(path: Path, root: Path) -> set[str]:
    """Every module of ``root``'s package that ``path`` imports, at module level or inside
    a function (``from kpis import x`` counts as ``kpis.x`` where ``x`` is a module)."""
    package = root.name
    name = _module_name(path, root)
    is_package = path.name == "__init__.py"
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names if alias.name.split(".")[0] == package}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = name.split(".") if is_package else name.split(".")[:-1]
                base = base[: len(base) - (node.level - 1)]
                module = ".".join([*base, *([node.module] if node.module else [])])
            else:
                module = node.module or ""
            if module.split(".")[0] != package:
                continue
            for alias in node.names:
                candidate = f"{module}.{alias.name}"
                place = root.parent / Path(*candidate.split("."))
                # ``from kpis.ingest import plan`` depends on the module plan, not on the package
                found.add(candidate if place.with_suffix(".py").exists() or place.is_dir() else module)
    return found - {name}


def _graph(root: Path) -> dict[str, set[str]]:
    modules = {_module_name(p, root): p for p in root.rglob("*.py")}
    return {name: {m for m in _imports(path, root) if m in modules} for name, path in modules.items()}


def _layer(module: str) -> int:
    for depth in range(module.count(".") + 1, 0, -1):
        prefix = ".".join(module.split(".")[:depth])
        for level, members in enumerate(LAYERS):
            if prefix in members:
                return level
    raise AssertionError(f"{module} is in no layer: add it to LAYERS and to docs/architecture.md")


def _package(module: str) -> str:
    return ".".join(module.split(".")[:2])


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


GRAPH = _graph(KPIS)


def test_every_module_is_in_a_layer():
    for module in GRAPH:
        _layer(module)


def test_no_import_cycle_between_engine_modules():
    assert _cycles(GRAPH) == []


def test_imports_only_run_downward():
    upward = sorted(
        f"{module} imports {target}"
        for module, targets in GRAPH.items()
        for target in targets
        # within one package any import is fine (the cycle test keeps it acyclic)
        if _package(target) != _package(module) and _layer(target) > _layer(module)
    )
    assert upward == []


def test_a_package_init_is_no_way_round_the_layers():
    # ``kpis/__init__.py`` and the packages' own are counted in their layer too
    assert _layer("kpis.catalogue.model") == _layer("kpis.catalogue") == 1
    assert _layer("kpis.report.spc") > _layer("kpis.governance.risks")


# Being split on the ingest branch (issue 16): remove each as it comes under the limit.


def _sized(path: Path):
    name = str(path.relative_to(ROOT))
    return pytest.param(path, id=name)


@pytest.mark.parametrize("path", [_sized(p) for p in sorted(KPIS.rglob("*.py"))])
def test_no_engine_module_is_over_600_lines(path):
    lines = len(path.read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_LINES, f"{path.relative_to(ROOT)} has {lines} lines: split it by concept"


def test_the_checks_see_an_upward_import_and_a_cycle(tmp_path):
    root = tmp_path / "kpis"
    (root / "report").mkdir(parents=True)
    (root / "__init__.py").write_text("")
    (root / "report" / "__init__.py").write_text("")
    (root / "periods.py").write_text("def f():\n    from kpis.report import spc\n")
    (root / "report" / "spc.py").write_text("from kpis import periods\n")
    graph = _graph(root)
    assert graph["kpis.periods"] == {"kpis.report.spc"}
    assert _cycles(graph) == [["kpis.periods", "kpis.report.spc"]]


def test_no_page_imports_another_page():
    pages = {p.stem for p in PAGES.glob("*.py") if p.name != "__init__.py"}
    offenders = []
    for path in sorted(PAGES.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            names = []
            if isinstance(node, ast.ImportFrom) and node.module:
                if node.module == "app.pages" or (node.level == 1 and not node.module):
                    names = [a.name for a in node.names]
                elif node.module.startswith("app.pages."):
                    names = [node.module.removeprefix("app.pages.")]
                elif node.level == 1:
                    names = [node.module]
            elif isinstance(node, ast.Import):
                names = [a.name.removeprefix("app.pages.") for a in node.names if a.name.startswith("app.pages.")]
            offenders += [f"{path.stem} imports {n}" for n in names if n in pages and n != path.stem]
    assert offenders == []
