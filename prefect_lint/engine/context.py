"""The per-file context rules read from and report to."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import libcst as cst

from prefect_lint.engine.walker import Walker
from prefect_lint.model.future_facts import FunctionFacts
from prefect_lint.model.futures import analyze_function
from prefect_lint.model.module import ModuleModel
from prefect_lint.model.scopes import Scope
from prefect_lint.model.target import LATEST, Target
from prefect_lint.model.values import Flow, Value
from prefect_lint.records import CstFix, RuleMeta
from prefect_lint.versions import VersionRange


@dataclass
class Report:
    meta: RuleMeta
    node: cst.CSTNode
    message: str
    fix: CstFix | None
    # The module-level statement that contains `node` (positions are computed per statement).
    statement: cst.CSTNode


_FUTURE_METHODS = frozenset({"submit", "map", "result", "wait"})
_FUTURE_FUNCTIONS = frozenset({"wait", "as_completed"})


class FutureUseMarker:
    """Marks every function whose body calls `.submit/.map/.result/.wait`, `wait()` or
    `as_completed()`, so tasks and helpers without futures are never analysed."""

    def __init__(self, context: RuleContext) -> None:
        self.context = context

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if isinstance(func, cst.Attribute):
            if func.attr.value not in _FUTURE_METHODS:
                return
        elif not (isinstance(func, cst.Name) and func.value in _FUTURE_FUNCTIONS):
            return
        marked = self.context.handles_futures
        for ancestor in reversed(self.context.ancestors):
            if isinstance(ancestor, cst.FunctionDef):
                if id(ancestor) in marked:
                    return
                marked.add(id(ancestor))


class RuleContext:
    def __init__(self, path: str, module: cst.Module, model: ModuleModel) -> None:
        self.path = path
        self.module = module
        self.model = model
        self.ancestors: Sequence[cst.CSTNode] = ()
        self.walker: Walker | None = None
        self.target: Target = LATEST
        self.reports: list[Report] = []
        self._flow_facts: dict[int, FunctionFacts | None] = {}
        # Functions (by id) whose bodies call something future-like; filled during the walk.
        self.handles_futures: set[int] = set()
        self._flow_copies: dict[int, list[Flow]] | None = None
        # Results several rules compute alike (keyed by what and by node id).
        self.memo: dict[tuple[str, int], object] = {}

    def scope(self, node: cst.CSTNode) -> Scope:
        """The scope `node` (a child of the walker's current position or the node itself) is in."""
        return self.model.scope_at([*self.ancestors, node])

    def evaluate(self, expr: cst.BaseExpression, at: cst.CSTNode) -> Value | None:
        """What `expr` is, evaluated where `at` (the node being visited) stands."""
        return self.model.evaluate(expr, self.scope(at))

    def function_facts(self, node: cst.FunctionDef) -> FunctionFacts | None:
        """The futures analysis of `node`, for rules leaving it: always for a flow; for a task
        or helper only if it handles futures at all (see `FutureUseMarker`)."""
        key = id(node)
        if key not in self._flow_facts:
            facts = None
            scope = self.scope(node)
            value = self.model.value_of_def(node, scope)
            flow = value if isinstance(value, Flow) else None
            if flow is not None or key in self.handles_futures:
                body_scope = self.model.scope_of(node, scope)
                facts = analyze_function(self.model, node, flow, body_scope, self.module)
            self._flow_facts[key] = facts
        return self._flow_facts[key]

    def flows_of(self, node: cst.FunctionDef) -> list[Flow]:
        """Every flow object made from `node`: the decorated function itself and module-level
        copies such as `fast = etl.with_options(task_runner=ProcessPoolTaskRunner())`."""
        value = self.model.value_of_def(node, self.scope(node))
        flows = [value] if isinstance(value, Flow) else []
        if self._flow_copies is None:
            self._flow_copies = {}
            scope = self.model.module_scope
            for bindings in scope.bindings.values():
                for binding in bindings:
                    expr = getattr(binding, "value", None)
                    if not (
                        isinstance(expr, cst.Call)
                        and isinstance(expr.func, cst.Attribute)
                        and expr.func.attr.value == "with_options"
                    ):
                        continue
                    copy = self.model.evaluate(expr, scope)
                    if isinstance(copy, Flow) and copy.node is not None:
                        self._flow_copies.setdefault(id(copy.node), []).append(copy)
        return flows + self._flow_copies.get(id(node), [])

    def statement_for(self, function: cst.FunctionDef) -> cst.CSTNode:
        """The module-level statement holding `function`, when visiting or leaving it."""
        return self.ancestors[1] if len(self.ancestors) > 1 else function

    def statement_of(self, node: cst.CSTNode) -> cst.CSTNode:
        """The module-level statement holding `node`: the node being visited or left, or
        one inside it. In `leave_Module` (or later) no statement is being walked: keep the
        answer from the visit of the node and pass it to `report` then."""
        if len(self.ancestors) > 1:
            return self.ancestors[1]
        current = self.walker.current if self.walker is not None else None
        return current if current is not None else node

    def report(
        self,
        meta: RuleMeta,
        node: cst.CSTNode,
        message: str,
        fix: CstFix | None,
        statement: cst.CSTNode | None = None,
        *,
        versions: VersionRange | None = None,
    ) -> None:
        # The one place that enforces the Prefect versions a claim (and its fix) is true for.
        version = self.target.prefect_version
        if version not in meta.versions or (versions is not None and version not in versions):
            return
        if fix is not None and version not in meta.effective_fix_versions:
            fix = None
        statement = statement if statement is not None else self.statement_of(node)
        self.reports.append(Report(meta, node, message, fix, statement))
