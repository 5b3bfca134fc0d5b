"""The call shapes PFL302 (changed-in-3) is about, run on Prefect 2.20.17 and the installed 3.x.

Each case runs the same 2.x-style code on both sides: on 2.20 it works and gives what 2.x
code relied on; on 3.x it raises (or returns something else) as PFL302 says. On 2.20.17 only
async tasks' `.submit()` and their futures' `.result()` are awaited in an async flow (a sync
task's `.submit()` there returns a future that cannot be awaited). `result` in each snippet
is `[state type, message or value]` of the flow run, or what the snippet measured.

Run: `.venv/bin/python -m pytest -q -m prefect2 tests/runtime/test_changed_calls.py`.
"""

from __future__ import annotations

import ast
import sys
import zipfile
from dataclasses import dataclass

import pytest

from tests.runtime.prefect2 import prefect_wheel

pytestmark = [pytest.mark.runtime, pytest.mark.prefect2]

_RUN_SYNC = """
state = parent(return_state=True)
result = [state.type.value, state.message if state.is_failed() else state.result()]
"""
_RUN_ASYNC = """
import asyncio
state = asyncio.run(parent(return_state=True))
result = [state.type.value, state.message if state.is_failed() else state.result()]
"""
_TASK = """
from prefect import flow, task

@task
def double(x: int) -> int:
    return 2 * x

@task
async def adouble(x: int) -> int:
    return 2 * x
"""


@dataclass(frozen=True)
class Shape:
    name: str
    code: str
    on_2x: object  # the snippet's `result` on 2.20
    on_3x: object  # the snippet's `result` on 3.x


def _failed(message: str) -> list[str]:
    return ["FAILED", f"Flow run encountered an exception: {message}"]


def _awaited(kind: str) -> list[str]:
    # Python 3.11's wording; 3.12+ say "'X' object can't be awaited".
    if sys.version_info < (3, 12):
        return _failed(f"TypeError: object {kind} can't be used in 'await' expression")
    return _failed(f"TypeError: '{kind}' object can't be awaited")


SHAPES = [
    Shape(
        "await task.submit()",
        _TASK
        + """
@flow
async def parent() -> str:
    future = await adouble.submit(2)
    return type(future).__name__
"""
        + _RUN_ASYNC,
        ["COMPLETED", "PrefectFuture"],
        _awaited("PrefectConcurrentFuture"),
    ),
    Shape(
        "await task.map()",
        _TASK
        + """
@flow
async def parent() -> str:
    futures = await adouble.map([1, 2])
    return type(futures).__name__
"""
        + _RUN_ASYNC,
        ["COMPLETED", "list"],
        _awaited("PrefectFutureList"),
    ),
    Shape(
        "await fut.result()",
        _TASK
        + """
@flow
async def parent() -> int:
    # The 2.x way to get the future of an async task, then the shape itself.
    future = (await adouble.submit(2)) if PREFECT_2 else adouble.submit(2)
    return await future.result()

import prefect
PREFECT_2 = prefect.__version__.startswith("2.")
"""
        + _RUN_ASYNC,
        ["COMPLETED", 4],
        _awaited("int"),
    ),
    Shape(
        "fut.get_state()",
        _TASK
        + """
@flow
def parent() -> str:
    future = double.submit(2)
    future.wait()
    return future.get_state().type.value
"""
        + _RUN_SYNC,
        ["COMPLETED", "COMPLETED"],
        _failed("AttributeError: 'PrefectConcurrentFuture' object has no attribute 'get_state'"),
    ),
    Shape(
        "state = fut.wait()",
        _TASK
        + """
@flow
def parent() -> str:
    state = double.submit(2).wait()
    return type(state).__name__
"""
        + _RUN_SYNC,
        ["COMPLETED", "State"],
        ["COMPLETED", "NoneType"],
    ),
    Shape(
        ".result(fetch=True)",
        _TASK
        + """
@flow
def parent() -> int:
    state = double(2, return_state=True)
    return state.result(fetch=True)
"""
        + _RUN_SYNC,
        ["COMPLETED", 4],
        _failed("TypeError: State.result() got an unexpected keyword argument 'fetch'"),
    ),
    Shape(
        "serve(is_schedule_active=...)",
        """
import inspect
from prefect import flow

@flow
def parent() -> None:
    pass

result = []
for keyword in ("is_schedule_active", "schedule"):
    try:
        inspect.signature(parent.serve).bind(name="x", **{keyword: None})
        result.append(f"serve({keyword}=) binds")
    except TypeError as exc:
        result.append(f"serve: {exc}")
""",
        ["serve(is_schedule_active=) binds", "serve(schedule=) binds"],
        # `schedule=` failed on 3.0-3.1 only (re-added in 3.2.0); the installed 3.x has it.
        [
            "serve: got an unexpected keyword argument 'is_schedule_active'",
            "serve(schedule=) binds",
        ],
    ),
]


