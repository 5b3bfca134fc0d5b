"""What the PFL2xx rules share: the task calls in a flow, their two fixes (the runner switch
of PFL201-PFL203, `cache_policy=NO_CACHE` of PFL202 and PFL205), and the base of the rules
that judge each flow on a process-based runner (PFL201, PFL203)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

import libcst as cst

from prefect_lint.diagnostics import Applicability
from prefect_lint.fixes.calls import with_keyword
from prefect_lint.model import api, precheck
from prefect_lint.model.boundary import process_runner
from prefect_lint.model.module import ModuleModel, keyword_arg, positional_args, reference_to
from prefect_lint.model.scopes import Scope
from prefect_lint.model.values import Dotted, Flow, Task
from prefect_lint.rules.base import CstFix, FixMeta, ImportRequest, Rule
from prefect_lint.tree import body_nodes

if TYPE_CHECKING:
    from prefect_lint.engine.context import RuleContext

RUNNER_SWITCH = FixMeta(
    title="Switch the flow to `ThreadPoolTaskRunner` (same `max_workers`)",
    safety=Applicability.UNSAFE,
)
NO_CACHE_FIX = FixMeta(
    title="Turn off input caching for the task: `cache_policy=NO_CACHE`",
    safety=Applicability.SAFE,
)


@dataclass(frozen=True)
class TaskCall:
    """A task used in a flow's body: `t.submit(...)`, `t.map(...)` or `t(...)` (method None)."""

    call: cst.Call
    task: Task
    method: str | None


def flow_task_calls(context: RuleContext, function: cst.FunctionDef) -> list[TaskCall]:
    """`task_calls` of a function, computed once for all the PFL2xx rules."""
    key = ("task_calls", id(function))
    found = context.memo.get(key)
    if not isinstance(found, list):
        found = list(task_calls(context.model, function, context.scope(function)))
        context.memo[key] = found
    return found


def task_calls(model: ModuleModel, function: cst.FunctionDef, scope: Scope) -> Iterator[TaskCall]:
    body_scope = model.scope_of(function, scope)
    for node in body_nodes(function):
        if not isinstance(node, cst.Call):
            continue
        func = node.func
        if isinstance(func, cst.Attribute) and func.attr.value in ("submit", "map"):
            owner = model.evaluate(func.value, body_scope)
            if isinstance(owner, Task):
                yield TaskCall(node, owner, func.attr.value)
        elif _may_be_task(model, func, body_scope):
            value = model.evaluate(func, body_scope)
            if isinstance(value, Task):
                yield TaskCall(node, value, None)


def _may_be_task(model: ModuleModel, func: cst.BaseExpression, scope: Scope) -> bool:
    """Cheap test before resolving a direct call: `print(...)`, `len(...)` and other
    builtins never name a task, and they are most calls."""
    root = func
    while isinstance(root, cst.Attribute):
        root = root.value
    return isinstance(root, cst.Name) and model.is_bound(root.value, scope)


def process_flow(context: RuleContext, function: cst.FunctionDef) -> tuple[Flow, str] | None:
    """The flow object made from `function` that runs on a process-based runner, and the
    runner's name; the decorated flow first, then `.with_options(...)` copies."""
    for flow in context.flows_of(function):
        runner = process_runner(flow)
        if runner is not None:
            return flow, runner
    return None


class ProcessFlowRule(Rule):
    """A rule that judges each flow running on a process-based runner (ProcessPool, Dask, Ray)
    when the walk leaves its definition; its fix is the runner switch (`runner_switch`)."""

    trigger = precheck.PROCESS_FLOW_HERE

    def leave_FunctionDef(self, node: cst.FunctionDef) -> None:
        found = process_flow(self.context, node)
        if found is not None:
            flow, runner = found
            self.check_flow(node, flow, runner)

    def check_flow(self, node: cst.FunctionDef, flow: Flow, runner: str) -> None:
        """Report what crosses `runner`'s process boundary in the flow `node` defines."""
        raise NotImplementedError


