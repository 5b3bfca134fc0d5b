"""PFL101 flow-submit: runtime proof under real Prefect.

* The flagged code (``child.submit(...)`` / ``child.map(...)`` on a plain
  ``@flow``) makes the parent flow run end Failed with the AttributeError.
* The fixed code (``task(child).submit(...)`` / ``task(child).map(...)``) runs
  every child as a Completed subflow run, returns the children's values, and
  the child flow runs overlap in time (read from the API's start/end times).
* The same rewrite is NOT valid for an ``async def`` child flow: it silently
  runs nothing. The fixer must not offer it there.

Overlap, not "all three at once": against the SQLite-backed test server,
creating several subflow runs at the same moment makes the server answer
HTTP 503 (SQLITE_BUSY) and the Prefect client retries after 2 s, then 4 s,
8 s (+/- 20 % jitter). So usually one child starts at once and the others
~2 s later, and now and then one child is held back by a chain of retries
(seen: 12 s late). The children sleep 4 s, twice one retry delay, so at least
two of them run at the same time; ``test_overlap_measure_sees_sequential_runs``
shows the same measure reports 1 for subflows called one after another.
"""

from __future__ import annotations

import asyncio
import time

import pytest

pytest.importorskip("prefect")

from prefect import flow, task

pytestmark = pytest.mark.runtime

FLOW_NO_SUBMIT = "'Flow' object has no attribute 'submit'"
FLOW_NO_MAP = "'Flow' object has no attribute 'map'"

BAD_CASES = [
    # fixture, AttributeError text
    ("PFL101/subflow_submit.py", FLOW_NO_SUBMIT),
    ("PFL101/subflow_map.py", FLOW_NO_MAP),
]

FIXED_CASES = [
    # fixture, child flow name, expected parent result, expected child parameters
    (
        "PFL101/subflow_submit.fixed.py",
        "process-batch",
        [0, 10, 20],
        [{"batch_id": 0}, {"batch_id": 1}, {"batch_id": 2}],
    ),
    (
        "PFL101/subflow_map.fixed.py",
        "process-region",
        ["EU", "US", "AP"],
        [{"region": "eu"}, {"region": "us"}, {"region": "ap"}],
    ),
]


@pytest.mark.parametrize(("relpath", "message"), BAD_CASES, ids=[case[0] for case in BAD_CASES])
def test_flagged_code_fails_the_parent_flow(prefect_runtime, relpath, message):
    module = prefect_runtime.load(relpath)  # importing has no side effects

    state = module.parent(return_state=True)

    expected = f"Flow run encountered an exception: AttributeError: {message}"
    assert state.is_failed(), state
    assert state.message == expected

    with pytest.raises(AttributeError) as excinfo:
        state.result()
    assert str(excinfo.value) == message
    # the exception is raised by the line the fixture marks
    path = prefect_runtime.fixture_path(relpath)
    raised_at = prefect_runtime.raising_lines(excinfo.value, path)
    assert raised_at[-1:] == prefect_runtime.marked_lines(relpath, "PFL101")

    parent_run = prefect_runtime.flow_run(state.state_details.flow_run_id)
    assert parent_run.state.is_failed()
    assert parent_run.state.message == expected
    assert prefect_runtime.child_flow_runs(parent_run.id) == []


@pytest.mark.parametrize(
    ("relpath", "child_name", "expected_result", "expected_params"),
    FIXED_CASES,
    ids=[case[0] for case in FIXED_CASES],
)
def test_fixed_code_runs_child_flows_concurrently(
    prefect_runtime, relpath, child_name, expected_result, expected_params
):
    module = prefect_runtime.load(relpath)

    started = time.monotonic()
    state = module.parent(return_state=True)
    elapsed = time.monotonic() - started

    assert state.is_completed(), state
    assert state.result() == expected_result

    parent_run = prefect_runtime.flow_run(state.state_details.flow_run_id)
    assert parent_run.state.is_completed()

    children = prefect_runtime.child_flow_runs(parent_run.id)
    timeline = prefect_runtime.timeline(children, origin=parent_run.start_time)
    assert len(children) == 3, timeline
    assert all(run.state.is_completed() for run in children), timeline
    assert {prefect_runtime.flow_name(run.flow_id) for run in children} == {child_name}
    by_items = lambda params: sorted(params.items())  # noqa: E731
    assert sorted((run.parameters for run in children), key=by_items) == sorted(
        expected_params, key=by_items
    )
    # each child really ran its 4 s body
    assert all((run.end_time - run.start_time).total_seconds() >= 3.9 for run in children), timeline

    peak = prefect_runtime.max_concurrency(children)
    assert peak >= 2, f"child flow runs did not overlap: {timeline}"
    print(f"{relpath}: parent {elapsed:.2f}s, peak concurrency {peak}: {timeline}")


def test_overlap_measure_sees_sequential_runs(prefect_runtime):
    """Control: subflows called directly run one after another -> peak 1."""

    @flow
    def short_child(i: int) -> int:
        time.sleep(0.3)
        return i

    @flow
    def sequential_parent() -> list[int]:
        return [short_child(i) for i in range(2)]

    state = sequential_parent(return_state=True)
    assert state.is_completed() and state.result() == [0, 1]
    children = prefect_runtime.child_flow_runs(state.state_details.flow_run_id)
    assert len(children) == 2
    assert prefect_runtime.max_concurrency(children) == 1, prefect_runtime.timeline(children)


def test_task_wrapping_an_async_child_flow_runs_nothing(prefect_runtime):
    """Why the fix must skip ``async def`` flows: ``task(achild)`` is a *sync*
    task (a Flow object is not a coroutine function), so each submitted task
    just returns the un-awaited coroutine of the child flow. No child flow run
    is created and the parent still ends Completed."""

    @flow
    async def achild(i: int) -> int:
        await asyncio.sleep(0.1)
        return i

    @flow
    async def aparent() -> list:
        futures = [task(achild).submit(i) for i in range(2)]
        return [future.result() for future in futures]

    assert task(achild).isasync is False

    state = asyncio.run(aparent(return_state=True))
    results = state.result()
    try:
        assert state.is_completed(), state
        assert len(results) == 2
        assert all(asyncio.iscoroutine(value) for value in results), results
        assert prefect_runtime.child_flow_runs(state.state_details.flow_run_id) == []
    finally:
        for value in results:
            if asyncio.iscoroutine(value):
                value.close()  # avoid "coroutine ... was never awaited"
