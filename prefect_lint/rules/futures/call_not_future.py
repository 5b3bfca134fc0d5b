"""PFL104 call-not-future: the value of a direct task/flow call used as if it were a future."""

from __future__ import annotations

import libcst as cst

from prefect_lint.diagnostics import Applicability
from prefect_lint.model.future_facts import DirectValue
from prefect_lint.model.module import keyword_arg
from prefect_lint.model.values import Flow
from prefect_lint.rules.base import CstFix, FixMeta, RuleMeta
from prefect_lint.rules.futures.serial_result import LoopFacts, serializes
from prefect_lint.rules.futures.sync_flow import FunctionFactsRule, FunctionUnderCheck
from prefect_lint.tree import body_nodes
from prefect_lint.versions import ALL_VERSIONS


class CallNotFuture(FunctionFactsRule):
    """a direct task call already ran and returned its value, not a future

    ## What it does
    Checks for the value of a task *called directly* (`t(x)`) that is then used as a future:
    `.result()`, `.wait()`, `.state`, or passed to `wait([...])` / `as_completed([...])`.

    ## Why is this bad?
    Calling a task runs it right away, in the flow's thread, and returns its return value. So the
    "concurrent" calls ran one after another, and `.result()` on the value raises
    `AttributeError: 'int' object has no attribute 'result'` (or whatever the task returned).
    `.submit()` is what returns a future.

    A child flow called directly (`child(p)`) is the same: it runs to the end and returns its
    value. `as_completed([child(p) for p in parts])` runs the children one after another, then
    fails the parent with `AttributeError: 'int' object has no attribute '_final_state'`
    (`TypeError: unhashable type: 'dict'` for a dict). To run child flows concurrently, run each
    through a task, as PFL101's docs show: `task(child).submit(p)`.

    Calls with `return_state=True` return a `State`, which has `.result()`, and are not flagged.
    Nor is `.result()` on a direct flow call when the flow may return futures or states: Prefect
    hands the caller `State` objects then, which do have `.result()`. Async flows are left out.

    ## Example
    ```python
    from prefect import flow, task


    @task
    def fetch(n: int) -> int:
        return n


    @flow
    def pipeline(n: int) -> int:
        first = fetch(n)
        second = fetch(n + 1)
        return first.result() + second.result()
    ```

    ## Use instead
    ```python
    # ... (the rest as in the Example)


    @flow
    def pipeline(n: int) -> int:
        first = fetch.submit(n)
        second = fetch.submit(n + 1)
        return first.result() + second.result()
    ```

    ## Fix safety
    The fix turns the call into `.submit(...)` when every use of the value is a future use (so
    nothing else starts receiving a future), for tasks only, and not inside a loop or
    comprehension where waiting on each new future would run the tasks one at a time (that
    rewrite would be a PFL103 finding). It is safe: the code could not run
    before. What changes: the task runs in the task runner, so several such calls now overlap,
    and a failure is raised where the value is waited for rather than at the call. For a
    direct flow call there is no fix (flows have no `.submit()`); the message says what to do.

    ## Versions
    The same holds on Prefect 2 in sync flows (2.20.17: the flow fails with `AttributeError:
    'int' object has no attribute 'result'`; after the fix it returns the values). In an async
    flow, or a helper outside a flow, 2.x differs (2.20.17: an async task's `.submit()` and its
    future's `.result()` return coroutines to await), so there the rule reports for 3.x targets
    only.

    ## Prefect facts
    - direct-call-runs-inline
    - return-state-is-a-state
    - subflow-in-a-task
    - changed-calls
    """

    meta = RuleMeta(
        versions=ALL_VERSIONS,
        fix=FixMeta(title="Submit the task: `task.submit(...)`", safety=Applicability.SAFE),
    )

    def check_function(self, function: FunctionUnderCheck) -> None:
        statement, versions = function.statement, function.versions
        loop_facts: LoopFacts = {}  # each loop body walked once
        for direct in function.facts.direct_values:
            if not direct.future_uses:
                continue
            if isinstance(direct.callee, Flow):
                self._report_flow(direct, statement)
                continue
            fix = self._fix(direct, loop_facts)
            for use in direct.future_uses:
                message = (
                    f"`{direct.callee_text}(...)` is a direct task call: it already ran and "
                    f"returned its value, which has no {_what(use)}; "
                    f"use `{direct.callee_text}.submit(...)` for a future"
                )
                self.report(use, message, fix=fix, statement=statement, versions=versions)

    def _report_flow(self, direct: DirectValue, statement: cst.CSTNode) -> None:
        flow = direct.callee
        assert isinstance(flow, Flow)
        if flow.is_async is not False:
            return  # an async flow called directly gives a coroutine, another story
        returns_states = _may_return_states(flow)
        # Passed to `wait(...)` / `as_completed(...)`: that call fails first, whatever the
        # flow returned; uses further on never run, and are not reported as well.
        waited = direct.call in direct.future_uses
        for use in direct.future_uses:
            if waited and use is not direct.call:
                continue
            if returns_states and not waited:
                continue  # the caller may get a State, which has `.result()` and `.state`
            what = "future to wait on" if waited else _what(use)
            message = (
                f"`{direct.callee_text}(...)` is a direct flow call: the child flow already ran "
                f"to the end and returned its value, which has no {what}; run it through a "
                f"task to get a future: `task({direct.callee_text}).submit(...)` (see PFL101)"
            )
            self.report(use, message, statement=statement)

    def _fix(self, direct: DirectValue, loop_facts: LoopFacts) -> CstFix | None:
        if direct.other_uses:
            return None
        if direct.loops and serializes(direct.loops[-1], direct.call, loop_facts):
            # Waiting on the new future in the loop that submits it is PFL103: a safe fix
            # must not create a finding.
            return None
        call = direct.call
        submit = cst.Attribute(value=call.func, attr=cst.Name("submit"))
        return self.fix({call: call.with_changes(func=submit)})


def _may_return_states(flow: Flow) -> bool:
    """Whether the flow may return futures or states (Prefect hands the caller States then).

    Unknown bodies may; a body that never submits, maps or asks for `return_state` cannot.
    """
    if flow.node is None:
        return True
    for node in body_nodes(flow.node):
        if isinstance(node, cst.Call):
            func = node.func
            if isinstance(func, cst.Attribute) and func.attr.value in ("submit", "map"):
                return True
            if keyword_arg(node, "return_state") is not None:
                return True
        elif isinstance(node, cst.Name) and node.value in ("State", "return_state"):
            return True
    return False


def _what(use: cst.CSTNode) -> str:
    if isinstance(use, cst.Attribute):
        return f"`.{use.attr.value}`"
    if isinstance(use, cst.Call) and isinstance(use.func, cst.Attribute):
        return f"`.{use.func.attr.value}()`"
    return "future to wait on"
