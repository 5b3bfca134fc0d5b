"""PFL106 blocking-run-deployment: runtime proof against a served deployment.

A child flow (``fixtures/PFL106/runtime_loop.py``, sleeps 2 s) is served in a
separate process (``child.serve(name="child-deployment")``) against the
session's test server; the parent flows of the fixtures then call
``run_deployment("child/child-deployment", ...)`` for three regions.

* Flagged code: ``run_deployment(...)`` in a ``for`` loop or a comprehension,
  with the default ``timeout=None`` and ``poll_interval=5``, blocks until each
  child run is final, so each child run is only *created* after the previous
  one *ended*: no two child runs overlap, and the parent takes longer than
  3 x 2 s (measured ~27-32 s; the next run is only created on the first 5 s
  poll that finds the previous one final).
* Fixed code: ``run_deployment(..., timeout=0)`` returns the Scheduled
  ``FlowRun`` at once; ``wait([PrefectFlowRunFuture(flow_run_id=...) ...])``
  then waits for all of them (the server pushes the final-state events, no
  polling). The child runs overlap, all end Completed, and the parent still
  ends after the last child ended (measured ~8-15 s).
* The fix does not refresh the ``FlowRun`` objects: after the wait they still
  hold the Scheduled state they were created with; the final state is on the
  futures (``test_fixed_flow_runs_keep_their_creation_state``).
* Near miss: ``asyncio.gather`` over awaited ``run_deployment(...)`` calls in an
  async flow already runs the children concurrently and waits for them.

Timing caveat: the test server is SQLite-backed; simultaneous writes make it
answer HTTP 503 and the client retries after ~2 s, ~4 s, ~8 s, so a child run
is sometimes created or started a few seconds late (see the PFL101 runtime
test). The assertions therefore compare creation and end times (which encode
"the parent waited for the previous child before creating the next") and
require at least two of the three children to overlap, not all three.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("prefect")

pytestmark = pytest.mark.runtime

DEPLOYMENT = "child/child-deployment"
CHILD_SECONDS = 2.0  # the child's default sleep
GATHER_SECONDS = 10  # what ok_runtime_gather.py passes
POLL_INTERVAL = 5.0  # run_deployment's default poll_interval
REGIONS = ["eu", "us", "ap"]
SERVE_FIXTURE = "PFL106/runtime_loop.py"
_DEPLOYMENT_TIMEOUT_S = 90.0
REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def served_child(
    prefect_test_server: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Any]:
    """Serve the child flow in its own process until the module's tests are done."""
    from prefect.exceptions import ObjectNotFound

    log_path = tmp_path_factory.mktemp("pfl106-serve") / "serve.log"
    env = dict(
        os.environ,
        PREFECT_API_URL=prefect_test_server,
        # how often the runner looks for scheduled runs (default 10 s): only the
        # pickup latency, not the 5 s polling of run_deployment under test
        PREFECT_RUNNER_POLL_FREQUENCY="1",
        # the runner imports the fixture file for every run: no __pycache__ in fixtures/
        PYTHONDONTWRITEBYTECODE="1",
    )
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [sys.executable, str(REPO_ROOT / "fixtures" / SERVE_FIXTURE)],
            cwd=REPO_ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + _DEPLOYMENT_TIMEOUT_S
        while True:
            assert process.poll() is None, f"serve process exited:\n{log_path.read_text()}"
            try:
                with _client() as client:
                    deployment = client.read_deployment_by_name(DEPLOYMENT)
                break
            except ObjectNotFound:
                assert time.monotonic() < deadline, f"no deployment:\n{log_path.read_text()}"
                time.sleep(0.5)
        yield deployment
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _client() -> Any:
    import prefect

    return prefect.get_client(sync_client=True)


def run_parent(prefect_runtime: Any, relpath: str, flow_name: str = "parent") -> Any:
    module = prefect_runtime.load(relpath)
    outcome = getattr(module, flow_name)(REGIONS, return_state=True)
    if asyncio.iscoroutine(outcome):  # async flows
        outcome = asyncio.run(outcome)
    return outcome


def children_by_creation(prefect_runtime: Any, parent_run: Any) -> list[Any]:
    return sorted(prefect_runtime.child_flow_runs(parent_run.id), key=lambda run: run.created)


def created_before_previous_ended(children: list[Any]) -> list[bool]:
    """For each child after the first: was it created before the one created before it ended?"""
    return [later.created < earlier.end_time for earlier, later in itertools.pairwise(children)]


