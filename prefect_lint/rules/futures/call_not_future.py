"""PFL104 call-not-future: the value of a direct task/flow call used as if it were a future."""

from __future__ import annotations

import libcst as cst

from prefect_lint.diagnostics import Applicability
from prefect_lint.model.futures import DirectValue
from prefect_lint.model.values import Task
from prefect_lint.rules.base import CstFix, Rule, RuleMeta
from prefect_lint.versions import PREFECT_3


class CallNotFuture(Rule):
    meta = RuleMeta(
        code="PFL104",
        name="call-not-future",
        summary="a direct task call already ran and returned its value, not a future",
        fix_title="Submit the task: `task.submit(...)`",
        fix_safety=Applicability.SAFE,
        since="0.1.0",
        versions=PREFECT_3,
        docs="""
## What it does
Checks for the value of a task *called directly* (`t(x)`) that is then used as a future:
`.result()`, `.wait()`, `.state`, or passed to `wait([...])` / `as_completed([...])`.

## Why is this bad?
Calling a task runs it right away, in the flow's thread, and returns its return value. So the
"concurrent" calls ran one after another, and `.result()` on the value raises
`AttributeError: 'int' object has no attribute 'result'` (or whatever the task returned).
`.submit()` is what returns a future.

Calls with `return_state=True` return a `State`, which has `.result()`, and are not flagged.
Nor are direct *flow* calls: a flow that returns futures or states hands its caller `State`
objects, which do have `.result()`.

## Example
```python
from prefect import flow, task


@task
def fetch(n: int) -> int:
    return n


@flow
def pipeline() -> int:
    first = fetch(1)
    second = fetch(2)
    return first.result() + second.result()
```

## Use instead
```python
from prefect import flow, task


@task
def fetch(n: int) -> int:
    return n


@flow
def pipeline() -> int:
    first = fetch.submit(1)
    second = fetch.submit(2)
    return first.result() + second.result()
```

## Fix safety
The fix turns the call into `.submit(...)` when every use of the value is a future use (so
nothing else starts receiving a future). It is safe: the code could not run before.

## Versions
Checked against Prefect 3; on 2.x targets the rule is silent.
""",
    )

    def leave_FunctionDef(self, node: cst.FunctionDef) -> None:
        facts = self.context.function_facts(node)
        if facts is None:
            return
        statement = self.context.statement_for(node)
        for direct in facts.direct_values:
            if not direct.future_uses or not isinstance(direct.callee, Task):
                continue
            fix = self._fix(direct)
            for use in direct.future_uses:
                message = (
                    f"`{direct.callee_text}(...)` is a direct task call: it already ran and "
                    f"returned its value, which has no {_what(use)}; "
                    f"use `{direct.callee_text}.submit(...)` for a future"
                )
                self.report(use, message, fix=fix, statement=statement)

    def _fix(self, direct: DirectValue) -> CstFix | None:
        if direct.other_uses:
            return None
        call = direct.call
        submit = cst.Attribute(value=call.func, attr=cst.Name("submit"))
        return CstFix(
            self.meta.fix_title or "", Applicability.SAFE, {call: call.with_changes(func=submit)}
        )


def _what(use: cst.CSTNode) -> str:
    if isinstance(use, cst.Attribute):
        return f"`.{use.attr.value}`"
    if isinstance(use, cst.Call) and isinstance(use.func, cst.Attribute):
        return f"`.{use.func.attr.value}()`"
    return "future to wait on"
