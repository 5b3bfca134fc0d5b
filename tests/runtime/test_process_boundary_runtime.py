"""Process-boundary rules (PFL201-PFL204): runtime proof under a real ProcessPoolTaskRunner.

The pool uses the spawn start method and cloudpickles everything it sends either way.

* PFL201: the task run is Completed in the API, then `.result()` raises
  `TypeError: cannot pickle 'sqlite3.Connection' object` and fails the flow; on threads the
  flow gets the connection.
* PFL202: under the pool the submit fails before a task run exists; on threads the task
  completes but logs "Error encountered when computing cache key", which `NO_CACHE` silences.
* PFL203: a flow (or a task) that uses a module-level lock fails every submit, with no task
  run. The fixtures are imported here, not run as scripts: the decorated function is pickled
  by value either way (its module attribute is the Flow/Task, not the function).
* PFL204: run as a script without a main guard, the spawned children re-run the file, start
  flow runs of their own and die while bootstrapping: `BrokenProcessPool`. Guarded, it works.
"""

from __future__ import annotations

import contextlib
import logging
import os
import subprocess
import sys
from collections.abc import Iterator

import pytest

pytest.importorskip("prefect")

pytestmark = pytest.mark.runtime

CACHE_KEY_ERROR = "Error encountered when computing cache key - result will not be persisted."
BROKEN_POOL = (
    "BrokenProcessPool: A process in the process pool was terminated abruptly while the "
    "future was running or pending."
)
BOOTSTRAP_ERROR = (
    "An attempt has been made to start a new process before the\n"
    "        current process has finished its bootstrapping phase."
)


def task_name(run) -> str:
    return run.name.rsplit("-", 1)[0]


def describe(runs) -> list[tuple[str, str, str | None]]:
    return [(run.name, run.state_type.value, run.state.message) for run in runs]


@contextlib.contextmanager
def task_run_logs() -> Iterator[list[logging.LogRecord]]:
    """Records of Prefect's task-run logger, whatever its propagation settings."""
    records: list[logging.LogRecord] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    handler = Collect(level=logging.DEBUG)
    logger = logging.getLogger("prefect.task_runs")
    logger.addHandler(handler)
    try:
        yield records
    finally:
        logger.removeHandler(handler)


def cache_key_errors(records: list[logging.LogRecord]) -> list[logging.LogRecord]:
    return [r for r in records if r.levelno == logging.ERROR and r.getMessage() == CACHE_KEY_ERROR]


def assert_flow_failed_with(prefect_runtime, state, exc_type: type, message: str):
    """The flow run is Failed because `exc_type: message` escaped its body."""
    expected = f"Flow run encountered an exception: {exc_type.__name__}: {message}"
    assert state.is_failed(), state
    assert state.message == expected
    with pytest.raises(exc_type) as excinfo:
        state.result()
    assert str(excinfo.value) == message
    flow_run = prefect_runtime.flow_run(state.state_details.flow_run_id)
    assert flow_run.state.is_failed()
    assert flow_run.state.message == expected
    return flow_run, excinfo


# -- PFL201 unpicklable-return ------------------------------------------------------------


def test_pfl201_task_completes_but_its_result_cannot_come_back(prefect_runtime):
    module = prefect_runtime.load("PFL201/runtime_return.py")

    state = module.pfl201_parent(return_state=True)

    flow_run, _ = assert_flow_failed_with(
        prefect_runtime, state, TypeError, "cannot pickle 'sqlite3.Connection' object"
    )
    runs = prefect_runtime.task_runs(flow_run.id, expected=1)
    assert [task_name(run) for run in runs] == ["open_db"], describe(runs)
    # the task itself ran to the end in the child process
    assert runs[0].state.is_completed(), describe(runs)


def test_pfl201_fixed_runs_on_threads(prefect_runtime):
    module = prefect_runtime.load("PFL201/runtime_return.fixed.py")

    state = module.pfl201_parent(return_state=True)

    assert state.is_completed(), state
    assert state.result() == 42


# -- PFL202 unpicklable-argument ----------------------------------------------------------