def assert_children_ran(
    prefect_runtime: Any,
    parent_run: Any,
    children: list[Any],
    timeline: str,
    seconds: float = CHILD_SECONDS,
) -> None:
    """Three Completed runs of the served deployment, one per region, each ran its
    ``seconds`` body, all ended before the parent did (the parent waited for them),
    and each is linked to its own Completed placeholder task run in the parent."""
    assert len(children) == 3, timeline
    assert all(run.state.is_completed() for run in children), timeline
    assert {prefect_runtime.flow_name(run.flow_id) for run in children} == {"child"}
    assert {run.deployment_id for run in children} == {_deployment_id()}
    assert sorted(run.parameters["region"] for run in children) == sorted(REGIONS)
    assert all(
        (run.end_time - run.start_time).total_seconds() >= seconds - 0.1 for run in children
    ), timeline
    assert parent_run.end_time >= max(run.end_time for run in children), timeline

    placeholders = prefect_runtime.task_runs(parent_run.id, expected=3)
    assert len(placeholders) == 3, placeholders
    assert all(run.state.is_completed() for run in placeholders), placeholders
    assert {run.id for run in placeholders} == {run.parent_task_run_id for run in children}


def _deployment_id() -> Any:
    with _client() as client:
        return client.read_deployment_by_name(DEPLOYMENT).id


def describe(prefect_runtime: Any, parent_run: Any, children: list[Any], elapsed: float) -> str:
    origin = parent_run.start_time
    parent_s = (parent_run.end_time - origin).total_seconds()
    created = ", ".join(f"{(run.created - origin).total_seconds():.1f}" for run in children)
    return (
        f"parent {elapsed:.1f}s wall, {parent_s:.1f}s in the API; children created at "
        f"[{created}]; {prefect_runtime.timeline(children, origin=origin)}"
    )


BAD = ["PFL106/runtime_loop.py", "PFL106/runtime_comprehension.py"]
FIXED = ["PFL106/runtime_loop.fixed.py", "PFL106/runtime_comprehension.fixed.py"]


@pytest.mark.parametrize("relpath", BAD)
def test_flagged_loop_runs_children_one_after_another(prefect_runtime, served_child, relpath):
    started = time.monotonic()
    state = run_parent(prefect_runtime, relpath)
    elapsed = time.monotonic() - started

    assert state.is_completed(), state
    parent_run = prefect_runtime.flow_run(state.state_details.flow_run_id)
    children = children_by_creation(prefect_runtime, parent_run)
    timeline = describe(prefect_runtime, parent_run, children, elapsed)
    assert_children_ran(prefect_runtime, parent_run, children, timeline)

    # run_deployment returned only once the child was final: the next child run
    # did not even exist before the previous one ended
    assert created_before_previous_ended(children) == [False, False], timeline
    # ... and it noticed that only on a poll: the first read of the new run finds it
    # Scheduled, the next comes poll_interval (5 s) later
    gaps = [(b.created - a.created).total_seconds() for a, b in itertools.pairwise(children)]
    assert all(gap >= POLL_INTERVAL for gap in gaps), timeline
    assert prefect_runtime.max_concurrency(children) == 1, timeline
    assert (parent_run.end_time - parent_run.start_time).total_seconds() >= 3 * CHILD_SECONDS
    if relpath.endswith("comprehension.py"):
        assert set(state.result()) == {run.id for run in children}
    print(f"{relpath}: {timeline}")


@pytest.mark.parametrize("relpath", FIXED)
def test_fixed_loop_starts_all_children_then_waits(prefect_runtime, served_child, relpath):
    started = time.monotonic()
    state = run_parent(prefect_runtime, relpath)
    elapsed = time.monotonic() - started

    assert state.is_completed(), state
    parent_run = prefect_runtime.flow_run(state.state_details.flow_run_id)
    children = children_by_creation(prefect_runtime, parent_run)
    timeline = describe(prefect_runtime, parent_run, children, elapsed)
    # includes: the parent ended only after the last child ended (the fix still waits)
    assert_children_ran(prefect_runtime, parent_run, children, timeline)

    # timeout=0: the parent did not wait for a child before creating the next one.
    # Not [True, True]: a create that the SQLite test server answers with 503 is
    # retried after ~2/4/8 s, so one child may be created after its predecessor
    # ended (CI saw children created at 0.1, 0.2 and 15.1 s). The flagged shape
    # can never create a child before the previous one ended, so one overlap
    # (with two children running at once) already tells the shapes apart.
    assert any(created_before_previous_ended(children)), timeline
    assert prefect_runtime.max_concurrency(children) >= 2, timeline
    if relpath.endswith("comprehension.fixed.py"):
        assert set(state.result()) == {run.id for run in children}
    print(f"{relpath}: {timeline}")