def runner_switch(context: RuleContext, function: cst.FunctionDef, flow: Flow) -> CstFix | None:
    """`@flow(task_runner=ProcessPoolTaskRunner(max_workers=4))` -> `ThreadPoolTaskRunner(...)`.

    Only for a ProcessPoolTaskRunner written in this flow's own decorator with nothing but
    `max_workers` (ThreadPoolTaskRunner takes no other argument); Dask and Ray clusters are
    not switched mechanically.
    """
    runner = flow.task_runner
    if runner is None or runner.name != api.PROCESS_POOL_RUNNER or runner.call is None:
        return None
    written_here = any(
        isinstance(decorator.decorator, cst.Call)
        and (argument := keyword_arg(decorator.decorator, "task_runner")) is not None
        and argument.value is runner.call
        for decorator in function.decorators
    )
    if not written_here:
        return None
    call = runner.call
    if len(positional_args(call)) > 1 or any(
        arg.star or (arg.keyword is not None and arg.keyword.value != "max_workers")
        for arg in call.args
    ):
        return None
    module, _, name = api.THREAD_POOL_RUNNER.rpartition(".")
    if isinstance(call.func, cst.Attribute):
        # `prefect.task_runners.ProcessPoolTaskRunner(...)`: the same module path serves.
        return RUNNER_SWITCH.build({call.func.attr: cst.Name(name)})
    reference = reference_to(context.model, api.THREAD_POOL_RUNNER, context.model.module_scope)
    if reference is None:
        return None
    text, needs_import = reference
    return RUNNER_SWITCH.build(
        {call.func: cst.parse_expression(text)},
        [ImportRequest(module, name)] if needs_import else (),
        unused_imports=[ImportRequest(module, "ProcessPoolTaskRunner")],
    )


def is_main_guard(statement: cst.If) -> bool:
    test = statement.test
    if not (isinstance(test, cst.Comparison) and len(test.comparisons) == 1):
        return False
    comparison = test.comparisons[0]
    if not isinstance(comparison.operator, cst.Equal):
        return False
    sides = [test.left, comparison.comparator]
    names = [s for s in sides if isinstance(s, cst.Name) and s.value == "__name__"]
    strings = [
        s for s in sides if isinstance(s, cst.SimpleString) and s.evaluated_value == "__main__"
    ]
    return len(names) == 1 and len(strings) == 1


NO_CACHE = "prefect.cache_policies.NO_CACHE"


def no_cache_fix(context: RuleContext, task: Task) -> CstFix | None:
    """`@task` -> `@task(cache_policy=NO_CACHE)`; `@task(...)` gains the keyword."""
    if task.node is None:
        return None
    model = context.model
    scope = model.module_scope
    decorator = _task_decorator(model, task.node, scope)
    if decorator is None:
        return None
    reference = reference_to(model, NO_CACHE, scope)
    if reference is None:
        return None
    text, needs_import = reference
    expression = decorator.decorator
    call = expression if isinstance(expression, cst.Call) else cst.Call(func=expression)
    new = with_keyword(call, "cache_policy", cst.parse_expression(text))
    module, _, name = NO_CACHE.rpartition(".")
    return NO_CACHE_FIX.build(
        {expression: new}, [ImportRequest(module, name)] if needs_import else ()
    )


def _task_decorator(
    model: ModuleModel, function: cst.FunctionDef, scope: Scope
) -> cst.Decorator | None:
    """The `@task` / `@task(...)` decorator of `function` that sets its options."""
    for decorator in function.decorators:
        expression = decorator.decorator
        target = expression.func if isinstance(expression, cst.Call) else expression
        value = model.evaluate(target, scope)
        if isinstance(value, Dotted) and value.name == api.TASK:
            if isinstance(expression, cst.Call) and (
                keyword_arg(expression, "cache_policy") is not None
                or any(arg.star for arg in expression.args)
            ):
                return None
            return decorator
    return None
