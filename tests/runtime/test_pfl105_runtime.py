"""PFL105 wait-import: runtime proof under real Prefect.

* The flagged code (``from prefect import wait`` / ``as_completed``) cannot
  even be imported: ``ImportError: cannot import name 'wait' from 'prefect'``.
* The fixed code imports them from ``prefect.futures``, and its flow runs:
  every submitted task run ends Completed and the flow returns the values.
"""

from __future__ import annotations

import sys

import pytest

pytest.importorskip("prefect")

import prefect
import prefect.futures

pytestmark = pytest.mark.runtime

CASES = [
    # fixture stem, the name imported from the wrong module
    ("PFL105/import_wait", "wait"),
    ("PFL105/import_as_completed", "as_completed"),
]
IDS = [case[0] for case in CASES]


@pytest.mark.parametrize(("stem", "name"), CASES, ids=IDS)
def test_flagged_import_raises_import_error(prefect_runtime, stem, name):
    relpath = f"{stem}.py"
    modules_before = set(sys.modules)

    with pytest.raises(ImportError) as excinfo:
        prefect_runtime.load(relpath)

    assert str(excinfo.value) == (
        f"cannot import name {name!r} from 'prefect' ({prefect.__file__})"
    )
    assert excinfo.value.name == "prefect"
    # raised by the import line the fixture marks
    path = prefect_runtime.fixture_path(relpath)
    raised_at = prefect_runtime.raising_lines(excinfo.value, path)
    assert raised_at == prefect_runtime.marked_lines(relpath, "PFL105")
    assert not any(m.startswith("_pfl_runtime_fixture_") for m in set(sys.modules) - modules_before)
    # the name really is not importable from the top-level package
    assert not hasattr(prefect, name)


@pytest.mark.parametrize(("stem", "name"), CASES, ids=IDS)
def test_fixed_import_runs_and_waits_for_every_task(prefect_runtime, stem, name):
    module = prefect_runtime.load(f"{stem}.fixed.py")
    assert getattr(module, name) is getattr(prefect.futures, name)

    state = module.parent(return_state=True)

    assert state.is_completed(), state
    assert state.result() == [0, 1, 4]

    flow_run_id = state.state_details.flow_run_id
    assert prefect_runtime.flow_run(flow_run_id).state.is_completed()
    task_runs = prefect_runtime.task_runs(flow_run_id, expected=3)
    assert len(task_runs) == 3, task_runs
    assert all(run.state.is_completed() for run in task_runs), [
        (run.name, run.state) for run in task_runs
    ]
    assert {run.name.rsplit("-", 1)[0] for run in task_runs} == {"square"}
