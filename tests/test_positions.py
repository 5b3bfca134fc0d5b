"""Positions read through Python's `ast` (what flake8 hands its plugins) are the positions
measured by code generation, for every node of every module-level statement."""

from __future__ import annotations

import ast
from pathlib import Path

import libcst as cst
import pytest

from prefect_lint.diagnostics import Position
from prefect_lint.engine.positions import statement_ranges

FIXTURES = sorted((Path(__file__).parent.parent / "fixtures").rglob("*.py"))

SHAPES = {
    "semicolons and a header": (
        "# header\n\nimport os; import sys\nx = 1; y = 2\n\ndef f():\n    pass\n"
    ),
    "decorators with comments": (
        "import functools\n\n\n# about f\n@functools.cache  # why\n\n# between\n"
        "@functools.wraps(print)\ndef f(a):\n    return a\n    # footer of f\n\n# before g\n"
        "class G:\n    x = f(1)\n"
    ),
    "crlf": "import os\r\n\r\n\r\ndef f():\r\n    return os.sep\r\n\r\nz = f()\r\n",
    "continuations": "x = (1 +\n     2)\ny = \\\n    3\nif x:\n    pass\nelse:\n    y = 4\n",
    "strings over lines": 's = """a\nb\nc"""\nt = f"{s!r}"\nclass A:\n    """doc\n    more"""\n',
    "form feed": "import os\n\x0c\ndef f():\n    return os\n",
    "no trailing newline": "import os\nx = os.sep",
}


def _nodes(module: cst.Module) -> list[cst.CSTNode]:
    found: list[cst.CSTNode] = []

    class Collect(cst.CSTVisitor):
        def on_visit(self, node: cst.CSTNode) -> bool:
            found.append(node)
            return True

    module.visit(Collect())
    return found


def _positions(source: str, tree: ast.Module | None) -> list[tuple[Position, Position] | None]:
    module = cst.parse_module(source)
    ranges = statement_ranges(module, source, list(module.body), tree)
    return [ranges.position(node) for node in _nodes(module)]


@pytest.mark.parametrize(
    "source",
    [*SHAPES.values(), *(path.read_text(encoding="utf-8") for path in FIXTURES)],
    ids=[*SHAPES, *(str(path.relative_to(FIXTURES[0].parents[1])) for path in FIXTURES)],
)
def test_positions_through_the_ast_are_the_measured_ones(source: str) -> None:
    try:
        tree = ast.parse(source)
    except SyntaxError:
        pytest.skip("Python rejects it (a syntax-error fixture)")
    try:
        measured = _positions(source, None)
    except cst.ParserSyntaxError:
        pytest.skip("LibCST rejects it")
    assert _positions(source, tree) == measured


def test_a_tree_of_other_code_falls_back_to_measuring() -> None:
    source = SHAPES["decorators with comments"]
    stale = ast.parse("\n\n" + source)  # every line two lower: no offset checks out
    assert _positions(source, stale) == _positions(source, None)
    shorter = ast.parse("import functools\n")  # does not line up with the statements
    assert _positions(source, shorter) == _positions(source, None)


def test_the_ast_path_generates_no_code_for_earlier_statements(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    source = "import os\n" + "x = os.sep\n" * 50 + "def f():\n    return os.getcwd()\n"
    module = cst.parse_module(source)
    generated: list[cst.CSTNode] = []
    real = cst.Module.code_for_node

    def counting(self: cst.Module, node: cst.CSTNode) -> str:
        generated.append(node)
        return real(self, node)

    monkeypatch.setattr(cst.Module, "code_for_node", counting)
    statement_ranges(module, source, [module.body[-1]], ast.parse(source))
    assert generated == []
    statement_ranges(module, source, [module.body[-1]], None)
    assert len(generated) == 51
