"""The package's import graph has no cycle.

Every `import` and `from ... import` inside `prefect_lint/` counts: at module level, inside
functions (a deferred import is still a dependency, only a late one) and under
`if TYPE_CHECKING:` (a type-only cycle still means neither module can be understood, or
moved, without the other). An import of `pkg.mod` is an edge to `pkg.mod` only: Python also
runs `pkg/__init__.py` first, but a package that imports its own modules (the rule registry)
is how packages are built, not a loop between two pieces of logic.
"""

from __future__ import annotations

import ast
import itertools
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "prefect_lint"

# module -> {imported module: the first line importing it}
Graph = dict[str, dict[str, int]]


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def import_graph(root: Path) -> tuple[Graph, dict[str, Path]]:
    """The package's modules and, for each, the package modules it imports (anywhere)."""
    files = {module_name(path, root): path for path in sorted(root.rglob("*.py"))}
    graph: Graph = {}
    for name, path in files.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        edges: dict[str, int] = {}
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    parts = package.split(".")
                    base = ".".join(parts[: len(parts) - node.level + 1])
                    source = f"{base}.{node.module}" if node.module else base
                else:
                    source = node.module or ""
                # `from pkg import mod` imports the module `pkg.mod`; `from mod import name`
                # imports `mod`.
                targets = [
                    f"{source}.{alias.name}" if f"{source}.{alias.name}" in files else source
                    for alias in node.names
                ]
            for target in targets:
                # `import a.b.c` names the deepest package module it reaches.
                while target and target not in files:
                    target = target.rpartition(".")[0]
                if target and target != name:
                    edges.setdefault(target, node.lineno)
        graph[name] = edges
    return graph, files


def find_cycle(graph: Graph) -> list[str] | None:
    """One cycle of `graph` as [a, b, ..., a], or None if it has none (iterative DFS)."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    for start in sorted(graph):
        if state.get(start):
            continue
        path = [start]
        iterators = [iter(sorted(graph[start]))]
        state[start] = 1
        while iterators:
            following = next(iterators[-1], None)
            if following is None:
                state[path.pop()] = 2
                iterators.pop()
            elif state.get(following) == 1:
                return [*path[path.index(following) :], following]
            elif not state.get(following):
                state[following] = 1
                path.append(following)
                iterators.append(iter(sorted(graph.get(following, ()))))
    return None


def describe(cycle: list[str], graph: Graph, files: dict[str, Path], root: Path) -> str:
    """The cycle's edges, each with the import line that makes it."""
    return "\n".join(
        f"  {a} -> {b}  ({files[a].relative_to(root.parent)}:{graph[a][b]})"
        for a, b in itertools.pairwise(cycle)
    )


def test_the_package_has_no_import_cycle() -> None:
    graph, files = import_graph(PACKAGE)
    assert len(graph) > 50 and any(graph.values())  # the walk found the package's imports
    cycle = find_cycle(graph)
    if cycle is not None:
        pytest.fail("import cycle in prefect_lint/:\n" + describe(cycle, graph, files, PACKAGE))


def test_the_graph_sees_every_kind_of_import(tmp_path: Path) -> None:
    package = tmp_path / "pkg"
    (package / "sub").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "sub" / "__init__.py").write_text("")
    (package / "a.py").write_text("from pkg.sub import b\n")
    (package / "sub" / "b.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from ..c import Thing\n"
    )
    (package / "c.py").write_text("def later():\n    import pkg.a\n")
    (package / "d.py").write_text("from . import c\nimport pkg.sub.b as b\n")
    graph, files = import_graph(package)
    assert graph["pkg.a"] == {"pkg.sub.b": 1}
    assert graph["pkg.sub.b"] == {"pkg.c": 3}
    assert graph["pkg.c"] == {"pkg.a": 2}
    assert graph["pkg.d"] == {"pkg.c": 1, "pkg.sub.b": 2}
    cycle = find_cycle(graph)
    assert cycle == ["pkg.a", "pkg.sub.b", "pkg.c", "pkg.a"]
    assert "pkg/sub/b.py:3" in describe(cycle, graph, files, package).replace("\\", "/")


@pytest.mark.parametrize(
    ("graph", "expected"),
    [
        ({"a": {"b": 1}, "b": {"c": 1}, "c": {}}, None),
        ({"a": {"b": 1, "c": 1}, "b": {"c": 1}, "c": {}}, None),  # a diamond is no cycle
        ({"a": {"b": 1}, "b": {"a": 1}}, ["a", "b", "a"]),
        ({"a": {"b": 1}, "b": {"c": 1}, "c": {"b": 1}}, ["b", "c", "b"]),
    ],
)
def test_find_cycle(graph: Graph, expected: list[str] | None) -> None:
    assert find_cycle(graph) == expected
