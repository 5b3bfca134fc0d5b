"""Futures rules (PFL102, PFL103, PFL104, PFL107, PFL108, PFL109): runtime proof under real Prefect.

For each rule, the flagged fixture misbehaves exactly as the rule's message
says, and the golden ``.fixed.py`` (the output of ``--fix --unsafe-fixes``)
runs correctly. States and timestamps are read back from the Prefect API.

* PFL102: a flow that returns without waiting ends Completed *before* its
  slow task finishes; the downstream task still waiting on its inputs ends
  Crashed ("... CancelledError: Task run cancelled by the task runner"), and
  tasks still queued in the executor never get a task run at all.
* PFL103: ``[t.submit(i).result() for i in ...]`` runs the tasks one after
  another (no two task runs overlap); the fixed comprehension overlaps them.
* PFL104: ``t(x).result()`` fails the flow with
  ``AttributeError: 'int' object has no attribute 'result'``.
* PFL107: an async task called from a sync flow returns an un-run coroutine:
  no task run, flow Completed.
* PFL108: ``future["key"]`` fails with
  ``TypeError: 'PrefectConcurrentFuture' object is not subscriptable``.
* PFL109: ``wait(future)`` fails with
  ``TypeError: 'PrefectConcurrentFuture' object is not iterable``.
"""

from __future__ import annotations

import inspect
import itertools
import time

import pytest

pytest.importorskip("prefect")

pytestmark = pytest.mark.runtime

CANCELLED_BY_RUNNER = (
    "Execution was interrupted by an unexpected exception: "
    "CancelledError: Task run cancelled by the task runner"
)


def task_name(run) -> str:
    """``slow-538`` -> ``slow``."""
    return run.name.rsplit("-", 1)[0]


def describe(runs) -> list[tuple[str, str, str | None]]:
    return [(run.name, run.state_type.value, run.state.message) for run in runs]


def assert_fails_at_marked_line(prefect_runtime, relpath, code, state, exc_type, message):
    """The parent flow run is Failed with ``exc_type: message``, raised on the marked line."""
    expected = f"Flow run encountered an exception: {exc_type.__name__}: {message}"
    assert state.is_failed(), state
    assert state.message == expected

    with pytest.raises(exc_type) as excinfo:
        state.result()
    assert str(excinfo.value) == message
    path = prefect_runtime.fixture_path(relpath)
    raised_at = prefect_runtime.raising_lines(excinfo.value, path)
    assert raised_at == prefect_runtime.marked_lines(relpath, code)

    flow_run = prefect_runtime.flow_run(state.state_details.flow_run_id)
    assert flow_run.state.is_failed()
    assert flow_run.state.message == expected
    return flow_run, excinfo


# -- PFL102 unwaited-future ---------------------------------------------------


def test_pfl102_unwaited_downstream_crashes_while_flow_completes(prefect_runtime):
    module = prefect_runtime.load("PFL102/runtime_seed.py")

    state = module.parent(return_state=True)

    assert state.is_completed(), state
    assert state.result() is None
    flow_run = prefect_runtime.flow_run(state.state_details.flow_run_id)
    assert flow_run.state.is_completed()

    runs = prefect_runtime.task_runs(flow_run.id, expected=3)
    by_name = {task_name(run): run for run in runs}
    assert sorted(by_name) == ["no_op_task", "task_a", "task_b"], describe(runs)
    assert by_name["task_a"].state.is_completed(), describe(runs)
    assert by_name["task_b"].state.is_completed(), describe(runs)
    # the task still waiting on its upstream futures is cancelled by the runner
    no_op = by_name["no_op_task"]
    assert no_op.state.is_crashed(), describe(runs)
    assert no_op.state.message == CANCELLED_BY_RUNNER
    # the flow run was marked Completed while task_a was still sleeping
    assert flow_run.end_time < by_name["task_a"].end_time, prefect_runtime.timeline(
        runs, origin=flow_run.start_time
    )


