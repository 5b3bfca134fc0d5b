"""Facts of docs/prefect-semantics.md that no rule's own runtime test proves, on real Prefect 3.

Each test names the anchor it proves. The rule tests prove what a flagged fixture does; these
prove the facts the futures analysis, the pickling table and the messages take for granted:
what counts as waiting for a future, what `return_state=True` hands back, which values cross a
process boundary, that a run imports its flow's file, and which flows have `.submit()`.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("prefect")

from prefect import flow, task
from prefect.states import State

pytestmark = pytest.mark.runtime


def task_name(run: Any) -> str:
    return str(run.name).rsplit("-", 1)[0]


# -- #unwaited-futures-are-abandoned -----------------------------------------------------------


def _all_completed_before_the_flow_ended(prefect_runtime: Any, state: State, count: int) -> None:
    """The flow run of `state` has `count` task runs, all Completed before the flow ended."""
    flow_run = prefect_runtime.flow_run(state.state_details.flow_run_id)
    runs = prefect_runtime.task_runs(flow_run.id, expected=count)
    assert len(runs) == count and all(run.state.is_completed() for run in runs), runs
    assert flow_run.end_time >= max(run.end_time for run in runs)


def test_failed_unwaited_task_does_not_fail_the_flow(prefect_runtime: Any) -> None:
    @task
    def boom() -> None:
        raise ValueError("boom")

    @flow
    def swallows_failure() -> str:
        boom.submit()
        time.sleep(1.0)  # the task has failed by now; nothing in the flow looks at it
        return "done"

    state = swallows_failure(return_state=True)

    assert state.is_completed(), state
    assert state.result() == "done"
    runs = prefect_runtime.task_runs(state.state_details.flow_run_id, expected=1)
    assert [task_name(run) for run in runs] == ["boom"]
    assert runs[0].state.is_failed(), runs[0].state


# -- #what-waits-for-a-future ------------------------------------------------------------------


@task
def slow_value(n: int) -> int:
    time.sleep(1.0)
    return n


@task
def fails_slowly() -> None:
    time.sleep(0.5)
    raise ValueError("boom")


def test_returned_futures_are_waited_for_and_come_back_as_states(prefect_runtime: Any) -> None:
    @flow
    def returns_futures() -> Any:
        return {"first": slow_value.submit(1), "rest": [slow_value.submit(2)]}

    state = returns_futures(return_state=True)

    assert state.is_completed(), state
    value = state.result()
    # The flow waited for the futures inside the collection; the caller gets their States.
    assert isinstance(value["first"], State) and isinstance(value["rest"][0], State), value
    assert value["first"].result() == 1 and value["rest"][0].result() == 2
    _all_completed_before_the_flow_ended(prefect_runtime, state, 2)


def test_returned_failed_future_fails_the_flow(prefect_runtime: Any) -> None:
    @flow
    def returns_failure() -> Any:
        return fails_slowly.submit()

    state = returns_failure(return_state=True)

    assert state.is_failed(), state
    assert state.message == "1/1 states failed."


def test_waiting_on_a_downstream_task_waits_for_its_inputs(prefect_runtime: Any) -> None:
    from prefect import allow_failure

    @task
    def add_one(n: int) -> int:
        return n + 1

    @flow
    def waits_downstream_only() -> None:
        # Three ways in: a parameter, `wait_for=`, and `wait_for=` through allow_failure.
        upstream = slow_value.submit(1)
        ordered = slow_value.submit(2)
        failing = fails_slowly.submit()
        add_one.submit(upstream, wait_for=[ordered, allow_failure(failing)]).wait()

    state = waits_downstream_only(return_state=True)

    assert state.is_completed(), state
    flow_run = prefect_runtime.flow_run(state.state_details.flow_run_id)
    runs = prefect_runtime.task_runs(flow_run.id, expected=4)
    by_name = sorted((task_name(run), run.state.type.value) for run in runs)
    assert by_name == [
        ("add_one", "COMPLETED"),
        ("fails_slowly", "FAILED"),
        ("slow_value", "COMPLETED"),
        ("slow_value", "COMPLETED"),
    ], by_name
    assert flow_run.end_time >= max(run.end_time for run in runs)


def test_iterating_as_completed_to_the_end_waits_for_every_future(prefect_runtime: Any) -> None:
    from prefect.futures import as_completed

    @flow
    def iterates_only() -> int:
        futures = [slow_value.submit(n) for n in range(3)]
        return sum(1 for _ in as_completed(futures))

    state = iterates_only(return_state=True)

    assert state.is_completed(), state
    assert state.result() == 3
    _all_completed_before_the_flow_ended(prefect_runtime, state, 3)


# -- #return-state-is-a-state ------------------------------------------------------------------


def test_submit_and_map_with_return_state_give_states(prefect_runtime: Any) -> None:
    @flow
    def asks_for_states() -> list[Any]:
        submitted = slow_value.submit(3, return_state=True)
        mapped = slow_value.map([4, 5], return_state=True)
        called = slow_value(6, return_state=True)
        return [submitted, list(mapped), called]

    value = asks_for_states()

    submitted, mapped, called = value
    assert isinstance(called, State) and called.result() == 6, called
    assert isinstance(submitted, State) and submitted.is_completed(), submitted
    assert submitted.result() == 3
    assert all(isinstance(item, State) for item in mapped), mapped
    assert [item.result() for item in mapped] == [4, 5]


# -- #cloudpickle-table ------------------------------------------------------------------------


def test_values_cloudpickle_carries_cross_a_process_pool(prefect_runtime: Any) -> None:
    from prefect.task_runners import ProcessPoolTaskRunner

    def counter(n: int) -> Any:
        yield from range(n)

    @task
    def returns_generator(n: int) -> Any:
        return counter(n)

    @task
    def returns_completed_process() -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-c", "print('hi')"], capture_output=True, text=True, check=True
        )

    doubler = task(lambda x: x * 2)

    @flow(task_runner=ProcessPoolTaskRunner(max_workers=2))
    def crosses_the_boundary() -> list[Any]:
        generated = returns_generator.submit(3)
        process = returns_completed_process.submit()
        doubled = doubler.submit(21)
        return [generated.result(), process.result().stdout, doubled.result()]

    state = crosses_the_boundary(return_state=True)

    assert state.is_completed(), state
    # A returned generator comes back as a list; the lambda task and the task defined in
    # this function were shipped by value.
    assert state.result() == [[0, 1, 2], "hi\n", 42]


# -- #entrypoints-are-imported -----------------------------------------------------------------

BROKEN_ENTRYPOINTS = [
    ("syntax", "@flow\ndef f(:\n    pass\n", "SyntaxError"),
    ("import", "from prefect import wait\n\n@flow\ndef f():\n    pass\n", "ImportError"),
    (
        "run-context",
        "from prefect import get_run_logger\n\nLOGGER = get_run_logger()\n\n"
        "@flow\ndef f():\n    pass\n",
        "MissingContextError",
    ),
]


@pytest.mark.parametrize(
    ("kind", "body", "error"), BROKEN_ENTRYPOINTS, ids=[case[0] for case in BROKEN_ENTRYPOINTS]
)
def test_a_run_imports_its_flow_file(
    prefect_runtime: Any, tmp_path: Path, kind: str, body: str, error: str
) -> None:
    from prefect.exceptions import ScriptError
    from prefect.flows import load_flow_from_entrypoint

    path = tmp_path / f"{kind.replace('-', '_')}_flow.py"
    path.write_text(f"from prefect import flow\n{body}", encoding="utf-8")

    # How the flow engine loads a deployment's flow for a run (flow_engine.load_flow).
    with pytest.raises((SyntaxError, ScriptError)) as excinfo:
        load_flow_from_entrypoint(f"{path}:f", use_placeholder_flow=False)
    raised = excinfo.value
    cause = raised if isinstance(raised, SyntaxError) else raised.user_exc
    assert type(cause).__name__ == error, repr(cause)

    good = tmp_path / "good_flow.py"
    good.write_text("from prefect import flow\n\n@flow\ndef f():\n    return 1\n", "utf-8")
    assert load_flow_from_entrypoint(f"{good}:f", use_placeholder_flow=False)() == 1


# -- #infrastructure-bound-flow-submit ---------------------------------------------------------


def test_only_an_infrastructure_bound_flow_has_submit(prefect_runtime: Any) -> None:
    from prefect import Flow
    from prefect.flows import InfrastructureBoundFlow, bind_flow_to_infrastructure
    from prefect.workers.process import ProcessWorker

    @flow
    def child() -> int:
        return 1

    bound = bind_flow_to_infrastructure(child, "a-pool", worker_cls=ProcessWorker)

    assert not hasattr(Flow, "submit") and not hasattr(child, "submit")
    assert isinstance(bound, InfrastructureBoundFlow) and isinstance(bound, Flow)
    assert callable(bound.submit)
