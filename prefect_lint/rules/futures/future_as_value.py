"""PFL108 future-as-value: a future used as the value it will eventually hold."""

from __future__ import annotations

from dataclasses import dataclass

import libcst as cst

from prefect_lint.diagnostics import Applicability
from prefect_lint.fixes.async_wait import awaited_in_thread, to_thread_reference
from prefect_lint.model.future_facts import Element, ValueUse
from prefect_lint.model.scopes import names_in
from prefect_lint.rules.base import CstFix, FixMeta, ImportRequest, Rule, RuleMeta
from prefect_lint.rules.futures.sync_flow import FunctionFactsRule, FunctionUnderCheck
from prefect_lint.tree import child_nodes
from prefect_lint.versions import ALL_VERSIONS


class FutureAsValue(FunctionFactsRule):
    """a future is not its value: subscripting or reading attributes of it fails

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
    # ... (the rest as in the Example)


    @flow
    def count() -> int:
        stats = load.submit()
        return stats.result()["rows"]
    ```

    ## Fix safety
    The fix inserts `.result()`, which waits for the task and raises if it failed. In a
    comprehension over a `.map()` list whose variable is used only as a value
    (`[r["rows"] for r in results]`), the values are taken once for the whole list:
    `[r["rows"] for r in results.result()]`. In an `async def` flow the wait runs in a worker
    thread, `(await asyncio.to_thread(stats.result))["rows"]` (adding `import asyncio`), so the
    event loop keeps running; no fix there inside a generator expression (`await` would make it
    an async generator). It is unsafe: the wait happens at that point, which can serialize work
    that was meant to overlap, a failed task raises there (for a whole list, the first failure
    to finish), and an iteration over a future becomes an iteration over its value. The code it
    fixes could not run before.

    ## Versions
    The same holds on Prefect 2 in sync flows (2.20.17: `TypeError: 'PrefectFuture' object is
    not subscriptable`; after the fix the flow returns the value). In an async flow, or a helper
    outside a flow, 2.x differs (2.20.17: an async task's `.submit()` and its future's `.result()`
    return coroutines to await), so there the rule reports for 3.x targets only.

    ## Prefect facts
    - future-is-a-handle
    - return-state-is-a-state
    - sync-wait-blocks-the-event-loop
    - changed-calls
    """

    meta = RuleMeta(
        versions=ALL_VERSIONS,
        fix=FixMeta(title="Get the value first: `.result()`", safety=Applicability.UNSAFE),
    )

    def check_function(self, function: FunctionUnderCheck) -> None:
        node, facts, statement = function.node, function.facts, function.statement
        versions = function.versions
        seen: set[int] = set()
        waiter: _Waiter | None = _Waiter(self, None, ())
        if node.asynchronous is not None:
            # `.result()` would block the event loop: wait in a worker thread instead.
            model = self.context.model
            threaded = to_thread_reference(model, model.scope_of(node, self.context.scope(node)))
            waiter = _Waiter(self, *threaded) if threaded else None
        whole_list = _whole_list_fixes(facts.value_uses, waiter) if waiter else {}
        for use in facts.value_uses:
            if id(use.node) in seen:
                continue
            seen.add(id(use.node))
            future = self.context.module.code_for_node(use.future_expr)
            if len(future) > 40 or "\n" in future:
                future = "the future"
            message = f"`{future}` is a future, not its value: {_failure(use)}; use `.result()`"
            via = _via(use)
            fix = whole_list.get(id(via[1])) if via is not None else None
            if fix is None and waiter is not None:
                fix = waiter.fix(use)
            self.report(use.node, message, fix=fix, statement=statement, versions=versions)


@dataclass(frozen=True)
class _Waiter:
    """How this function gets a future's value: `.result()`, or in an async function
    `await asyncio.to_thread(future.result)`."""

    rule: Rule
    to_thread: str | None
    imports: tuple[ImportRequest, ...] | list[ImportRequest]

    def value(self, expr: cst.BaseExpression, *, bare: bool) -> cst.BaseExpression:
        method = cst.Attribute(value=expr, attr=cst.Name("result"))
        if self.to_thread is None:
            return cst.Call(func=method)
        awaited = awaited_in_thread(self.to_thread, method)
        # `(await ...)["rows"]` needs the parentheses; `for r in await ...` does not.
        return (
            awaited
            if bare
            else awaited.with_changes(lpar=[cst.LeftParen()], rpar=[cst.RightParen()])
        )

    def fix(self, use: ValueUse) -> CstFix | None:
        if self.to_thread is not None and _in_generator(use):
            return None  # `await` would turn the generator expression into an async one
        expr = use.future_expr
        value = self.value(expr, bare=use.node is expr)
        return self.rule.fix({expr: value}, self.imports)


def _whole_list_fixes(uses: list[ValueUse], waiter: _Waiter) -> dict[int, CstFix]:
    """`[r["x"] for r in futures]`: iterate over `futures.result()` (the values, taken once)
    when every mention of `r` in the comprehension uses it as a value."""
    by_for: dict[int, tuple[tuple[cst.CSTNode, cst.CompFor], list[ValueUse]]] = {}
    for use in uses:
        via = _via(use)
        if via is not None:
            by_for.setdefault(id(via[1]), (via, []))[1].append(use)
    fixes: dict[int, CstFix] = {}
    for (comprehension, comp_for), group in by_for.values():
        target = comp_for.target
        assert isinstance(target, cst.Name)
        # Only a name holding the `.map()` list itself: a slice or copy is a plain list.
        if not isinstance(comp_for.iter, cst.Name) or target.value in names_in(comp_for.iter):
            continue
        mentions = _count_name(comprehension, target.value) - 1  # minus the `for` target
        if mentions != len({id(use.node) for use in group}):
            continue  # `r` is also used as a future (`r.state`): keep it a future
        if waiter.to_thread is not None and any(_in_generator(use) for use in group):
            continue
        values = waiter.value(comp_for.iter, bare=True)
        fixes[id(comp_for)] = waiter.rule.fix({comp_for.iter: values}, waiter.imports)
    return fixes


def _count_name(node: cst.CSTNode, name: str) -> int:
    count = 0
    stack = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, cst.Name) and current.value == name:
            count += 1
        stack.extend(child_nodes(current))
    return count


def _failure(use: ValueUse) -> str:
    node = use.node
    if isinstance(node, cst.Subscript):
        return "subscripting it raises TypeError"
    if isinstance(node, cst.Attribute):
        return f"`.{node.attr.value}` raises AttributeError"
    return "iterating it raises TypeError"


def _via(use: ValueUse) -> tuple[cst.CSTNode, cst.CompFor] | None:
    """`[r["x"] for r in futures]`: the comprehension and its `for` that took the future
    straight from a `.map()` list, when the use is of that very name."""
    future, expr = use.future, use.future_expr
    via = future.via if isinstance(future, Element) else None
    if via is None or not isinstance(expr, cst.Name):
        return None
    target = via[1].target
    return via if isinstance(target, cst.Name) and expr.value == target.value else None


def _in_generator(use: ValueUse) -> bool:
    """Inside a generator expression (`await` there would make it an async generator)."""
    return any(isinstance(loop, cst.GeneratorExp) for loop in use.loops)
