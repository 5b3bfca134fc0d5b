"""The process boundary: which flows run tasks in other processes,
and which values cannot be cloudpickled across it.

Only values whose origin is certain count: a call the pickling table knows, reached directly
or through one plain assignment (`conn = sqlite3.connect(...)` then `t.submit(conn)`).
Parameters, attributes, containers and anything assigned twice stay unknown, so silent.

The facts: docs/prefect-semantics.md#process-runners-pickle-across,
docs/prefect-semantics.md#flow-pickled-with-its-globals and
docs/prefect-semantics.md#spawn-reimports-the-script.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import libcst as cst

from prefect_lint.engine.walker import child_nodes
from prefect_lint.model import api
from prefect_lint.model.module import ModuleModel, keyword_arg
from prefect_lint.model.pickling import ENTERS_AS_ITSELF, UnpicklableKind, unpicklable_cst_call
from prefect_lint.model.scopes import AssignBinding, Binding, EnteredBinding, Scope
from prefect_lint.model.values import Dotted, Flow, Runner, Task

# Runners that cloudpickle every task's parameters, result and the flow (§6).
_PROCESS_RUNNERS = frozenset({api.PROCESS_POOL_RUNNER, api.DASK_RUNNER, api.RAY_RUNNER})
# Runners whose workers are started with `spawn`, re-importing the script that runs the flow.
_SPAWNING_RUNNERS = frozenset({api.PROCESS_POOL_RUNNER, api.DASK_RUNNER})
_RUNNER_LABELS = {
    api.PROCESS_POOL_RUNNER: "ProcessPoolTaskRunner",
    api.DASK_RUNNER: "DaskTaskRunner",
    api.RAY_RUNNER: "RayTaskRunner",
}
# Code that runs in its own scope, later: walks of "this function's code" stop there.
NESTED_SCOPES = (cst.FunctionDef, cst.ClassDef, cst.Lambda)
# Statement containers whose children may hold a `return`.
_BLOCKS = (
    cst.BaseSuite,
    cst.ExceptHandler,
    cst.ExceptStarHandler,
    cst.Else,
    cst.Finally,
    cst.MatchCase,
)


@dataclass(frozen=True)
class Unpicklable:
    """A value known to refuse cloudpickle: what it is and the call that built it."""

    kind: UnpicklableKind
    call: cst.Call


def process_runner(flow: Flow) -> str | None:
    """The label of `flow`'s task runner if it ships tasks to other processes."""
    runner = flow.task_runner
    if runner is None or runner.name not in _PROCESS_RUNNERS:
        return None
    if runner.name == api.DASK_RUNNER and _dask_uses_threads(runner):
        return None
    return _RUNNER_LABELS[runner.name]


def spawns_processes(flow: Flow) -> bool:
    runner = flow.task_runner
    return (
        process_runner(flow) is not None and runner is not None and runner.name in _SPAWNING_RUNNERS
    )


def _dask_uses_threads(runner: Runner) -> bool:
    """`DaskTaskRunner(cluster_kwargs={"processes": False})`: workers are threads."""
    if runner.call is None:
        return False
    kwargs = keyword_arg(runner.call, "cluster_kwargs")
    if kwargs is None or not isinstance(kwargs.value, cst.Dict):
        return False
    for element in kwargs.value.elements:
        if (
            isinstance(element, cst.DictElement)
            and isinstance(element.key, cst.SimpleString)
            and element.key.evaluated_value == "processes"
            and isinstance(element.value, cst.Name)
            and element.value.value == "False"
        ):
            return True
    return False


