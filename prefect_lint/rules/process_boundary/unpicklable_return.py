"""PFL201 unpicklable-return: a task on a process-based runner returns what cannot be pickled."""

from __future__ import annotations

from typing import TYPE_CHECKING

import libcst as cst

from prefect_lint.model.boundary import unpicklable_return
from prefect_lint.model.values import Flow
from prefect_lint.rules.base import RuleMeta
from prefect_lint.versions import PREFECT_3

if TYPE_CHECKING:
    from prefect_lint.engine.context import RuleContext
from prefect_lint.rules.process_boundary.shared import (
    RUNNER_SWITCH,
    ProcessFlowRule,
    flow_task_calls,
    runner_switch,
)


class UnpicklableReturn(ProcessFlowRule):
    """a task on a process-based runner returns a value that cannot be pickled

    ## What it does
    Checks flows that run on a process-based task runner (`ProcessPoolTaskRunner`,
    `prefect_dask.DaskTaskRunner`, `prefect_ray.RayTaskRunner`) for tasks they submit or map that
    return an object cloudpickle cannot serialize: a lock, a socket, a database connection, a
    file opened for writing or in binary mode, an HTTP client, a boto3 client and the like. The
    task may live in another module of the project.

    ## Why is this bad?
    A process-based runner runs each task in another process and sends its final state, with
    the return value inside, back to the flow with cloudpickle. The task itself succeeds: its run
    is `Completed` in the UI and logs `Finished in state Completed()`. Then the flow's
    `.result()` (and `.wait()`) raises the pickling error, for example
    `TypeError: cannot pickle 'sqlite3.Connection' object`, and the value is lost.

    Lambdas, functions defined inside functions, tasks created inside functions, generators
    (Prefect turns them into lists), `subprocess.CompletedProcess` and files opened for reading
    in text mode all cross the boundary fine and are never reported.

    ## Example
    ```python
    import sqlite3

    from prefect import flow, task
    from prefect.task_runners import ProcessPoolTaskRunner


    @task
    def connect(path: str) -> sqlite3.Connection:
        return sqlite3.connect(path)


    @flow(task_runner=ProcessPoolTaskRunner(max_workers=2))
    def load(path: str) -> None:
        connection = connect.submit(path).result()
        connection.execute("select 1")
    ```

    ## Use instead
    ```python
    import sqlite3

    from prefect import flow, task
    from prefect.task_runners import ThreadPoolTaskRunner

    # ... (the rest as in the Example)


    @flow(task_runner=ThreadPoolTaskRunner(max_workers=2))
    def load(path: str) -> None:
        connection = connect.submit(path).result()
        connection.execute("select 1")
    ```

    Better still, keep such objects inside one task: open the connection, use it and close it
    there, and return plain data.

    ## Fix safety
    The fix switches the flow to `ThreadPoolTaskRunner` with the same `max_workers`. It is
    unsafe: the tasks then share one process, so CPU-bound work no longer runs in parallel. It
    is offered only when the flow's own decorator creates the `ProcessPoolTaskRunner` with at
    most `max_workers`; Dask and Ray clusters are never switched.

    ## Versions
    `ProcessPoolTaskRunner` first shipped in 3.4.14; on 2.20.17 importing it raises
    `ImportError`. Dask and Ray runners on Prefect 2 were not checked, so the rule is silent on
    2.x targets. The fix's `ThreadPoolTaskRunner` exists from 3.0.0 on.

    ## Prefect facts
    - process-runners-pickle-across
    - cloudpickle-table
    - thread-pool-switch
    """

    meta = RuleMeta(versions=PREFECT_3, fix=RUNNER_SWITCH)

    def __init__(self, context: RuleContext) -> None:
        super().__init__(context)
        self._reported: set[int] = set()

    def check_flow(self, node: cst.FunctionDef, flow: Flow, runner: str) -> None:
        model = self.context.model
        top_level = {id(statement) for statement in self.context.module.body}
        fix = runner_switch(self.context, node, flow)
        for task_call in flow_task_calls(self.context, node):
            if task_call.method is None:
                continue  # a direct call runs in the flow's own process
            task = task_call.task
            name = task.name or "task"
            returned = unpicklable_return(model, task, model.module_scope)
            if returned is not None and task.node is not None and id(task.node) in top_level:
                # Defined here: reported once, at the return that hands the object back.
                if id(task.node) in self._reported:
                    continue
                self._reported.add(id(task.node))
                kind = returned[1].kind
                message = (
                    f"task `{name}` returns {kind.description}, which cannot cross {runner}'s "
                    f"process boundary (`{name}.{task_call.method}()` in flow "
                    f"`{node.name.value}`): the task run ends Completed but `.result()` raises "
                    f"{kind.error}"
                )
                self.report(returned[0], message, fix=fix, statement=task.node)
                continue
            summarized = task.unpicklable_return
            if summarized is None:
                continue
            kind = summarized
            message = (
                f"task `{name}` returns {kind.description}, which cannot cross {runner}'s "
                f"process boundary: the task run ends Completed but `.result()` raises "
                f"{kind.error}"
            )
            self.report(
                task_call.call.func, message, fix=fix, statement=self.context.statement_for(node)
            )