@pytest.mark.parametrize("shape", SHAPES, ids=[shape.name for shape in SHAPES])
def test_changed_call_on_both_versions(prefect2, prefect3, shape: Shape) -> None:
    on_2 = prefect2.run(shape.code)
    assert on_2.ok, on_2.describe()
    assert on_2.value == shape.on_2x, on_2.describe()

    on_3 = prefect3.run(shape.code)
    assert on_3.ok, on_3.describe()
    assert on_3.value == shape.on_3x, on_3.describe()


def test_serve_is_schedule_active_raises_on_3x(prefect3) -> None:
    # The real call: it fails before serving anything (the timeout guards the opposite).
    run = prefect3.run(
        """
from prefect import flow

@flow
def parent() -> None:
    pass

parent.serve(name="x", is_schedule_active=False)
""",
        timeout=120,
    )
    assert not run.timed_out, run.describe()
    assert run.raised("TypeError"), run.describe()
    assert "unexpected keyword argument 'is_schedule_active'" in (run.error_message or "")


def _parameters(wheel: zipfile.ZipFile, path: str, cls: str, method: str) -> set[str]:
    """Parameter names of `cls.method` in a wheel's module (every class of that name)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(wheel.read(path).decode())):
        if isinstance(node, ast.ClassDef) and node.name == cls:
            for item in node.body:
                if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)) and (
                    item.name == method
                ):
                    arguments = item.args
                    names.update(a.arg for a in [*arguments.args, *arguments.kwonlyargs])
    assert names, f"{cls}.{method} not found in {path}"
    return names


RELEASES = [
    # release, `Flow.serve(schedule=)`, `Flow.serve(is_schedule_active=)`, `State.result(fetch=)`
    ("3.0.0", False, False, None),
    ("3.1.15", False, False, None),
    ("3.2.0", True, False, None),
    ("3.2.15", True, False, True),
    ("3.3.0", True, False, False),
]


@pytest.mark.parametrize(("release", "schedule", "is_schedule_active", "fetch"), RELEASES)
def test_changed_keywords_by_release(
    release: str, schedule: bool, is_schedule_active: bool, fetch: bool | None
) -> None:
    # The published source of each release: `schedule=` is missing on 3.0-3.1 only (back
    # in 3.2.0), `is_schedule_active=` on every 3.x, `fetch=` from 3.3.0 on.
    with zipfile.ZipFile(prefect_wheel(release)) as wheel:
        serve = _parameters(wheel, "prefect/flows.py", "Flow", "serve")
        assert ("schedule" in serve) is schedule, sorted(serve)
        assert ("is_schedule_active" in serve) is is_schedule_active, sorted(serve)
        if fetch is not None:
            result = _parameters(wheel, "prefect/client/schemas/objects.py", "State", "result")
            assert ("fetch" in result) is fetch, sorted(result)
