"""A report made while leaving a node lands where its node is (`context.statement_of`).

Positions are computed per module-level statement, so each report carries the statement it
is in. Leaving a module-level `def`, the walker's ancestors stop at the module: the statement
must come from the node being left, not from whatever node was visited last.
"""

from __future__ import annotations

import libcst as cst
import pytest

from prefect_lint.diagnostics import Position
from prefect_lint.engine.context import RuleContext
from prefect_lint.engine.positions import node_position, statement_ranges
from prefect_lint.engine.walker import Walker
from prefect_lint.model.module import ModuleModel
from prefect_lint.rules.base import Rule, RuleMeta
from prefect_lint.versions import ALL_VERSIONS

SOURCE = """\
import os


def first():
    os.getcwd()
    return [os.sep for _ in range(2)]


class Holder:
    def method(self):
        os.listdir()
"""


class _ReportsOnLeave(Rule):
    """Collects calls while visiting; reports them when leaving their function."""

    meta = RuleMeta(
        code="PFL999",
        name="reports-on-leave",
        summary="a call",
        docs="",
        since="0.0.0",
        versions=ALL_VERSIONS,
    )

    def __init__(self, context: RuleContext) -> None:
        super().__init__(context)
        self.calls: list[cst.Call] = []

    def visit_Call(self, node: cst.Call) -> None:
        self.calls.append(node)

    def visit_Name(self, node: cst.Name) -> None:
        pass  # visited last inside each function: what a stale "current node" would be

    def leave_FunctionDef(self, node: cst.FunctionDef) -> None:
        for call in self.calls:
            self.report(call)
        self.calls = []


def _positions(iterative: bool) -> list[Position]:
    module = cst.parse_module(SOURCE)
    context = RuleContext("t.py", module, ModuleModel(module, "t.py"))
    walker = Walker([_ReportsOnLeave(context)])
    context.ancestors = walker.ancestors
    context.walker = walker
    (walker.walk_iterative if iterative else walker.walk)(module)
    ranges = statement_ranges(module, SOURCE, [r.statement for r in context.reports])
    return [node_position(ranges, report.node)[0] for report in context.reports]


@pytest.mark.parametrize("iterative", [False, True])
def test_reports_from_leave_callbacks_have_their_position(iterative: bool) -> None:
    assert _positions(iterative) == [
        Position(5, 4),  # os.getcwd(), in a module-level def: the def is the statement
        Position(6, 28),  # range(2)
        Position(11, 8),  # os.listdir(), in a method: the class is the statement
    ]
