"""The import graph of ``mi_tutor/``, read from the AST of every module, and its layering.

Every ``import`` and ``from ... import`` statement counts, at module level or inside a function
(a lazy import is an arrow all the same). Layers, lowest first, are ``LAYERS``: a module may
import its own layer or lower ones, never a higher one, and the graph has no cycle.
``tests/test_layering.py`` asserts both.

Usage:
    python bench/import_graph.py            # summary: modules, arrows, arrows up, cycles
    python bench/import_graph.py --edges    # every arrow between two top-level packages, with its count
"""

from __future__ import annotations

import argparse
import ast
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = "mi_tutor"

#: Top-level modules and packages of ``mi_tutor``, by layer (lowest first). A module imports only
#: from its own layer or below: the models never import the analyses, the zoo or the course; the
#: zoo (model registry and recipes) may import models, data and analyses; checks and course sit on top.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("validation", "device"),
    ("hooks",),
    ("transformer", "vision"),
    ("tasks", "grokking"),
    ("circuits_transformer", "circuits_vision", "dictionary", "editing", "edits", "features", "featvis",
     "patching", "steering", "superposition", "symbiote", "universality"),
    ("zoo",),
    ("checks",),
    ("course", "__main__", "__init__"),
)

#: Modules placed in another layer than their package's, with the reason.
OVERRIDES: dict[str, str] = {}


def module_name(path: Path) -> str:
    """``mi_tutor/zoo/registry.py`` -> ``mi_tutor.zoo.registry`` (a package is its ``__init__``)."""
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def modules() -> dict[str, Path]:
    """Every module of the package, by dotted name."""
    return {module_name(p): p for p in sorted((ROOT / PACKAGE).rglob("*.py"))}


def _resolve(current: str, is_package: bool, node: ast.ImportFrom) -> str:
    if node.level == 0:
        return node.module or ""
    base = current.split(".") if is_package else current.split(".")[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def imports(name: str, path: Path, known: set[str]) -> set[str]:
    """The ``mi_tutor`` modules that module ``name`` imports (a name imported from a package counts
    as its submodule when it is one)."""
    tree = ast.parse(path.read_text(), filename=str(path))
    is_package = path.name == "__init__.py"
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = _resolve(name, is_package, node)
            targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in known else base for a in node.names]
        else:
            continue
        for target in targets:
            while target and target not in known:  # `import mi_tutor.zoo.registry as r` -> the module itself
                target = target.rpartition(".")[0]
            if target.startswith(PACKAGE) and target != name:
                found.add(target)
    return found


def graph() -> dict[str, set[str]]:
    """Module -> the package modules it imports."""
    mods = modules()
    known = set(mods)
    return {name: imports(name, path, known) for name, path in mods.items()}


def layer_of(module: str) -> int:
    """The index in ``LAYERS`` of a module (by its top-level package, or ``OVERRIDES``)."""
    top = OVERRIDES.get(module) or (module.split(".")[1] if "." in module else "__init__")
    for i, names in enumerate(LAYERS):
        if top in names:
            return i
    raise KeyError(f"{module}: its package {top!r} is in no layer of bench/import_graph.py LAYERS")


def arrows_up(g: dict[str, set[str]]) -> list[tuple[str, str]]:
    """Every import from a lower layer to a higher one, as ``(importer, imported)``."""
    return sorted((a, b) for a, targets in g.items() for b in targets if layer_of(b) > layer_of(a))


def cycles(g: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    sys.setrecursionlimit(max(10_000, sys.getrecursionlimit()))

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in g.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                found.append(sorted(comp))

    for v in sorted(g):
        if v not in index:
            visit(v)
    return sorted(found)


def package_edges(g: dict[str, set[str]]) -> Counter:
    """``(package, package) -> number of module arrows`` between two different top-level packages."""
    top = lambda m: m.split(".")[1] if "." in m else "__init__"  # noqa: E731
    return Counter((top(a), top(b)) for a, targets in g.items() for b in targets if top(a) != top(b))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--edges", action="store_true", help="list the arrows between top-level packages")
    args = parser.parse_args()
    g = graph()
    up, loops = arrows_up(g), cycles(g)
    print(f"{len(g)} modules, {sum(map(len, g.values()))} arrows, {len(up)} arrows up, {len(loops)} cycles")
    for a, b in up:
        print(f"  up: {a} -> {b}")
    for loop in loops:
        print("  cycle:", " <-> ".join(loop))
    if args.edges:
        for (a, b), n in sorted(package_edges(g).items()):
            print(f"  {a:>22} -> {b:<22} {n}")


if __name__ == "__main__":
    main()