def unpicklable_value(
    model: ModuleModel, expr: cst.BaseExpression, scope: Scope, *, depth: int = 3
) -> Unpicklable | None:
    """What `expr` is, if it is certainly built by a call that cloudpickle refuses."""
    if isinstance(expr, cst.Call):
        name = _callee_name(model, expr.func, scope)
        if name is None:
            return None
        kind = unpicklable_cst_call(name, expr)
        return Unpicklable(kind, expr) if kind is not None else None
    if isinstance(expr, cst.Name) and depth > 0:
        binding = _single_binding(model, expr.value, scope)
        found = None
        if isinstance(binding, tuple) and isinstance(binding[0], AssignBinding):
            found = unpicklable_value(model, binding[0].value, binding[1], depth=depth - 1)
        elif isinstance(binding, tuple) and isinstance(binding[0], EnteredBinding):
            # `with open(path, "rb") as fh`: the name holds what `__enter__` returned, which
            # is the object itself only for the calls listed (a lock's is `True`).
            entered = binding[0].value
            if isinstance(entered, cst.Call):
                name = _callee_name(model, entered.func, binding[1])
                if name in ENTERS_AS_ITSELF:
                    found = unpicklable_value(model, entered, binding[1], depth=depth - 1)
        # A `:=` anywhere may rebind the name where scopes cannot see (checked last:
        # finding walruses walks the whole module).
        if found is not None and expr.value not in model.walrus_names:
            return found
    return None


def _callee_name(model: ModuleModel, func: cst.BaseExpression, scope: Scope) -> str | None:
    if isinstance(func, cst.Name) and not model.is_bound(func.value, scope):
        return f"builtins.{func.value}"  # `open(...)`
    value = model.evaluate(func, scope)
    return value.name if isinstance(value, Dotted) else None


def single_assignment(
    model: ModuleModel, name: str, scope: Scope
) -> tuple[cst.BaseExpression, Scope] | None:
    """The one expression `name` is ever assigned, and its scope; None if not that simple."""
    found = _single_binding(model, name, scope)
    if found is not None and isinstance(found[0], AssignBinding):
        return found[0].value, found[1]
    return None


def _single_binding(model: ModuleModel, name: str, scope: Scope) -> tuple[Binding, Scope] | None:
    """The one binding of `name` (in the scope Python would look it up in), or None."""
    current: Scope | None = scope
    while current is not None:
        if current is not scope and current.is_class:
            current = current.parent
            continue
        if name in current.global_names or name in current.nonlocal_names:
            return None
        bindings = current.bindings.get(name)
        if bindings is not None:
            return (bindings[0], current) if len(bindings) == 1 else None
        if current.has_star_import:
            return None
        current = current.parent
    return None


def body_nodes(function: cst.FunctionDef) -> Iterator[cst.CSTNode]:
    """Every node of `function`'s own body: nested functions, classes and lambdas excluded."""
    return own_nodes(function.body)


def own_nodes(root: cst.CSTNode) -> Iterator[cst.CSTNode]:
    """`root` and the nodes under it in source order, not entering nested scopes."""
    stack: list[cst.CSTNode] = [root]
    while stack:
        node = stack.pop()
        yield node
        stack.extend(
            child for child in reversed(child_nodes(node)) if not isinstance(child, NESTED_SCOPES)
        )


def unpicklable_return(
    model: ModuleModel, task: Task, scope: Scope
) -> tuple[cst.Return, Unpicklable] | None:
    """The first `return` of `task` (defined in this module) that hands back an unpicklable."""
    if task.node is None:
        return None
    body_scope: Scope | None = None
    for node in returns_of(task.node):
        if node.value is not None:
            body_scope = body_scope or model.scope_of(task.node, scope)
            found = unpicklable_value(model, node.value, body_scope)
            if found is not None:
                return node, found
    return None


def returns_of(function: cst.FunctionDef) -> Iterator[cst.Return]:
    """The `return` statements of `function` itself, in source order. Only statements are
    walked (a return cannot hide in an expression), which keeps this cheap for every task."""
    stack: list[cst.CSTNode] = [function.body]
    while stack:
        node = stack.pop()
        if isinstance(node, cst.Return):
            yield node
        elif isinstance(node, (cst.SimpleStatementLine, cst.SimpleStatementSuite)):
            stack.extend(reversed([s for s in node.body if isinstance(s, cst.Return)]))
        elif isinstance(node, cst.BaseCompoundStatement) and not isinstance(node, NESTED_SCOPES):
            stack.extend(
                reversed([c for c in child_nodes(node) if not isinstance(c, cst.BaseExpression)])
            )
        elif isinstance(node, _BLOCKS):
            stack.extend(reversed(child_nodes(node)))
