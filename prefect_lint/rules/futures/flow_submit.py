"""PFL101 flow-submit: `.submit()` / `.map()` on a flow object."""

from __future__ import annotations

import libcst as cst

from prefect_lint.diagnostics import Applicability
from prefect_lint.model import api, precheck
from prefect_lint.model.module import reference_to
from prefect_lint.model.values import Flow
from prefect_lint.rules.base import CstFix, FixMeta, ImportRequest, Rule, RuleMeta
from prefect_lint.versions import ALL_VERSIONS


class FlowSubmit(Rule):
    """a flow has no `.submit()`: AttributeError at runtime

    ## What it does
    Checks for `.submit()` and `.map()` called on a flow object (a function decorated with
    `@flow`, `flow(fn)`, or a `.with_options(...)` copy of one).

    ## Why is this bad?
    Only tasks can be submitted. A Prefect 3 `Flow` has no `submit` or `map` attribute, so the
    call raises `AttributeError: 'Flow' object has no attribute 'submit'`; inside a parent flow,
    the parent run ends `Failed` with that message. "Use `subflow.submit()` to run subflows in
    parallel" is common advice, and it is wrong for every 3.x release.

    To run child flows concurrently, run each one through a task (`task(child).submit(...)`, or
    stack `@task` over `@flow`): the child flow runs inside a task run, and the task runner runs
    those concurrently. Async flows can also be gathered with `asyncio.gather`.

    Flows bound to infrastructure (`@kubernetes(...)`, `@ecs(...)`, `@docker(...)`,
    `@cloud_run(...)`, `@vertex_ai(...)`, `@azure_container_instance(...)`) *do* have `.submit()`
    (it runs them on a work pool) and are not flagged, nor is a flow wrapped in `@task`.

    ## Example
    ```python
    from prefect import flow


    @flow
    def child(n: int) -> int:
        return n * 2


    @flow
    def parent() -> list[int]:
        futures = [child.submit(n) for n in range(3)]
        return [f.result() for f in futures]
    ```

    ## Use instead
    ```python
    from prefect import flow, task

    # ... (the rest as in the Example)


    @flow
    def parent() -> list[int]:
        futures = [task(child).submit(n) for n in range(3)]
        return [f.result() for f in futures]
    ```

    For an `async def` flow, `task(child)` does not work: the task returns the flow's coroutine
    without running it, no child run is created and the parent still ends `Completed`. Gather
    async flows with `asyncio.gather(child(1), child(2))` in an async parent, or write an async
    task with the child's signature that awaits it (`@task async def run_child(n: int) -> int:
    return await child(n)`) and submit that.

    ## Fix safety
    The fix wraps a sync flow in `task(...)` and imports `task` from `prefect` if needed. It is
    unsafe: the child flow now runs inside a task run (it gets its own task-run record, and with
    result persistence on, the task's default cache policy can turn a second identical call into
    a cache hit), and the returned futures must be waited on like any other task's. It is not
    offered for `async def` flows (see above), for flows whose async-ness is unknown, or when the
    call is awaited (`await child.submit()`), because `.submit()` returns a future that cannot be
    awaited.

    ## Versions
    The same on every target: Prefect 2 flows have no `.submit()` either (checked on 2.20.17:
    the same `AttributeError`), and `task(child).submit(...)` runs 2.x child flows concurrently
    too. Flows bound to infrastructure have `.submit()` from 3.3.6 on.

    ## Prefect facts
    - flow-has-no-submit
    - infrastructure-bound-flow-submit
    - subflow-in-a-task
    """

    meta = RuleMeta(
        versions=ALL_VERSIONS,
        fix=FixMeta(
            title="Run the flow through a task: `task(flow).submit(...)`",
            safety=Applicability.UNSAFE,
        ),
    )
    trigger = precheck.FLOW_SUBMIT

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if not isinstance(func, cst.Attribute) or func.attr.value not in ("submit", "map"):
            return
        value = self.context.evaluate(func.value, node)
        if not isinstance(value, Flow) or value.infrastructure_bound:
            return
        method = func.attr.value
        target = self.context.module.code_for_node(func.value)
        if len(target) > 40 or "\n" in target:
            target = value.name or "flow"
        message = (
            f"`{target}.{method}()` raises AttributeError: 'Flow' object has no attribute "
            f"'{method}'; run the flow through a task to submit it"
        )
        self.report(func, message, fix=self._fix(node, func, value))

    def _fix(self, call: cst.Call, func: cst.Attribute, flow: Flow) -> CstFix | None:
        # `task(async_flow)` is a sync task returning an un-run coroutine: Prefect creates no
        # child run and the parent ends Completed (tests/runtime), so no fix for async flows.
        if flow.is_async is not False:
            return None
        parent = self.context.ancestors[-1] if self.context.ancestors else None
        if isinstance(parent, cst.Await):
            return None
        reference = reference_to(self.context.model, api.TASK, self.context.scope(call))
        if reference is None:
            return None
        text, needs_import = reference
        wrapped = cst.Call(func=cst.parse_expression(text), args=[cst.Arg(func.value)])
        return self.fix(
            {func.value: wrapped}, [ImportRequest("prefect", "task")] if needs_import else ()
        )