def test_fixed_flow_runs_keep_their_creation_state(prefect_runtime, served_child):
    """After ``wait(...)`` the FlowRun objects returned by ``run_deployment(timeout=0)``
    still say Scheduled; the futures carry the final Completed state. Code reading
    ``flow_run.state`` after the loop must read it from the future (or re-read the run)."""
    from prefect import flow
    from prefect.deployments import run_deployment
    from prefect.futures import PrefectFlowRunFuture, wait

    @flow
    def parent_reading_states(regions: list[str]) -> tuple[list[str], list[str]]:
        flow_runs = [
            run_deployment(DEPLOYMENT, parameters={"region": region}, timeout=0)
            for region in regions
        ]
        futures = [PrefectFlowRunFuture(flow_run_id=flow_run.id) for flow_run in flow_runs]
        done, not_done = wait(futures)
        assert not not_done and done == set(futures)
        return (
            [flow_run.state.type.value for flow_run in flow_runs],
            [future.state.type.value for future in futures],
        )

    state = parent_reading_states(REGIONS, return_state=True)

    assert state.is_completed(), state
    assert state.result() == (["SCHEDULED"] * 3, ["COMPLETED"] * 3)
    children = children_by_creation(
        prefect_runtime, prefect_runtime.flow_run(state.state_details.flow_run_id)
    )
    assert [run.state_type.value for run in children] == ["COMPLETED"] * 3


def test_gathered_run_deployment_in_async_flow_overlaps(prefect_runtime, served_child):
    """The near miss: awaited ``run_deployment`` calls gathered in an async flow.

    Runs ``parent`` (list comprehension); ``parent_generator`` is the same call
    with a generator expression and is only checked statically. The children sleep
    10 s here: the three concurrent creations contend for the SQLite write lock and
    the retries (~2 s, ~4 s) stagger them by up to ~6 s."""
    relpath = "PFL106/ok_runtime_gather.py"
    started = time.monotonic()
    state = run_parent(prefect_runtime, relpath)
    elapsed = time.monotonic() - started

    assert state.is_completed(), state
    parent_run = prefect_runtime.flow_run(state.state_details.flow_run_id)
    children = children_by_creation(prefect_runtime, parent_run)
    timeline = describe(prefect_runtime, parent_run, children, elapsed)
    assert_children_ran(prefect_runtime, parent_run, children, timeline, seconds=GATHER_SECONDS)
    assert {run.parameters["seconds"] for run in children} == {GATHER_SECONDS}
    # impossible if each call waited for its child before the next was made
    assert any(created_before_previous_ended(children)), timeline
    assert prefect_runtime.max_concurrency(children) >= 2, timeline
    print(f"{relpath}: {timeline}")


def wait_until_final(prefect_runtime: Any, parent_run: Any, count: int) -> list[Any]:
    """The parent's children once all ``count`` are final (they outlive a bounded wait)."""
    deadline = time.monotonic() + 60
    while True:
        children = children_by_creation(prefect_runtime, parent_run)
        if len(children) == count and all(run.state.is_final() for run in children):
            return children
        assert time.monotonic() < deadline, [run.state for run in children]
        time.sleep(0.5)


@pytest.mark.parametrize(
    "relpath", ["PFL106/runtime_timeout.py", "PFL106/runtime_timeout.fixed.py"]
)
def test_user_timeout_still_bounds_the_wait(prefect_runtime, served_child, relpath):
    """``run_deployment(..., timeout=2)`` stops waiting for a 6 s child after 2 s and returns;
    the fix starts all runs with ``timeout=0`` and carries the 2 s into
    ``wait([...], timeout=2)``: the parent again moves on before its children end (without
    the carried timeout it would wait the full 6 s for them)."""
    started = time.monotonic()
    state = run_parent(prefect_runtime, relpath)
    elapsed = time.monotonic() - started

    assert state.is_completed(), state
    parent_run = prefect_runtime.flow_run(state.state_details.flow_run_id)
    running = children_by_creation(prefect_runtime, parent_run)
    assert len(running) == 3, running
    fixed = relpath.endswith(".fixed.py")
    # The parent ended while children were still running: the wait was bounded. The flagged
    # loop waits 2 s per call, one call after another, so its first 6 s child may be done by
    # then (timing on a loaded machine); the fixed flow waits 2 s once for all three.
    final = [run.state.is_final() for run in running]
    assert not (any(final) if fixed else all(final)), [r.state for r in running]
    children = wait_until_final(prefect_runtime, parent_run, 3)
    timeline = describe(prefect_runtime, parent_run, children, elapsed)
    assert all(run.state.is_completed() for run in children), timeline
    assert parent_run.end_time < max(run.end_time for run in children), timeline
    if fixed:
        assert parent_run.end_time < min(run.end_time for run in children), timeline
        # one bounded wait for all three after they were started, not one per child
        last_created = max(run.created for run in children)
        assert (parent_run.end_time - last_created).total_seconds() < 6, timeline
    print(f"{relpath}: {timeline}")