def test_pfl102_queued_tasks_never_get_a_task_run(prefect_runtime):
    module = prefect_runtime.load("PFL102/runtime_seed.py")

    started = time.monotonic()
    state = module.parent_queued(return_state=True)
    elapsed = time.monotonic() - started

    assert state.is_completed(), state
    flow_run = prefect_runtime.flow_run(state.state_details.flow_run_id)
    assert flow_run.state.is_completed()

    # Give the two queued submissions time to show up (they never do): with
    # max_workers=1 only the first submit reached a worker thread before the
    # task runner was shut down with cancel_futures=True.
    runs = prefect_runtime.task_runs(flow_run.id, expected=2, timeout=3.0)
    assert len(runs) == 1, describe(runs)
    assert task_name(runs[0]) == "slow"
    assert runs[0].state.is_final(), describe(runs)
    # three 1 s tasks on one worker would take 3 s; only one of them ran
    assert elapsed < 2.9, elapsed


def test_pfl102_fixed_waits_for_every_task(prefect_runtime):
    module = prefect_runtime.load("PFL102/runtime_seed.fixed.py")

    state = module.parent(return_state=True)
    assert state.is_completed(), state
    flow_run = prefect_runtime.flow_run(state.state_details.flow_run_id)
    assert flow_run.state.is_completed()
    runs = prefect_runtime.task_runs(flow_run.id, expected=3)
    assert sorted(task_name(run) for run in runs) == ["no_op_task", "task_a", "task_b"]
    assert all(run.state.is_completed() for run in runs), describe(runs)
    # now the flow run ends after the slow upstream
    task_a = next(run for run in runs if task_name(run) == "task_a")
    assert flow_run.end_time >= task_a.end_time

    queued_state = module.parent_queued(return_state=True)
    assert queued_state.is_completed(), queued_state
    queued_run = prefect_runtime.flow_run(queued_state.state_details.flow_run_id)
    assert queued_run.state.is_completed()
    runs = prefect_runtime.task_runs(queued_run.id, expected=3)
    assert len(runs) == 3, describe(runs)
    assert {task_name(run) for run in runs} == {"slow"}
    assert all(run.state.is_completed() for run in runs), describe(runs)


# -- PFL103 serial-result -----------------------------------------------------


@pytest.mark.parametrize(
    ("relpath", "peak"),
    [("PFL103/runtime_serial.py", 1), ("PFL103/runtime_serial.fixed.py", 3)],
    ids=["flagged", "fixed"],
)
def test_pfl103_result_in_comprehension_serializes_runs(prefect_runtime, relpath, peak):
    module = prefect_runtime.load(relpath)

    state = module.parent(return_state=True)

    assert state.is_completed(), state
    assert state.result() == [0, 1, 4]
    flow_run = prefect_runtime.flow_run(state.state_details.flow_run_id)
    runs = prefect_runtime.task_runs(flow_run.id, expected=3)
    runs.sort(key=lambda run: run.start_time)
    timeline = prefect_runtime.timeline(runs, origin=flow_run.start_time)
    assert len(runs) == 3, timeline
    assert all(run.state.is_completed() for run in runs), timeline
    # each run really executed its 1.5 s body
    assert all((run.end_time - run.start_time).total_seconds() >= 1.4 for run in runs), timeline
    if peak == 1:  # flagged: each run starts only after the previous one ended
        pairs = itertools.pairwise(runs)
        assert all(nxt.start_time >= prev.end_time for prev, nxt in pairs), timeline
    assert prefect_runtime.max_concurrency(runs) == peak, timeline


# -- PFL110 unused-task-runner ------------------------------------------------


@pytest.mark.parametrize(
    ("relpath", "peak"),
    [("PFL110/runtime_serial.py", 1), ("PFL110/runtime_serial.fixed.py", 3)],
    ids=["flagged", "fixed"],
)
def test_pfl110_direct_calls_ignore_the_runner(prefect_runtime, relpath, peak):
    """With a four-thread runner, direct calls still run one at a time (about 4.5 s for
    three 1.5 s tasks); submitted then collected, they overlap."""
    module = prefect_runtime.load(relpath)

    started = time.monotonic()
    state = module.parent(return_state=True)
    elapsed = time.monotonic() - started

    assert state.is_completed(), state
    assert state.result() == [0, 1, 4]
    flow_run = prefect_runtime.flow_run(state.state_details.flow_run_id)
    runs = prefect_runtime.task_runs(flow_run.id, expected=3)
    runs.sort(key=lambda run: run.start_time)
    timeline = prefect_runtime.timeline(runs, origin=flow_run.start_time)
    assert len(runs) == 3 and all(run.state.is_completed() for run in runs), timeline
    assert prefect_runtime.max_concurrency(runs) == peak, timeline
    if peak == 1:
        assert elapsed >= 4.5, elapsed
    else:
        assert elapsed < 4.5, elapsed


