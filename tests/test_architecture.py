"""The layers of ARCHITECTURE.md, held by walking every module's imports (with `ast`).

Three rules, each over every ``import`` in ``src/myna`` (inside functions too, since a lazy
import is still a dependency):

- no upward import: a package imports only packages of its own layer or below;
- no package imports another package's private module (``myna.<pkg>._<module>``); the
  root's own private modules (``myna/_text.py``, ...) are shared internals with a layer;
- the import graph between packages has no cycle.

Registries that load an upper layer on first use do it by ``"module:attribute"`` path
(`myna.models` loads providers and fakes, the pytest plugin loads the evals' pytest side),
like entry points: those are strings, not imports, and are allowed.

Known violations still to be removed are listed below, each by name; a new one fails.
"""

from __future__ import annotations

import ast
import re
from collections import defaultdict
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "myna"

LAYERS: list[set[str]] = [
    # 0: pure data and shared internals
    {
        "exceptions",
        "messages",
        "tools",
        "schema",
        "_version",
        "_text",
        "_aiohttp_hook",
        "_record_mode",
        "_partial_json",
        "_schema_values",
        "_socket_guard",
        "_yaml_limits",
    },
    {"models"},  # 1
    {"codecs", "fakes"},  # 2
    {"providers", "emulators"},  # 3
    {"cassettes"},  # 4
    {"testing", "strategies"},  # 5
    {"pytest_plugin"},  # 6
    {"evals", "interop"},  # 7
    {"cli", "myna", "__main__"},  # 8: the command line and the root package's front
]
LAYER = {package: index for index, packages in enumerate(LAYERS) for package in packages}

SHARED_INTERNALS = {p for p in LAYERS[0] if p.startswith("_")}
"""Private modules of the root package, shared by every package at or above their layer."""

KNOWN_PRIVATE_IMPORTS: set[tuple[str, str]] = set()
"""Imports of another package's private module that are known and scheduled for removal."""

KNOWN_UPWARD_IMPORTS: set[tuple[str, str]] = set()
"""Imports from a higher layer that are known and scheduled for removal."""

KNOWN_CYCLES: set[frozenset[str]] = set()
"""Package import cycles that are known and scheduled for removal (none)."""


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _is_package(path: Path) -> bool:
    return path.name == "__init__.py"


def _exists(module: str) -> bool:
    base = SRC.parent.joinpath(*module.split("."))
    return base.with_suffix(".py").is_file() or (base / "__init__.py").is_file()


def _imports(path: Path) -> list[tuple[str, int]]:
    """Every myna module `path` imports, resolved (``from .x import y`` -> ``myna.pkg.x``, or
    ``myna.pkg.x.y`` when ``y`` is a module), with the line."""
    me = _module_name(path)
    package = me if _is_package(path) else me.rpartition(".")[0]
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [(alias.name, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[: len(parts) - node.level + 1])
                module = f"{base}.{node.module}" if node.module else base
            else:
                module = node.module or ""
            for alias in node.names:
                sub = f"{module}.{alias.name}"
                found.append((sub if _exists(sub) else module, node.lineno))
    return [(m, line) for m, line in found if m == "myna" or m.startswith("myna.")]


def _package(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "myna"


def _is_private(module: str) -> bool:
    """Whether `module` is a private module below its package (``myna.pkg._x``)."""
    return any(part.startswith("_") for part in module.split(".")[2:])


MODULES = {_module_name(p): p for p in sorted(SRC.rglob("*.py"))}
EDGES = [
    (source, target, line) for source, path in MODULES.items() for target, line in _imports(path)
]


def _check(found: set[tuple[str, str]], known: set[tuple[str, str]], what: str) -> None:
    new = sorted(found - known)
    assert not new, f"new {what}: " + "; ".join(f"{s} imports {t}" for s, t in new)
    gone = sorted(known - found)
    assert not gone, "no longer there, remove from the known list: " + "; ".join(map(str, gone))


def test_every_package_has_a_layer() -> None:
    assert {_package(m) for m in MODULES} - set(LAYER) == set()


def test_architecture_md_lists_the_same_layers() -> None:
    text = (SRC.parents[1] / "ARCHITECTURE.md").read_text(encoding="utf-8")
    rows = re.findall(r"^\| (\d) \| ([^|]+) \|", text, flags=re.MULTILINE)
    documented = [set(re.findall(r"`([a-z_]+)`", packages)) for _, packages in rows]
    assert documented == [layer - {"__main__"} for layer in LAYERS]  # __main__: part of the cli


def test_no_upward_import() -> None:
    found = {
        (source, target)
        for source, target, _ in EDGES
        if LAYER[_package(target)] > LAYER[_package(source)]
    }
    _check(found, KNOWN_UPWARD_IMPORTS, "upward import")


def test_no_import_of_another_packages_private_module() -> None:
    found = {
        (source, target)
        for source, target, _ in EDGES
        if _is_private(target)
        and _package(target) != _package(source)
        and _package(target) not in SHARED_INTERNALS
    }
    _check(found, KNOWN_PRIVATE_IMPORTS, "import of another package's private module")


def _cycles(graph: dict[str, set[str]]) -> list[frozenset[str]]:
    """Strongly connected components with more than one package (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in graph[node]:
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = set()
            while True:
                member = stack.pop()
                component.add(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(frozenset(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_no_import_cycle_between_packages() -> None:
    graph: dict[str, set[str]] = defaultdict(set)
    for source, target, _ in EDGES:
        graph[_package(source)]
        graph[_package(target)]
        if _package(source) != _package(target):
            graph[_package(source)].add(_package(target))
    assert set(_cycles(graph)) == KNOWN_CYCLES


@pytest.mark.parametrize(
    ("source", "target"),
    [("myna.models._registry", "myna.fakes"), ("myna.cassettes._format", "myna")],
    ids=["models-fakes", "cassettes-root"],
)
def test_the_circles_of_issue_14_stay_gone(source: str, target: str) -> None:
    assert all(not (s == source and t == target) for s, t, _ in EDGES)