def test_pfl202_process_pool_submit_fails_without_a_task_run(prefect_runtime):
    relpath = "PFL202/runtime_process.py"
    module = prefect_runtime.load(relpath)

    state = module.pfl202_process_parent(return_state=True)

    flow_run, excinfo = assert_flow_failed_with(
        prefect_runtime, state, TypeError, "cannot pickle '_thread.lock' object"
    )
    raised_at = prefect_runtime.raising_lines(excinfo.value, prefect_runtime.fixture_path(relpath))
    assert raised_at == prefect_runtime.marked_lines(relpath, "PFL202")
    # pickling failed in the flow's process: no task run was ever created
    assert prefect_runtime.task_runs(flow_run.id, expected=1, timeout=2.0) == []


def test_pfl202_with_as_file_fails_without_a_task_run(prefect_runtime, tmp_path):
    relpath = "PFL202/runtime_with_as.py"
    module = prefect_runtime.load(relpath)
    data = tmp_path / "data.bin"
    data.write_bytes(b"12345")

    state = module.pfl202_with_parent(str(data), return_state=True)

    flow_run, excinfo = assert_flow_failed_with(
        prefect_runtime, state, TypeError, "cannot pickle '_io.BufferedReader' object"
    )
    raised_at = prefect_runtime.raising_lines(excinfo.value, prefect_runtime.fixture_path(relpath))
    assert raised_at == prefect_runtime.marked_lines(relpath, "PFL202")
    assert prefect_runtime.task_runs(flow_run.id, expected=1, timeout=2.0) == []


def test_pfl202_with_as_fixed_runs_on_threads(prefect_runtime, tmp_path):
    module = prefect_runtime.load("PFL202/runtime_with_as.fixed.py")
    data = tmp_path / "data.bin"
    data.write_bytes(b"12345")

    state = module.pfl202_with_parent(str(data), return_state=True)

    assert state.is_completed(), state
    assert state.result() == 5


def test_pfl202_process_fixed_runs_on_threads_without_cache_error(prefect_runtime):
    module = prefect_runtime.load("PFL202/runtime_process.fixed.py")

    with task_run_logs() as records:
        state = module.pfl202_process_parent(return_state=True)

    assert state.is_completed(), state
    assert state.result() == 42
    assert cache_key_errors(records) == []


def test_pfl202_threads_log_cache_key_error_and_still_complete(prefect_runtime):
    module = prefect_runtime.load("PFL202/runtime_cache.py")

    with task_run_logs() as records:
        state = module.pfl202_cache_parent(return_state=True)

    assert state.is_completed(), state
    assert state.result() == 2
    errors = cache_key_errors(records)
    assert len(errors) == 1, [r.getMessage() for r in records]
    assert errors[0].exc_info is not None
    hash_error = str(errors[0].exc_info[1])
    assert "Unable to create hash - objects could not be serialized." in hash_error
    assert "Pickle error: cannot pickle 'sqlite3.Connection' object" in hash_error
    flow_run = prefect_runtime.flow_run(state.state_details.flow_run_id)
    runs = prefect_runtime.task_runs(flow_run.id, expected=1)
    assert [task_name(run) for run in runs] == ["count_rows"], describe(runs)
    assert runs[0].state.is_completed(), describe(runs)


def test_pfl202_no_cache_silences_the_error(prefect_runtime):
    module = prefect_runtime.load("PFL202/runtime_cache.fixed.py")

    with task_run_logs() as records:
        state = module.pfl202_cache_parent(return_state=True)

    assert state.is_completed(), state
    assert state.result() == 2
    assert cache_key_errors(records) == []
    assert not [r for r in records if r.levelno >= logging.ERROR], [r.getMessage() for r in records]


# -- PFL205 unhashable-task-input ---------------------------------------------------------


def test_pfl205_annotated_connection_logs_cache_key_error(prefect_runtime):
    module = prefect_runtime.load("PFL205/runtime_cache.py")

    with task_run_logs() as records:
        state = module.pfl205_parent(return_state=True)

    assert state.is_completed(), state
    assert state.result() == 3
    errors = cache_key_errors(records)
    assert len(errors) == 1, [r.getMessage() for r in records]
    assert errors[0].exc_info is not None
    hash_error = str(errors[0].exc_info[1])
    assert "Pickle error: cannot pickle 'sqlite3.Connection' object" in hash_error


def test_pfl205_no_cache_silences_the_error(prefect_runtime):
    module = prefect_runtime.load("PFL205/runtime_cache.fixed.py")

    with task_run_logs() as records:
        state = module.pfl205_parent(return_state=True)

    assert state.is_completed(), state
    assert state.result() == 3
    assert not [r for r in records if r.levelno >= logging.ERROR], [r.getMessage() for r in records]


