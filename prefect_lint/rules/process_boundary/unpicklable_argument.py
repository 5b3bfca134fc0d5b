"""PFL202 unpicklable-argument: a task given a value that cannot be pickled."""

from __future__ import annotations

from typing import TYPE_CHECKING

import libcst as cst

from prefect_lint.model import precheck
from prefect_lint.model.boundary import Unpicklable, unpicklable_value
from prefect_lint.model.module import ModuleModel
from prefect_lint.model.pickling import TABLE_PACKAGES, known_names
from prefect_lint.model.scopes import ImportBinding, Scope
from prefect_lint.model.values import Dotted, Flow
from prefect_lint.rules.base import Rule, RuleMeta
from prefect_lint.rules.process_boundary.shared import (
    NO_CACHE_FIX,
    TaskCall,
    flow_task_calls,
    no_cache_fix,
    process_flow,
    runner_switch,
)
from prefect_lint.versions import PREFECT_3, VersionRange, since

if TYPE_CHECKING:
    from prefect_lint.engine.context import RuleContext

_NO_CACHE_VERSIONS = since("3.2")
_UNMAPPED = frozenset({"prefect.unmapped", "prefect.utilities.annotations.unmapped"})
# Keywords of `submit` / `map` / a task call that are Prefect's, not the task's.
_PREFECT_KEYWORDS = frozenset({"wait_for", "return_state", "dependencies"})


