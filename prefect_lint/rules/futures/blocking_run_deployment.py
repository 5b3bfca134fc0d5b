"""PFL106 blocking-run-deployment: `run_deployment(...)` in a loop waits for each child run."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import libcst as cst

from prefect_lint.diagnostics import Applicability
from prefect_lint.fixes.calls import with_keyword
from prefect_lint.fixes.statements import InsertStatements
from prefect_lint.model import api, precheck
from prefect_lint.model.module import keyword_arg, positional_args, reference_to
from prefect_lint.model.scopes import ImportBinding, names_in
from prefect_lint.model.values import Dotted, Flow
from prefect_lint.rules.base import CstFix, FixMeta, ImportRequest, Rule, RuleMeta
from prefect_lint.versions import ALL_VERSIONS, since

if TYPE_CHECKING:
    from prefect_lint.engine.context import RuleContext

FLOW_RUN_FUTURE = "prefect.futures.PrefectFlowRunFuture"
_DEPLOYMENT_RUNNERS = frozenset({api.RUN_DEPLOYMENT, api.ARUN_DEPLOYMENT})
# `run_deployment(name, client, parameters, scheduled_time, flow_run_name, timeout, ...)`
_TIMEOUT_POSITION = 5
_LOOPS = (cst.For, cst.While)
_BLOCKS = (cst.If, cst.Else, cst.With, cst.Try, cst.TryStar, cst.ExceptHandler, cst.Finally)


@dataclass(frozen=True)
class _Shape:
    """Where a blocking call sits: its statement, loop and flow."""

    call: cst.Call
    kind: str  # "statement" (result discarded), "append" (collected), "comprehension"
    loop: cst.CSTNode
    function: cst.FunctionDef


class BlockingRunDeployment(Rule):
    """`run_deployment()` in a loop runs the deployments one at a time

    ## What it does
    Checks flows for `run_deployment(...)` called in a `for` loop or a list comprehension without
    `timeout=0`, when nothing in the loop uses the returned flow run: the call is a statement of
    its own, its result is appended to a list, or it is the element of the comprehension. In an
    `async def` flow the same holds for `await run_deployment(...)` and
    `await arun_deployment(...)`.

    ## Why is this bad?
    `run_deployment` waits for the flow run it starts: with the default `timeout=None` it polls
    the API every `poll_interval` (5 s) until the child run reaches a final state, and only then
    returns. A loop over it starts the second deployment only after the first has finished, so N
    child runs take the sum of their durations plus up to 5 s of polling each. Started with
    `timeout=0`, each call returns the scheduled `FlowRun` at once; the children then run side by
    side and the flow can wait on all of them together.

    Loops whose next run needs the previous one (the result is read in the loop, or passed to the
    next call) are sequential on purpose and are not reported, nor are calls gathered with
    `asyncio.gather` in an async flow, `while` loops, or calls with an explicit `timeout=0`.

    ## Example
    ```python
    from prefect import flow
    from prefect.deployments import run_deployment


    @flow
    def nightly(regions: list[str]) -> None:
        for region in regions:
            run_deployment("etl/regional", parameters={"region": region})
    ```

    ## Use instead
    ```python
    from prefect import flow
    from prefect.deployments import run_deployment
    from prefect.futures import PrefectFlowRunFuture, wait


    @flow
    def nightly(regions: list[str]) -> None:
        flow_runs = []
        for region in regions:
            flow_runs.append(run_deployment("etl/regional", parameters={"region": region}, timeout=0))
        wait([PrefectFlowRunFuture(flow_run_id=flow_run.id) for flow_run in flow_runs])
    ```

    `wait` returns when every child run has finished; read each one's final state with
    `PrefectFlowRunFuture(flow_run_id=...).state`.

    ## Fix safety
    The fix adds `timeout=0` to the call, collects the returned flow runs (in a new `flow_runs`
    list for a bare call, or in the list the loop already appends to, or the comprehension's
    target) and waits for them with `wait([PrefectFlowRunFuture(flow_run_id=...) ...])` after the
    loop, importing both from `prefect.futures`. A `timeout=` given to the call is carried into
    that wait (`wait([...], timeout=600)`): each run was waited for at most that long, and the
    runs, started together, still are; like `run_deployment`, `wait` returns without raising
    when the time is up and leaves the runs going. It is unsafe: the children now run at the
    same time (they may compete for resources or depend on each other's side effects), and the
    `FlowRun` objects in the list keep the `Scheduled` state they were created with. No fix is
    offered in async flows or for other shapes.

    ## Versions
    `run_deployment` waits for the run on Prefect 2 too (2.20.17: `timeout=None` by default; with
    `timeout=3` and no worker the call returned after 3 s with the run still Scheduled), so the
    rule reports on every target. The fix waits with `prefect.futures.PrefectFlowRunFuture`,
    which first shipped in 3.2.8 (2.20.17 has neither it nor `wait`), so it is offered from 3.3 on.

    ## Prefect facts
    - run-deployment-waits
    - flow-run-future
    """

    # `PrefectFlowRunFuture` first shipped in 3.2.8.
    meta = RuleMeta(
        versions=ALL_VERSIONS,
        fix=FixMeta(
            title="Start the runs with `timeout=0`, then wait for them together",
            safety=Applicability.UNSAFE,
            versions=since("3.3"),
        ),
    )
    trigger = precheck.names_trigger(
        "`run_deployment` / `arun_deployment` named", _DEPLOYMENT_RUNNERS.__contains__
    )

    def __init__(self, context: RuleContext) -> None:
        super().__init__(context)
        self._names: frozenset[str] | None = None

    def _may_name_runner(self, func: cst.BaseExpression) -> bool:
        """A cheap test before resolving: resolving every call of a file costs too much."""
        if isinstance(func, cst.Name):
            name = func.value
        elif isinstance(func, cst.Attribute):
            name = func.attr.value
        else:
            return False
        if self._names is None:
            aliases = {"run_deployment", "arun_deployment"}
            for bound, bindings in self.context.model.module_scope.bindings.items():
                if any(
                    isinstance(b, ImportBinding) and api.canonical(b.dotted) in _DEPLOYMENT_RUNNERS
                    for b in bindings
                ):
                    aliases.add(bound)
            self._names = frozenset(aliases)
        return name in self._names

    def visit_Call(self, node: cst.Call) -> None:
        if not self._may_name_runner(node.func):
            return
        callee = self.context.evaluate(node.func, node)
        if not isinstance(callee, Dotted) or callee.name not in _DEPLOYMENT_RUNNERS:
            return
        if not _blocks_until_done(node):
            return
        shape = _shape_of(node, self.context.ancestors)
        if shape is None or not self._in_flow(shape, awaited=_is_awaited(self.context.ancestors)):
            return
        if shape.kind == "append" and _reads_collection(shape, self.context.ancestors):
            return
        name = self.context.module.code_for_node(node.func)
        where = "comprehension" if shape.kind == "comprehension" else "loop"
        message = (
            f"`{name}()` in a {where} waits for each child flow run to finish (polling every "
            "5 s) before starting the next: the deployments run one at a time; start them with "
            "`timeout=0` and wait on the flow runs together"
        )
        fix = self._fix(shape) if not _is_awaited(self.context.ancestors) else None
        self.report(node, message, fix=fix)

    def _fix(self, shape: _Shape) -> CstFix | None:
        """Start every run with `timeout=0`, collect the flow runs, wait for them together."""
        model = self.context.model
        scope = self.context.scope(shape.call)
        started = with_keyword(shape.call, "timeout", cst.Integer("0"))
        ancestors = self.context.ancestors
        replace: dict[int, cst.CSTNode] = {id(shape.call): started}
        before: dict[int, list[cst.BaseSmallStatement]] = {}
        if shape.kind == "comprehension":
            # `runs = [run_deployment(...) for ...]`: wait right after the assignment.
            position = next(i for i, n in enumerate(ancestors) if n is shape.loop)
            assign, line = ancestors[position - 1], ancestors[position - 2]
            if not (
                isinstance(assign, cst.Assign)
                and len(assign.targets) == 1
                and isinstance(assign.targets[0].target, cst.Name)
                and isinstance(line, cst.SimpleStatementLine)
                and len(line.body) == 1
                and isinstance(ancestors[position - 3], cst.IndentedBlock)
            ):
                return None
            collection = assign.targets[0].target.value
            anchor: cst.CSTNode = line
        else:
            position = next(i for i, n in enumerate(ancestors) if n is shape.loop)
            if not isinstance(ancestors[position - 1], cst.IndentedBlock):
                return None
            anchor = shape.loop
            if shape.kind == "append":
                append = next(n for n in reversed(ancestors) if isinstance(n, cst.Call))
                collection = append.func.value.value  # type: ignore[attr-defined]
            else:
                collection = "flow_runs"
                body_scope = model.scope_of(shape.function, scope)
                if model.is_bound(collection, body_scope) or collection in model.walrus_names:
                    return None
                statement = next(n for n in reversed(ancestors) if isinstance(n, cst.Expr))
                replace[id(statement)] = cst.Expr(
                    cst.Call(
                        func=cst.Attribute(cst.Name(collection), cst.Name("append")),
                        args=[cst.Arg(started)],
                    )
                )
                del replace[id(shape.call)]
                before[id(shape.loop)] = [
                    cst.Assign([cst.AssignTarget(cst.Name(collection))], cst.List([]))
                ]
        imports: list[ImportRequest] = []
        names: list[str] = []
        for dotted in (FLOW_RUN_FUTURE, api.FUTURES_WAIT):
            reference = reference_to(model, dotted, scope)
            if reference is None or reference[0] == "flow_run":
                return None
            names.append(reference[0])
            if reference[1]:
                module, _, name = dotted.rpartition(".")
                imports.append(ImportRequest(module, name))
        future, wait = names
        waiting = cst.parse_expression(
            f"{wait}([{future}(flow_run_id=flow_run.id) for flow_run in {collection}])"
        )
        assert isinstance(waiting, cst.Call)
        timeout = keyword_arg(shape.call, "timeout")
        if timeout is not None and not (
            isinstance(timeout.value, cst.Name) and timeout.value.value == "None"
        ):
            # Each run was waited for at most `timeout` seconds; all of them, started together,
            # are now waited for at most that long (a literal: `_blocks_until_done`).
            waiting = with_keyword(waiting, "timeout", timeout.value)
        return self.fix(
            {},
            imports,
            transformer=InsertStatements(
                before=before,
                replace=replace,
                after={id(anchor): [cst.Expr(waiting)]},
            ),
        )

    def _in_flow(self, shape: _Shape, *, awaited: bool) -> bool:
        ancestors = self.context.ancestors
        position = next(i for i, n in enumerate(ancestors) if n is shape.function)
        scope = self.context.model.scope_at(list(ancestors[: position + 1]))
        flow = self.context.model.value_of_def(shape.function, scope)
        if not isinstance(flow, Flow) or flow.is_async is None:
            return False
        # In an async flow an unawaited call only makes a coroutine (gathered, say): it is
        # awaiting each one in turn that serializes the runs.
        return awaited == flow.is_async


def _blocks_until_done(call: cst.Call) -> bool:
    """False when the call returns at once (`timeout=0`) or when its timeout is unknown."""
    if any(arg.star for arg in call.args):
        return False
    if len(positional_args(call)) > _TIMEOUT_POSITION:
        return False
    timeout = keyword_arg(call, "timeout")
    if timeout is None:
        return True
    value = timeout.value
    if isinstance(value, cst.Name) and value.value == "None":
        return True
    if isinstance(value, (cst.Integer, cst.Float)):
        return float(value.evaluated_value) != 0
    return False  # a variable: it may well be 0


def _is_awaited(ancestors: Sequence[cst.CSTNode]) -> bool:
    return bool(ancestors) and isinstance(ancestors[-1], cst.Await)


def _shape_of(call: cst.Call, ancestors: Sequence[cst.CSTNode]) -> _Shape | None:
    index = len(ancestors) - 1
    expression: cst.CSTNode = call
    if index >= 0 and isinstance(ancestors[index], cst.Await):
        expression = ancestors[index]
        index -= 1
    if index < 0:
        return None
    parent = ancestors[index]
    if isinstance(parent, cst.ListComp) and parent.elt is expression:
        function = _enclosing_function(ancestors, index)
        return _Shape(call, "comprehension", parent, function) if function else None
    kind = "statement"
    if isinstance(parent, cst.Arg) and index >= 1:
        append = ancestors[index - 1]
        if not _is_append(append, parent):
            return None
        kind, index = "append", index - 2
        if index < 0 or not isinstance(ancestors[index], cst.Expr):
            return None
        parent = ancestors[index]
        expression = append
    if not (isinstance(parent, cst.Expr) and parent.value is expression):
        return None
    # Up through the statement's line and any if/with/try blocks to the loop around it.
    index -= 1
    while index >= 0 and isinstance(
        ancestors[index], (cst.SimpleStatementLine, cst.IndentedBlock, *_BLOCKS)
    ):
        index -= 1
    if index < 0 or not isinstance(ancestors[index], _LOOPS):
        return None
    loop = ancestors[index]
    if not isinstance(loop, cst.For) or ancestors[index + 1] is not loop.body:
        return None  # `while` loops poll or retry; the `else:` of a loop runs once
    function = _enclosing_function(ancestors, index)
    return _Shape(call, kind, loop, function) if function else None


def _is_append(node: cst.CSTNode, arg: cst.Arg) -> bool:
    return (
        isinstance(node, cst.Call)
        and isinstance(node.func, cst.Attribute)
        and node.func.attr.value == "append"
        and isinstance(node.func.value, cst.Name)
        and len(node.args) == 1
        and node.args[0] is arg
    )


def _enclosing_function(ancestors: Sequence[cst.CSTNode], index: int) -> cst.FunctionDef | None:
    """The function whose own body holds `ancestors[index]` (no nested def, class or lambda)."""
    for node in reversed(ancestors[:index]):
        if isinstance(node, cst.FunctionDef):
            return node
        if isinstance(node, (cst.ClassDef, cst.Lambda)):
            return None
    return None


def _reads_collection(shape: _Shape, ancestors: Sequence[cst.CSTNode]) -> bool:
    """`runs.append(run_deployment(..., parameters={"after": runs[-1].id}))` chains the runs."""
    append = next(n for n in reversed(ancestors) if isinstance(n, cst.Call) and n is not shape.call)
    collection = append.func.value.value  # type: ignore[attr-defined]
    return any(collection in names_in(arg) for arg in shape.call.args)
