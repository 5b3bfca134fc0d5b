"""PFL107 async-task-direct-call: an async task called directly from a sync flow."""

from __future__ import annotations

import libcst as cst

from prefect_lint.diagnostics import Applicability
from prefect_lint.model import precheck
from prefect_lint.model.future_facts import DirectValue, returns_states
from prefect_lint.model.values import Task
from prefect_lint.rules.base import CstFix, FixMeta, RuleMeta
from prefect_lint.rules.futures.serial_result import LoopFacts, serializes
from prefect_lint.rules.futures.sync_flow import FunctionFactsRule, FunctionUnderCheck
from prefect_lint.versions import PREFECT_3


class AsyncTaskDirectCall(FunctionFactsRule):
    """an async task called from a sync flow returns a coroutine that never runs

    ## What it does
    Checks sync flows (`def`, not `async def`) for direct calls to tasks defined with
    `async def`.

    ## Why is this bad?
    Calling an async task returns a coroutine. A sync flow never awaits it, so the task never
    runs: no task run is created, nothing fails, and the flow ends `Completed` (Prefect's upgrade
    guide lists this among the 2-to-3 behaviour changes). Python may print "coroutine ... was
    never awaited" at garbage collection, far from the cause.

    `.submit()` works from a sync flow: the task runner runs the async task and returns a future.

    A coroutine handed to something that runs it (`asyncio.run(notify("ops"))`, an event loop's
    `run_until_complete`) does run, and is not flagged.

    ## Example
    ```python
    from prefect import flow, task


    @task
    async def notify(channel: str) -> None:
        print(channel)


    @flow
    def report() -> None:
        notify("ops")
    ```

    ## Use instead
    ```python
    # ... (the rest as in the Example)


    @flow
    def report() -> None:
        notify.submit("ops").result()
    ```

    ## Fix safety
    The fix is safe: it replaces the call with `.submit(...).result()`, so the task actually
    runs, the flow waits for it where the call was, and the expression's value is the task's
    return value (as the call looked like it would be), with a failure raised as the call would
    have raised it. A call with `return_state=True` becomes `.submit(..., return_state=True)`,
    which waits for the run and gives its State, a failed one included, as the call would
    have. What changes: the task now runs (before, nothing ran).

    No fix inside a loop or comprehension where waiting on each run would make them run one
    at a time (the rewrite would be a PFL103 finding; running them concurrently instead is not
    what the code says), nor when `return_state` is not a literal.

    ## Versions
    On Prefect 2 an async task called directly from a sync flow runs (2.20.17 logs
    "Executing '...' immediately", the task prints, and the flow returns its value), so the rule
    is silent on 2.x targets.

    ## Prefect facts
    - async-task-direct-call
    - return-state-is-a-state
    """

    meta = RuleMeta(
        versions=PREFECT_3,
        fix=FixMeta(
            title="Submit the task and wait for its value: `task.submit(...).result()`",
            safety=Applicability.SAFE,
        ),
    )
    trigger = precheck.ASYNC_TASK_DIRECT_CALL

    def check_function(self, function: FunctionUnderCheck) -> None:
        facts, statement = function.facts, function.statement
        if facts.flow is None or facts.flow.is_async is not False:
            return
        loop_facts: LoopFacts = {}  # each loop body walked once
        for direct in facts.direct_values:
            task = direct.callee
            if not isinstance(task, Task) or task.is_async is not True or direct.escaped:
                # Handed to something that may run it (`asyncio.run(task())`): not our case.
                continue
            call = direct.call
            name = task.name or self.context.module.code_for_node(call.func)
            callee = self.context.module.code_for_node(call.func)
            message = (
                f"async task `{name}` called from sync flow `{function.node.name.value}` returns a "
                f"coroutine that never runs: no task run, no error; use `{callee}.submit(...).result()`"
            )
            self.report(call, message, fix=self._fix(direct, loop_facts), statement=statement)

    def _fix(self, direct: DirectValue, loop_facts: LoopFacts) -> CstFix | None:
        """What the call was meant to return: the value (`.submit(...).result()`), or with
        `return_state=True` the State (`.submit(..., return_state=True)` waits and gives it)."""
        call = direct.call
        submitted = call.with_changes(func=cst.Attribute(value=call.func, attr=cst.Name("submit")))
        flag = returns_states(call)
        if flag is None:
            return None  # a flag we cannot read: the rewrite could give the wrong kind
        if flag:
            return self.fix({call: submitted})
        if direct.loops and serializes(direct.loops[-1], call, loop_facts):
            # `.result()` in the loop would run the tasks one at a time (PFL103): a safe fix
            # must not create a finding, and overlapping them is not what the code says.
            return None
        wrapped = cst.Call(func=cst.Attribute(value=submitted, attr=cst.Name("result")))
        return self.fix({call: wrapped})
