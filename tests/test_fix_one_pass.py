"""A `CstFix` with both node replacements and inserted statements keeps both.

Both find their nodes by identity, and a LibCST pass rebuilds every node it visits, so they
are made in one pass (`InsertStatements.with_replacements`); run one after the other, the
second found nothing and its changes were silently lost.
"""

from __future__ import annotations

import libcst as cst
import pytest

from prefect_lint.diagnostics import Applicability
from prefect_lint.fixes.edits import apply_edits
from prefect_lint.fixes.render import RenderSession, render_fix
from prefect_lint.fixes.statements import InsertStatements
from prefect_lint.records import CstFix, ImportRequest

SOURCE = """\
import logging


def run(items):
    total = 0  # start
    for item in items:
        print(item)
        total += item
    stale = 1
    return total
"""


def _small(code: str) -> cst.BaseSmallStatement:
    line = cst.parse_statement(code)
    assert isinstance(line, cst.SimpleStatementLine)
    return line.body[0]


def _nodes(module: cst.Module) -> tuple[cst.FunctionDef, cst.IndentedBlock]:
    function = module.body[1]
    assert isinstance(function, cst.FunctionDef)
    assert isinstance(function.body, cst.IndentedBlock)
    return function, function.body


def _fix(module: cst.Module, *, removal: bool) -> CstFix:
    _, body = _nodes(module)
    first, loop, stale, ret = body.body
    assert isinstance(loop, cst.For) and isinstance(loop.body, cst.IndentedBlock)
    print_line = loop.body.body[0]
    assert isinstance(print_line, cst.SimpleStatementLine)
    call = print_line.body[0]
    assert isinstance(call, cst.Expr) and isinstance(call.value, cst.Call)
    replacements: dict[cst.CSTNode, cst.CSTNode | cst.RemovalSentinel] = {
        call.value.func: cst.parse_expression("logging.info")
    }
    if removal:
        replacements[stale] = cst.RemovalSentinel.REMOVE
    assert isinstance(ret, cst.SimpleStatementLine)
    return CstFix(
        title="t",
        applicability=Applicability.SAFE,
        replacements=replacements,
        transformer=InsertStatements(
            before={id(first): [_small("seen = []")]},
            after={id(loop): [_small("seen.append(total)")]},
            after_body={id(body): [_small("del seen")]},
        ),
    )


@pytest.mark.parametrize("whole_module", [False, True])
@pytest.mark.parametrize("removal", [False, True])
def test_replacements_and_insertions_both_apply(whole_module: bool, removal: bool) -> None:
    module = cst.parse_module(SOURCE)
    fix = _fix(module, removal=removal)
    if whole_module:
        # Imports to clean up make the renderer transform the whole module.
        fix.unused_imports = [ImportRequest("os", "path")]
    rendered = render_fix(module, SOURCE, fix, RenderSession(module, SOURCE, "m.py"))
    assert rendered is not None
    stale = "" if removal else "    stale = 1\n"
    assert apply_edits(SOURCE, rendered.edits) == (
        "import logging\n"
        "\n"
        "\n"
        "def run(items):\n"
        "    seen = []\n"
        "    total = 0  # start\n"
        "    for item in items:\n"
        "        logging.info(item)\n"
        "        total += item\n"
        "    seen.append(total)\n"
        f"{stale}"
        "    return total\n"
        "    del seen\n"
    )
