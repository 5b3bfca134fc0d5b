"""PFL109 wait-not-list: `wait(future)` / `as_completed(future)` on a single future."""

from __future__ import annotations

import libcst as cst

from prefect_lint.diagnostics import Applicability, FixAvailability
from prefect_lint.model.future_facts import Obj, is_single_future
from prefect_lint.rules.base import FixMeta, RuleMeta
from prefect_lint.rules.futures.sync_flow import FunctionFactsRule, FunctionUnderCheck
from prefect_lint.versions import PREFECT_3


class WaitNotList(FunctionFactsRule):
    """`wait()` and `as_completed()` take a list of futures, not one future

    ## What it does
    Checks for `prefect.futures.wait(...)` and `as_completed(...)` given a single future instead
    of a list of futures.

    ## Why is this bad?
    Both functions iterate their argument (`wait` starts with `set(futures)`), and a future is not
    iterable: the call raises `TypeError: 'PrefectConcurrentFuture' object is not iterable`. A
    `.map()` result is a `PrefectFutureList` and is fine as it is.

    ## Example
    ```python
    from prefect import flow, task
    from prefect.futures import wait


    @task
    def ping() -> None:
        print("ping")


    @flow
    def check() -> None:
        future = ping.submit()
        wait(future)
    ```

    ## Use instead
    ```python
    # ... (the rest as in the Example)


    @flow
    def check() -> None:
        future = ping.submit()
        wait([future])
    ```

    ## Fix safety
    The fix is safe: it wraps the argument in a list, which is what the function expects. It is
    offered for every report; the call, which raised `TypeError`, now waits for that future
    (or yields it, for `as_completed`). Nothing else changes.

    ## Versions
    `prefect.futures.wait` and `as_completed` exist from 3.0.0 on; on 2.20.17
    `from prefect.futures import wait` raises `ImportError`, so the shape cannot occur on 2.x.

    ## Prefect facts
    - wait-iterates-its-argument
    - wait-lives-in-prefect-futures
    """

    meta = RuleMeta(
        versions=PREFECT_3,
        fix=FixMeta(
            title="Wrap the future in a list: `[future]`",
            safety=Applicability.SAFE,
            availability=FixAvailability.ALWAYS,
        ),
    )

    def check_function(self, function: FunctionUnderCheck) -> None:
        statement = function.statement
        for wait_call in function.facts.wait_calls:
            if not _only_single_futures(wait_call.held):
                continue
            call, arg = wait_call.call, wait_call.arg
            name = self.context.module.code_for_node(call.func)
            message = (
                f"`{name}()` takes a list of futures: given one future it raises "
                f"TypeError: 'PrefectConcurrentFuture' object is not iterable"
            )
            wrapped = arg.with_changes(value=cst.List([cst.Element(arg.value)]))
            fix = self.fix({arg: wrapped})
            self.report(arg.value, message, fix=fix, statement=statement)


def _only_single_futures(held: frozenset[Obj]) -> bool:
    """The argument holds a future of one run on every path, never a collection of them."""
    return bool(held) and all(is_single_future(obj) for obj in held)
