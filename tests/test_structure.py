"""The package's structure, drawn from its imports: no loops, and no import back up the layers.

Every import counts, in-function and TYPE_CHECKING ones included: a loop hidden inside a
function is still a loop a reader has to untangle.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "simulator"

# Lowest first: a module may import from its own layer's package and from layers below it.
LAYERS: list[set[str]] = [
    {"files"},
    {"content"},
    {"models"},
    {"scoring"},
    {"persona"},
    {"conversation", "store"},
    {"evaluation"},
    {"services"},
    {"commands", "ui"},
    {"cli", "__main__"},
]


def _modules() -> dict[str, Path]:
    found = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[name] = path
    return found


def _imports(modules: dict[str, Path]) -> dict[str, set[str]]:
    def resolve(target: str) -> str | None:
        while target and target not in modules:
            target = target.rpartition(".")[0]
        return target or None

    edges: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            targets: list[str] = []
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                targets = [f"{node.module}.{alias.name}" for alias in node.names]
            elif isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            for target in targets:
                if target.startswith("simulator"):
                    resolved = resolve(target)
                    if resolved and resolved != name:
                        edges[name].add(resolved)
    return edges


def _top(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def _layer(module: str) -> int:
    top = _top(module)
    for index, members in enumerate(LAYERS):
        if top in members:
            return index
    raise AssertionError(f"{module} is in no layer: add its package to LAYERS in this test")


def test_every_module_belongs_to_a_layer() -> None:
    for name in _modules():
        if name != "simulator":
            _layer(name)


def test_no_import_goes_up_a_layer() -> None:
    upward = [
        f"{source} -> {target}"
        for source, targets in _imports(_modules()).items()
        if source != "simulator"
        for target in targets
        if target != "simulator" and _layer(target) > _layer(source)
    ]
    assert upward == []


def test_no_import_loops() -> None:
    edges = _imports(_modules())
    loops: list[list[str]] = []
    state: dict[str, int] = {}  # 1 = on the current path, 2 = done
    path: list[str] = []

    def visit(module: str) -> None:
        state[module] = 1
        path.append(module)
        for target in sorted(edges[module]):
            if state.get(target) == 1:
                loops.append([*path[path.index(target) :], target])
            elif target not in state:
                visit(target)
        path.pop()
        state[module] = 2

    for module in sorted(edges):
        if module not in state:
            visit(module)
    assert loops == []