# -- PFL203 unpicklable-global ------------------------------------------------------------


@pytest.mark.parametrize(
    ("relpath", "flow_name"),
    [
        ("PFL203/runtime_global.py", "pfl203_parent"),
        ("PFL203/runtime_task_global.py", "pfl203_task_parent"),
    ],
    ids=["flow-global", "task-global"],
)
def test_pfl203_global_lock_fails_every_submit(prefect_runtime, relpath, flow_name):
    module = prefect_runtime.load(relpath)

    state = getattr(module, flow_name)(return_state=True)

    flow_run, _ = assert_flow_failed_with(
        prefect_runtime, state, TypeError, "cannot pickle '_thread.lock' object"
    )
    assert prefect_runtime.task_runs(flow_run.id, expected=1, timeout=2.0) == []


@pytest.mark.parametrize(
    ("relpath", "flow_name", "expected"),
    [
        ("PFL203/runtime_global.fixed.py", "pfl203_parent", [2, 4]),
        ("PFL203/runtime_task_global.fixed.py", "pfl203_task_parent", 42),
    ],
    ids=["flow-global", "task-global"],
)
def test_pfl203_fixed_runs_on_threads(prefect_runtime, relpath, flow_name, expected):
    module = prefect_runtime.load(relpath)

    state = getattr(module, flow_name)(return_state=True)

    assert state.is_completed(), state
    assert state.result() == expected


# -- PFL204 missing-main-guard ------------------------------------------------------------


def run_script(prefect_runtime, api_url: str, relpath: str) -> subprocess.CompletedProcess[str]:
    """Run a fixture as `python <file>` against the session's Prefect server."""
    env = {
        **os.environ,
        "PREFECT_API_URL": api_url,
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONIOENCODING": "utf-8",
    }
    path = prefect_runtime.fixture_path(relpath)
    return subprocess.run(
        [sys.executable, str(path)],
        cwd=path.parent,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )


def flow_runs_named(prefect_runtime, name: str) -> list:
    from prefect.client.schemas.filters import FlowFilter, FlowFilterName

    with prefect_runtime.client() as client:
        return client.read_flow_runs(flow_filter=FlowFilter(name=FlowFilterName(any_=[name])))


def test_pfl204_unguarded_script_breaks_the_pool(prefect_runtime, prefect_test_server):
    # the fixed script's flow has the same name: count only this script's runs
    before = {run.id for run in flow_runs_named(prefect_runtime, "pfl204-nightly")}

    proc = run_script(prefect_runtime, prefect_test_server, "PFL204/runtime_noguard.py")

    assert proc.returncode != 0, proc.stdout
    assert "result=" not in proc.stdout
    assert BROKEN_POOL in proc.stderr, proc.stderr[-3000:]
    # the spawned child re-ran the whole script and failed while bootstrapping
    assert BOOTSTRAP_ERROR in proc.stderr, proc.stderr[-3000:]
    runs = [r for r in flow_runs_named(prefect_runtime, "pfl204-nightly") if r.id not in before]
    messages = sorted(run.state.message or "" for run in runs)
    # the script's own run, plus at least one started by a child re-running the file
    assert len(runs) >= 2, messages
    assert all(run.state.is_failed() for run in runs), messages
    assert f"Flow run encountered an exception: {BROKEN_POOL}" in messages, messages
    assert any(BOOTSTRAP_ERROR in message for message in messages), messages


def test_pfl204_guarded_script_completes(prefect_runtime, prefect_test_server):
    before = {run.id for run in flow_runs_named(prefect_runtime, "pfl204-nightly")}

    proc = run_script(prefect_runtime, prefect_test_server, "PFL204/runtime_noguard.fixed.py")

    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.strip().splitlines()[-1] == "result=42"
    runs = [r for r in flow_runs_named(prefect_runtime, "pfl204-nightly") if r.id not in before]
    assert len(runs) == 1, describe(runs)
    assert runs[0].state.is_completed(), describe(runs)
    task_runs = prefect_runtime.task_runs(runs[0].id, expected=1)
    assert [task_name(run) for run in task_runs] == ["double"], describe(task_runs)
    assert task_runs[0].state.is_completed(), describe(task_runs)