class UnpicklableArgument(Rule):
    """a task is given a value that cannot be pickled

    ## What it does
    Checks flows for tasks given an object cloudpickle cannot serialize (a lock, a socket, a
    database connection, a file opened for writing or in binary mode, an HTTP client, ...)
    created in the flow or at module level:

    - submitted or mapped from a flow on a process-based task runner (`ProcessPoolTaskRunner`,
      `prefect_dask.DaskTaskRunner`, `prefect_ray.RayTaskRunner`);
    - on any runner, passed to a task that uses the default cache policy.

    ## Why is this bad?
    A process-based runner cloudpickles every parameter in the flow's process before the task
    can start. Pickling fails there, so no task run is ever created, and `.result()` or
    `.wait()` raises the error, for example `TypeError: cannot pickle '_thread.lock' object`.

    On any runner, the default cache policy hashes a task's inputs before it runs. It cannot
    hash such an object, so every run logs `Error encountered when computing cache key - result
    will not be persisted.` at ERROR level with a traceback (`ValueError: Unable to create hash
    - objects could not be serialized`). The task still runs, but the log is alarming and the
    result is never cached.

    ## Example
    ```python
    import threading

    from prefect import flow, task

    LOCK = threading.Lock()


    @task
    def append_line(lock: threading.Lock, path: str, line: str) -> None:
        with lock, open(path, "a") as handle:
            handle.write(line + "\\n")


    @flow
    def journal(path: str) -> None:
        append_line(LOCK, path, "started")
    ```

    ## Use instead
    ```python
    import threading

    from prefect import flow, task
    from prefect.cache_policies import NO_CACHE

    # ... (the rest as in the Example)


    @task(cache_policy=NO_CACHE)
    def append_line(lock: threading.Lock, path: str, line: str) -> None:
        with lock, open(path, "a") as handle:
            handle.write(line + "\\n")
    ```

    Under a process-based runner, create the object inside the task instead of passing it.

    ## Fix safety
    For the cache case the fix adds `cache_policy=NO_CACHE` to the task's decorator (importing
    it from `prefect.cache_policies`). It is safe: such inputs could never be hashed, so the task
    was never cached. Under a process-based runner the fix switches the flow to
    `ThreadPoolTaskRunner` with the same `max_workers`; that one is unsafe (CPU-bound tasks stop
    running in parallel) and is offered only when the flow's own decorator creates a
    `ProcessPoolTaskRunner` with at most `max_workers`.

    ## Versions
    Prefect 2 tasks compute no cache key by default (2.20.17: a `sqlite3` connection passed to a
    task on the `ConcurrentTaskRunner` runs and nothing is logged; `prefect.cache_policies` does
    not exist), and its process-based runners were not checked: the rule is silent on 2.x
    targets. The cache case is reported from 3.2 on: `NO_CACHE`, which its message and fix name,
    first shipped in 3.1.12 (earlier 3.x releases only have `NONE`).

    ## Prefect facts
    - process-runners-pickle-across
    - cloudpickle-table
    - default-cache-key-hashes-inputs
    - thread-pool-switch
    """

    meta = RuleMeta(versions=PREFECT_3, fix=NO_CACHE_FIX)
    trigger = precheck.unpicklable_trigger(known_names())

    def __init__(self, context: RuleContext) -> None:
        super().__init__(context)
        self._open_called = False
        self._module_imports_table: bool | None = None

    def visit_Call(self, node: cst.Call) -> None:
        if isinstance(node.func, cst.Name) and node.func.value == "open":
            self._open_called = True

    def _table_import_or_open_call(self) -> bool:
        """The gate in front of each flow's check: whether a module-level import binds a
        name from a package the pickling table knows (`import sqlite3`, `from threading
        import Lock`), or the walk has already visited a call of a bare `open(...)` (above
        the end of the flow being left).

        Narrower than `pickling.mentions_unpicklable_makers`, the text test of the module
        summaries, and it decides findings: an import inside a function, or an `open(...)`
        only below the flow, does not open it, so such an argument is not reported.
        tests/test_unpicklable_prechecks.py pins both sides; widening it would add findings."""
        if self._module_imports_table is None:
            self._module_imports_table = any(
                isinstance(binding, ImportBinding)
                and binding.dotted.lstrip(".").partition(".")[0] in TABLE_PACKAGES
                for bindings in self.context.model.module_scope.bindings.values()
                for binding in bindings
            )
        return self._module_imports_table or self._open_called

    def leave_FunctionDef(self, node: cst.FunctionDef) -> None:
        if not self._table_import_or_open_call():
            return
        flows = self.context.flows_of(node)
        if not flows:
            return
        model = self.context.model
        process = process_flow(self.context, node)
        body_scope = model.scope_of(node, self.context.scope(node))
        statement = self.context.statement_for(node)
        for task_call in flow_task_calls(self.context, node):
            for argument, found in _unpicklable_arguments(model, task_call, body_scope):
                self._check(node, task_call, argument, found, process, statement)

    def _check(
        self,
        function: cst.FunctionDef,
        task_call: TaskCall,
        argument: cst.BaseExpression,
        found: Unpicklable,
        process: tuple[Flow, str] | None,
        statement: cst.CSTNode,
    ) -> None:
        task = task_call.task
        name = task.name or "task"
        what = self.context.module.code_for_node(argument)
        kind = found.kind
        if process is not None and task_call.method is not None:
            flow, runner = process
            message = (
                f"`{what}` is {kind.description}, which cannot cross {runner}'s process "
                f"boundary: `{name}.{task_call.method}()` creates no task run and `.result()` "
                f"raises {kind.error}"
            )
            fix = runner_switch(self.context, function, flow)
            versions: VersionRange | None = None
        elif task.default_cache is True:
            message = (
                f"`{what}` is {kind.description}: the default cache policy of `{name}` cannot "
                "hash it, so every run logs an ERROR 'Error encountered when computing cache "
                "key'; set `cache_policy=NO_CACHE` on the task"
            )
            fix = no_cache_fix(self.context, task)
            # The message names `NO_CACHE`, which first shipped in 3.1.12.
            versions = _NO_CACHE_VERSIONS
        else:
            return
        self.report(argument, message, fix=fix, statement=statement, versions=versions)


def _unpicklable_arguments(
    model: ModuleModel, task_call: TaskCall, scope: Scope
) -> list[tuple[cst.BaseExpression, Unpicklable]]:
    found: list[tuple[cst.BaseExpression, Unpicklable]] = []
    for arg in task_call.call.args:
        if arg.star or (arg.keyword is not None and arg.keyword.value in _PREFECT_KEYWORDS):
            continue
        value = arg.value
        if task_call.method == "map":
            # Mapped arguments are iterables; only `unmapped(x)` hands `x` itself to each run.
            if not (isinstance(value, cst.Call) and _is_unmapped(model, value, scope)):
                continue
            if len(value.args) != 1:
                continue
            value = value.args[0].value
        unpicklable = unpicklable_value(model, value, scope)
        if unpicklable is not None:
            found.append((value, unpicklable))
    return found


def _is_unmapped(model: ModuleModel, call: cst.Call, scope: Scope) -> bool:
    callee = model.evaluate(call.func, scope)
    return isinstance(callee, Dotted) and callee.name in _UNMAPPED
