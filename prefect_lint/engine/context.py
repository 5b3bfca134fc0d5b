"""The per-file context rules read from and report to."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import libcst as cst

from prefect_lint.model.module import ModuleModel
from prefect_lint.model.scopes import Scope
from prefect_lint.model.values import Value
from prefect_lint.rules.base import CstFix, RuleMeta


@dataclass
class Report:
    meta: RuleMeta
    node: cst.CSTNode
    message: str
    fix: CstFix | None
    # The module-level statement that contains `node` (positions are computed per statement).
    statement: cst.CSTNode


class RuleContext:
    def __init__(self, path: str, module: cst.Module, model: ModuleModel) -> None:
        self.path = path
        self.module = module
        self.model = model
        self.ancestors: Sequence[cst.CSTNode] = ()
        self.reports: list[Report] = []

    def scope(self, node: cst.CSTNode) -> Scope:
        """The scope `node` (a child of the walker's current position or the node itself) is in."""
        return self.model.scope_at([*self.ancestors, node])

    def evaluate(self, expr: cst.BaseExpression, at: cst.CSTNode) -> Value | None:
        """What `expr` is, evaluated where `at` (the node being visited) stands."""
        return self.model.evaluate(expr, self.scope(at))

    def statement_of(self, node: cst.CSTNode) -> cst.CSTNode:
        """The module-level statement holding `node`, which the walker is visiting now."""
        return self.ancestors[1] if len(self.ancestors) > 1 else node

    def report(
        self,
        meta: RuleMeta,
        node: cst.CSTNode,
        message: str,
        fix: CstFix | None,
        statement: cst.CSTNode | None = None,
    ) -> None:
        statement = statement if statement is not None else self.statement_of(node)
        self.reports.append(Report(meta, node, message, fix, statement))
