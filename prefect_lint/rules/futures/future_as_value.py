"""PFL108 future-as-value: a future used as the value it will eventually hold."""

from __future__ import annotations

import libcst as cst

from prefect_lint.diagnostics import Applicability
from prefect_lint.model.futures import ValueUse
from prefect_lint.rules.base import CstFix, Rule, RuleMeta
from prefect_lint.versions import PREFECT_3


class FutureAsValue(Rule):
    meta = RuleMeta(
        code="PFL108",
        name="future-as-value",
        summary="a future is not its value: subscripting or reading attributes of it fails",
        fix_title="Get the value first: `.result()`",
        fix_safety=Applicability.UNSAFE,
        since="0.1.0",
        versions=PREFECT_3,
        docs="""
## What it does
Checks for a future (from `.submit()`, or an element of a `.map()` list) used as the value
it will hold: subscripted (`future["key"]`), asked for an attribute a future does not have
(`future.rows`, `future.get("key")`), or iterated (`for row in future`).

## Why is this bad?
A `PrefectFuture` is a handle on a task run, not the task's return value. The code fails at
runtime with `TypeError: 'PrefectConcurrentFuture' object is not subscriptable`,
`AttributeError: 'PrefectConcurrentFuture' object has no attribute 'rows'` or
`TypeError: 'PrefectConcurrentFuture' object is not iterable`.

Passing a future *into another task* is fine: Prefect resolves it to its value first. The
future's own API (`result`, `wait`, `state`, `task_run_id`, `add_done_callback`) is not
flagged, nor are list operations on a `.map()` result.

## Example
```python
from prefect import flow, task


@task
def load() -> dict[str, int]:
    return {"rows": 3}


@flow
def count() -> int:
    stats = load.submit()
    return stats["rows"]
```

## Use instead
```python
from prefect import flow, task


@task
def load() -> dict[str, int]:
    return {"rows": 3}


@flow
def count() -> int:
    stats = load.submit()
    return stats.result()["rows"]
```

## Fix safety
The fix inserts `.result()`, which waits for the task and raises if it failed. It is unsafe:
the wait happens at that point, which can serialize work that was meant to overlap, and an
iteration over a future becomes an iteration over its value.

## Versions
Checked against Prefect 3; on 2.x targets the rule is silent (2.x async flows await
`.result()`, so the fix would differ).
""",
    )

    def leave_FunctionDef(self, node: cst.FunctionDef) -> None:
        facts = self.context.function_facts(node)
        if facts is None:
            return
        statement = self.context.statement_for(node)
        seen: set[int] = set()
        for use in facts.value_uses:
            if id(use.node) in seen:
                continue
            seen.add(id(use.node))
            future = self.context.module.code_for_node(use.future_expr)
            if len(future) > 40 or "\n" in future:
                future = "the future"
            message = f"`{future}` is a future, not its value: {_failure(use)}; use `.result()`"
            self.report(use.node, message, fix=self._fix(use), statement=statement)

    def _fix(self, use: ValueUse) -> CstFix:
        expr = use.future_expr
        result = cst.Call(func=cst.Attribute(value=expr, attr=cst.Name("result")))
        return CstFix(self.meta.fix_title or "", Applicability.UNSAFE, {expr: result})


def _failure(use: ValueUse) -> str:
    node = use.node
    if isinstance(node, cst.Subscript):
        return "subscripting it raises TypeError"
    if isinstance(node, cst.Attribute):
        return f"`.{node.attr.value}` raises AttributeError"
    return "iterating it raises TypeError"
