"""PFL203 unpicklable-global: a script's flow reads a module global that cannot be pickled."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import libcst as cst

from prefect_lint.model.boundary import Unpicklable, unpicklable_value
from prefect_lint.model.module import ModuleModel
from prefect_lint.model.values import Flow
from prefect_lint.rules.base import CstFix, RuleMeta
from prefect_lint.tree import NESTED_SCOPES, child_nodes
from prefect_lint.versions import PREFECT_3

if TYPE_CHECKING:
    from prefect_lint.engine.context import RuleContext
from prefect_lint.rules.process_boundary.shared import (
    RUNNER_SWITCH,
    ProcessFlowRule,
    flow_task_calls,
    runner_switch,
)


class UnpicklableGlobal(ProcessFlowRule):
    """a process-runner flow or task reads a module global that cannot be pickled

    ## What it does
    Checks flows on a process-based task runner (`ProcessPoolTaskRunner`,
    `prefect_dask.DaskTaskRunner`, `prefect_ray.RayTaskRunner`) that submit or map tasks, and the
    tasks they submit, for module-level globals that hold an object cloudpickle cannot
    serialize, such as a lock, a socket or a database connection.

    ## Why is this bad?
    With every submit, a process-based runner cloudpickles the task and the flow object along
    with the parameters. The module attribute `my_flow` is the `Flow` object, not the function
    it wraps, so cloudpickle cannot refer to the function by name and copies it by value,
    together with every module global its body uses; the same holds for tasks. One unpicklable
    global makes every submit fail before a task run exists: `.result()` raises, for example,
    `TypeError: cannot pickle '_thread.lock' object`. The same flow without that reference works.
    A local variable of the same name is not a global and is fine.

    ## Example
    ```python
    import threading

    from prefect import flow, task
    from prefect.task_runners import ProcessPoolTaskRunner

    LOCK = threading.Lock()


    @task
    def square(n: int) -> int:
        return n * n


    @flow(task_runner=ProcessPoolTaskRunner(max_workers=2))
    def squares() -> list[int]:
        with LOCK:
            futures = square.map(range(4))
        return futures.result()


    if __name__ == "__main__":
        squares()
    ```

    ## Use instead
    ```python
    import threading

    from prefect import flow, task
    from prefect.task_runners import ThreadPoolTaskRunner

    # ... (the rest as in the Example)


    @flow(task_runner=ThreadPoolTaskRunner(max_workers=2))
    def squares() -> list[int]:
        with LOCK:
            futures = square.map(range(4))
        return futures.result()
    ```

    Or keep the process pool and create the object where it is used, inside the flow or a task.

    ## Fix safety
    The fix switches the flow to `ThreadPoolTaskRunner` with the same `max_workers`. It is
    unsafe: CPU-bound tasks no longer run in parallel. It is offered only when the flow's own
    decorator creates the `ProcessPoolTaskRunner` with at most `max_workers`.

    ## Versions
    `ProcessPoolTaskRunner` first shipped in 3.4.14; on 2.20.17 importing it raises
    `ImportError`. Dask and Ray runners on Prefect 2 were not checked, so the rule is silent on
    2.x targets. The fix's `ThreadPoolTaskRunner` exists from 3.0.0 on.

    ## Prefect facts
    - flow-pickled-with-its-globals
    - cloudpickle-table
    - thread-pool-switch
    """

    meta = RuleMeta(versions=PREFECT_3, fix=RUNNER_SWITCH)

    def __init__(self, context: RuleContext) -> None:
        super().__init__(context)
        self._reported: set[tuple[int, str]] = set()

    def check_flow(self, node: cst.FunctionDef, flow: Flow, runner: str) -> None:
        submitted = [call for call in flow_task_calls(self.context, node) if call.method]
        if not submitted:
            return  # nothing is submitted, so nothing is pickled
        fix = runner_switch(self.context, node, flow)
        self._check(
            node, f"flow `{node.name.value}`", runner, fix, self.context.statement_for(node)
        )
        top_level = {id(statement) for statement in self.context.module.body}
        for call in submitted:
            task = call.task.node
            if task is not None and id(task) in top_level:
                self._check(task, f"task `{task.name.value}`", runner, fix, task)

    def _check(
        self,
        function: cst.FunctionDef,
        what: str,
        runner: str,
        fix: CstFix | None,
        statement: cst.CSTNode,
    ) -> None:
        model = self.context.model
        body_scope = model.scope_of(function, model.module_scope)
        for name in _read_names(function):
            key = (id(function), name.value)
            if key in self._reported or name.value in body_scope.bindings:
                continue
            value = _global_value(model, name.value)
            if value is None:
                continue
            self._reported.add(key)
            kind = value.kind
            message = (
                f"{what} reads global `{name.value}`, {kind.description}: {runner} pickles "
                f"the function with the globals it uses on every submit, which fails with "
                f"{kind.error} before any task run exists"
            )
            self.report(name, message, fix=fix, statement=statement)


def _global_value(model: ModuleModel, name: str) -> Unpicklable | None:
    scope = model.module_scope
    if name not in scope.bindings:
        return None
    return unpicklable_value(model, cst.Name(name), scope)


def _read_names(function: cst.FunctionDef) -> Iterator[cst.Name]:
    """Names the body reads, in source order (attribute names and keywords are not reads)."""
    stack: list[cst.CSTNode] = [function.body]
    while stack:
        node = stack.pop()
        if isinstance(node, cst.Name):
            yield node
            continue
        if isinstance(node, NESTED_SCOPES):
            continue
        if isinstance(node, cst.Attribute):
            children: list[cst.CSTNode] = [node.value]
        elif isinstance(node, cst.Arg):
            children = [node.value]
        else:
            children = child_nodes(node)
        stack.extend(reversed(children))