# -- PFL104 call-not-future ---------------------------------------------------


def test_pfl104_direct_call_value_has_no_result(prefect_runtime):
    relpath = "PFL104/runtime_direct.py"
    module = prefect_runtime.load(relpath)

    state = module.parent(return_state=True)

    flow_run, _ = assert_fails_at_marked_line(
        prefect_runtime,
        relpath,
        "PFL104",
        state,
        AttributeError,
        "'int' object has no attribute 'result'",
    )
    # both direct calls ran (one after another) before `.result()` failed
    runs = prefect_runtime.task_runs(flow_run.id, expected=2)
    assert [task_name(run) for run in runs] == ["fetch", "fetch"], describe(runs)
    assert all(run.state.is_completed() for run in runs), describe(runs)


def test_pfl104_fixed_submits_and_returns_the_sum(prefect_runtime):
    module = prefect_runtime.load("PFL104/runtime_direct.fixed.py")

    state = module.parent(return_state=True)

    assert state.is_completed(), state
    assert state.result() == 30
    flow_run = prefect_runtime.flow_run(state.state_details.flow_run_id)
    assert flow_run.state.is_completed()
    runs = prefect_runtime.task_runs(flow_run.id, expected=2)
    assert [task_name(run) for run in runs] == ["fetch", "fetch"], describe(runs)
    assert all(run.state.is_completed() for run in runs), describe(runs)


# -- PFL107 async-task-direct-call --------------------------------------------


def test_pfl107_async_task_called_from_sync_flow_never_runs(prefect_runtime):
    module = prefect_runtime.load("PFL107/runtime_async_direct.py")
    assert module.notify.isasync

    state = module.parent(return_state=True)

    value = state.result()
    try:
        assert state.is_completed(), state
        # the "message" is an un-started coroutine of Prefect's async task engine
        assert inspect.iscoroutine(value), value
        assert value.__qualname__ == "run_task_async"
        assert inspect.getcoroutinestate(value) == inspect.CORO_CREATED
        flow_run = prefect_runtime.flow_run(state.state_details.flow_run_id)
        assert flow_run.state.is_completed()
        # give a task run 2 s to show up: none is ever created
        assert prefect_runtime.task_runs(flow_run.id, expected=1, timeout=2.0) == []
    finally:
        if inspect.iscoroutine(value):
            value.close()  # avoid "coroutine 'run_task_async' was never awaited"


def test_pfl107_fixed_runs_the_task(prefect_runtime):
    module = prefect_runtime.load("PFL107/runtime_async_direct.fixed.py")

    state = module.parent(return_state=True)

    assert state.is_completed(), state
    assert state.result() == "notified ops"
    flow_run = prefect_runtime.flow_run(state.state_details.flow_run_id)
    runs = prefect_runtime.task_runs(flow_run.id, expected=1)
    assert [task_name(run) for run in runs] == ["notify"], describe(runs)
    assert runs[0].state.is_completed(), describe(runs)


# -- PFL108 future-as-value ---------------------------------------------------


def test_pfl108_subscripting_a_future_fails(prefect_runtime):
    relpath = "PFL108/runtime_value.py"
    module = prefect_runtime.load(relpath)

    state = module.parent(return_state=True)

    assert_fails_at_marked_line(
        prefect_runtime,
        relpath,
        "PFL108",
        state,
        TypeError,
        "'PrefectConcurrentFuture' object is not subscriptable",
    )


def test_pfl108_fixed_returns_the_value(prefect_runtime):
    module = prefect_runtime.load("PFL108/runtime_value.fixed.py")

    state = module.parent(return_state=True)

    assert state.is_completed(), state
    assert state.result() == 3
    flow_run = prefect_runtime.flow_run(state.state_details.flow_run_id)
    runs = prefect_runtime.task_runs(flow_run.id, expected=1)
    assert [task_name(run) for run in runs] == ["load"], describe(runs)
    assert runs[0].state.is_completed(), describe(runs)


