# SPDX-FileCopyrightText: 2026 The qbdi authors
# SPDX-License-Identifier: MIT
"""The package's shape: layers you can see in the tree, guarded by the import graph, not by line counts.

The graph has one node per module of ``bridge/`` and one arrow per import, read from the source
(every ``import`` and ``from ... import``, including the lazy ones inside functions and those under
``TYPE_CHECKING``): it must have no circle, and no arrow from a layer to one it may not use
(``ALLOWED``). Run this file (``python tests/system/test_house.py``) to print the figures.
"""

from __future__ import annotations

import ast
import sys
import warnings
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BRIDGE = ROOT / "bridge"
SIZE_WARNING = 800   # lines: worth a look, never a reason to cut a module at a line count

# Top-level modules outside the engine; every other top-level module (and bridge.models) is the engine.
TOP_LEVEL = {"protocol": "wire", "osc": "wire", "client": "clients", "stream_client": "clients",
             "cli": "cli", "options": "cli", "bench": "cli", "__main__": "cli"}
SUBPACKAGES = {"serve", "jam", "measures", "training", "analysis"}
# layer -> the layers it may import (besides its own modules); "face" is bridge/__init__.py
ALLOWED = {
    "engine": set(),                                   # config, smf, midifile, ... improvise, stream, models
    "wire": {"engine"},                                # the OSC contract and codec
    "measures": {"engine"},                            # NumPy-only measures shared by training and analysis
    "serve": {"engine", "wire", "measures", "face"},   # never training, analysis, jam or the clients; measures:
                                                       # what a result kept (retained, copy), NumPy-only
    "clients": {"engine", "wire", "face"},
    "jam": {"engine", "wire", "clients", "face"},
    "training": {"engine", "measures", "face"},        # never analysis (the [analysis] extra)
    "analysis": {"engine", "measures", "face"},
    "cli": {"engine", "wire", "measures", "serve", "clients", "jam", "training", "analysis", "face"},
    "face": {"engine", "wire", "clients", "measures"},  # `import bridge`: the public API, nothing heavy
}


def modules(package: Path) -> dict[str, Path]:
    """Dotted module name -> file, for every module of ``package`` (a package is named by its folder)."""
    out = {}
    for path in sorted(package.rglob("*.py")):
        parts = list(path.relative_to(package.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = path
    return out


def import_graph(package: Path) -> dict[str, set[str]]:
    """Module -> the modules of the same package it imports, anywhere in its source."""
    mods = modules(package)
    root = package.name

    def resolve(name: str) -> str:
        while name and name not in mods:
            name = name.rpartition(".")[0]
        return name

    graph: dict[str, set[str]] = {m: set() for m in mods}
    for module, path in mods.items():
        here = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = ".".join(here[:len(here) - node.level + 1] + [node.module or ""]) if node.level else node.module
                base = base.rstrip(".")
                targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in mods else base for a in node.names]
            else:
                continue
            for target in targets:
                if target.split(".")[0] == root and (found := resolve(target)) and found != module:
                    graph[module].add(found)
    return graph


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan)."""
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
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def layer(module: str) -> str:
    parts = module.split(".")
    if len(parts) == 1:
        return "face"
    if parts[1] in SUBPACKAGES:
        return parts[1]
    return TOP_LEVEL.get(parts[1], "engine")


def wrong_way(graph: dict[str, set[str]]) -> list[str]:
    """Every import from a layer to one it may not use, as ``a (layer) -> b (layer)``."""
    return [f"{a} ({layer(a)}) -> {b} ({layer(b)})" for a, targets in sorted(graph.items()) for b in sorted(targets)
            if layer(a) != layer(b) and layer(b) not in ALLOWED[layer(a)]]


def test_the_import_graph_has_no_circle():
    graph = import_graph(BRIDGE)
    assert len(graph) > 40 and "bridge.serve.workers" in graph["bridge.serve.server"]   # the graph is read
    assert not circles(graph), f"import circles (cut them at a concept, not a line count): {circles(graph)}"


def test_every_import_goes_down_the_layers():
    graph = import_graph(BRIDGE)
    assert {layer(m) for m in graph} == set(ALLOWED), "a layer of ALLOWED has no module, or a module no layer"
    assert not wrong_way(graph), "imports against the layers:\n" + "\n".join(wrong_way(graph))
    long = {p.relative_to(BRIDGE).as_posix(): n for p in BRIDGE.rglob("*.py")
            if (n := len(p.read_text(encoding="utf-8").splitlines())) > SIZE_WARNING}
    if long:
        warnings.warn(f"modules over {SIZE_WARNING} lines, worth a look for a seam: {long}", stacklevel=1)


def test_the_guard_sees_lazy_and_type_checking_imports_and_relative_levels(tmp_path):
    pkg = tmp_path / "bridge"
    for folder in (pkg, pkg / "serve", pkg / "training"):
        folder.mkdir()
        (folder / "__init__.py").write_text("")
    (pkg / "config.py").write_text("def f():\n    from .serve import server\n")          # lazy, engine -> serve
    (pkg / "serve" / "server.py").write_text("from ..config import f\n")
    (pkg / "serve" / "admission.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from .server import Server\n"
        "from .. import training\n")                                                       # serve -> training
    (pkg / "training" / "train.py").write_text("import bridge.serve.admission\n")
    graph = import_graph(pkg)
    assert graph["bridge.config"] == {"bridge.serve.server"} and graph["bridge.serve.server"] == {"bridge.config"}
    assert graph["bridge.serve.admission"] == {"bridge.serve.server", "bridge.training"}
    assert circles(graph) == [["bridge.config", "bridge.serve.server"]]
    assert set(wrong_way(graph)) == {"bridge.config (engine) -> bridge.serve.server (serve)",
                                     "bridge.serve.admission (serve) -> bridge.training (training)",
                                     "bridge.training.train (training) -> bridge.serve.admission (serve)"}


def test_the_layers_are_the_extras_and_dev_tools_live_outside():
    assert (BRIDGE / "training" / "train.py").is_file() and (BRIDGE / "analysis" / "oracle.py").is_file()
    for folder in SUBPACKAGES:
        assert (BRIDGE / folder / "__init__.py").is_file(), f"bridge/{folder}/ is a layer"
    for moved in ("fuzz.py", "train.py", "corpus.py", "evaluate.py", "server.py", "jam.py", "texture.py"):
        assert not (BRIDGE / moved).exists(), f"bridge/{moved} belongs in tools/ or a subpackage"
    assert (BRIDGE / "py.typed").is_file()


def figures(package: Path = BRIDGE) -> str:
    graph = import_graph(package)
    per_layer = Counter(layer(m) for m in graph)
    lines = [f"modules {len(graph)}, imports {sum(map(len, graph.values()))}, circles {len(circles(graph))}"]
    lines += [f"  circle: {' <-> '.join(c)}" for c in circles(graph)]
    lines.append("modules per layer: " + ", ".join(f"{k} {v}" for k, v in sorted(per_layer.items())))
    arrows: dict[tuple[str, str], int] = defaultdict(int)
    for a, targets in graph.items():
        for b in targets:
            if layer(a) != layer(b):
                arrows[layer(a), layer(b)] += 1
    lines.append("imports between layers: " + ", ".join(f"{a}->{b} {n}" for (a, b), n in sorted(arrows.items())))
    lines += [f"  against the layers: {w}" for w in wrong_way(graph)]
    return "\n".join(lines)


if __name__ == "__main__":
    print(figures(Path(sys.argv[1]) if len(sys.argv) > 1 else BRIDGE))
