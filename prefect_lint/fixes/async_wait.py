"""Waiting from async code: a blocking wait runs in a worker thread, awaited.

`wait(...)`, `future.result()` and `PrefectFutureList.wait()` block the thread that calls
them; in an `async def` flow that thread runs the event loop, so everything gathered with the
flow stops too. `await asyncio.to_thread(...)` waits the same way without blocking the loop
(measured on Prefect 3.9: three gathered async subflows keep overlapping; see
docs/prefect-semantics.md#sync-wait-blocks-the-event-loop).
"""

from __future__ import annotations

import libcst as cst

from prefect_lint.model.module import ModuleModel
from prefect_lint.model.scopes import Scope
from prefect_lint.model.values import Dotted
from prefect_lint.rules.base import ImportRequest

ASYNCIO_TO_THREAD = "asyncio.to_thread"


def to_thread_reference(model: ModuleModel, scope: Scope) -> tuple[str, list[ImportRequest]] | None:
    """How to name `asyncio.to_thread` here: an existing import, or `import asyncio`."""
    for name in sorted(model.module_scope.bindings):
        if name in model.walrus_names:
            continue
        value = model.lookup(name, scope)
        if value == Dotted(ASYNCIO_TO_THREAD):
            return name, []
        if value == Dotted("asyncio"):
            return f"{name}.to_thread", []
    if model.is_bound("asyncio", scope) or "asyncio" in model.walrus_names:
        return None
    return "asyncio.to_thread", [ImportRequest("asyncio", None)]


def awaited_in_thread(
    to_thread: str, func: cst.BaseExpression, *args: cst.BaseExpression
) -> cst.Await:
    """`await <to_thread>(func, *args)`."""
    call = cst.Call(
        func=cst.parse_expression(to_thread),
        args=[cst.Arg(func), *(cst.Arg(arg) for arg in args)],
    )
    return cst.Await(call)