# -- PFL109 wait-not-list -----------------------------------------------------


def test_pfl109_wait_on_a_single_future_fails(prefect_runtime):
    relpath = "PFL109/runtime_single.py"
    module = prefect_runtime.load(relpath)

    state = module.parent(return_state=True)

    _, excinfo = assert_fails_at_marked_line(
        prefect_runtime,
        relpath,
        "PFL109",
        state,
        TypeError,
        "'PrefectConcurrentFuture' object is not iterable",
    )
    # raised inside prefect.futures.wait, by its `set(futures)`
    assert excinfo.traceback[-1].name == "wait"
    assert str(excinfo.traceback[-1].statement).strip() == "_futures = set(futures)"


def test_pfl109_fixed_waits_and_completes(prefect_runtime):
    module = prefect_runtime.load("PFL109/runtime_single.fixed.py")

    state = module.parent(return_state=True)

    assert state.is_completed(), state
    flow_run = prefect_runtime.flow_run(state.state_details.flow_run_id)
    assert flow_run.state.is_completed()
    runs = prefect_runtime.task_runs(flow_run.id, expected=1)
    assert [task_name(run) for run in runs] == ["ping"], describe(runs)
    assert runs[0].state.is_completed(), describe(runs)


def test_pfl102_formatted_futures_are_left_running(prefect_runtime):
    """Counting, joining and logging a dict of futures resolves none of them: with one
    worker only the first load starts before the runner shuts down; the flow is Completed."""
    module = prefect_runtime.load("PFL102/runtime_gaps.py")

    state = module.counted(["a", "b", "c"], return_state=True)

    assert state.is_completed(), state
    assert state.result() == 3
    flow_run = prefect_runtime.flow_run(state.state_details.flow_run_id)
    runs = prefect_runtime.task_runs(flow_run.id, expected=3, timeout=3.0)
    completed = [run for run in runs if run.state.is_completed()]
    assert len(completed) < 3, describe(runs)


def test_pfl102_task_submitted_before_raise_is_not_waited_for(prefect_runtime):
    """The flow fails at its `raise` without waiting: of the four alerts it just submitted to
    one worker, the queued ones are cancelled with the runner and never run."""
    module = prefect_runtime.load("PFL102/runtime_gaps.py")

    state = module.alerting(return_state=True)

    assert state.is_failed(), state
    assert "source down" in state.message
    flow_run = prefect_runtime.flow_run(state.state_details.flow_run_id)
    runs = prefect_runtime.task_runs(flow_run.id, expected=5, timeout=3.0)
    alerts = [run for run in runs if task_name(run) == "alert"]
    assert len([run for run in alerts if run.state.is_completed()]) < 4, describe(runs)


def test_pfl102_gaps_fixed_waits_before_raise(prefect_runtime):
    # (No fix is offered for the dict of futures in `counted`: see PFL102's Fix safety.)
    module = prefect_runtime.load("PFL102/runtime_gaps.fixed.py")

    state = module.alerting(return_state=True)
    # The same failure as before: `wait` never raises, so only the alert's fate changes.
    assert state.is_failed(), state
    assert "source down" in state.message
    runs = prefect_runtime.task_runs(state.state_details.flow_run_id, expected=5)
    alerts = [run for run in runs if task_name(run) == "alert"]
    assert len(alerts) == 4, describe(runs)
    assert all(run.state.is_completed() for run in alerts), describe(runs)


def test_pfl104_direct_flow_calls_run_in_turn_then_fail(prefect_runtime):
    """`as_completed([child(p) ...])`: the children run one after another while the list is
    built, then the parent fails on the plain values."""
    module = prefect_runtime.load("PFL104/runtime_direct_flows.py")

    state = module.fan_out([1, 2, 3], return_state=True)

    assert state.is_failed(), state
    assert state.message == (
        "Flow run encountered an exception: AttributeError: "
        "'int' object has no attribute '_final_state'"
    )
    children = prefect_runtime.child_flow_runs(state.state_details.flow_run_id)
    assert len(children) == 3
    assert all(run.state.is_completed() for run in children)
    assert prefect_runtime.max_concurrency(children) == 1, prefect_runtime.timeline(children)
